"""Shared fixtures: an isolated data directory per test, pipeline states built once per session,
pictures only where a test looks at them, and the order that keeps both xdist workers busy."""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .schedule import ordered
from .states import NO_BROWSER, copy_state, run_cli, shared_state

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
os.umask(0o022)  # the usual default, so that file-permission tests mean the same everywhere
os.environ.setdefault("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
warnings.filterwarnings("ignore", message=".*is currently in beta.*")
warnings.filterwarnings("ignore", message=".*is currently in preview.*")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long chains start at once, one per worker (tests/schedule.py)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    items[:] = ordered(items, workers, lambda item: item.path.name)


_CPU_STARTED = pytest.StashKey[float]()


def _machine_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot (Linux /proc/stat), or None:
    it sees what the per-test counts miss (Chromium's renderers, which their browser does not
    wait for, and the PostgreSQL server), and anything else running beside the suite."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / ticks, sum(fields) / ticks


_MACHINE_AT_START = _machine_cpu()


def _cpu_seconds() -> float:
    """CPU of this process and of its finished children (Dagster's processes, Chromium, builds)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_CPU_STARTED] = _cpu_seconds()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Each test's CPU (its shared states' builds included, in the test that waited for them),
    carried by its teardown report to the terminal summary, from every worker."""
    outcome = yield
    if call.when == "teardown" and _CPU_STARTED in item.stash:
        outcome.get_result().user_properties.append(("cpu_seconds", _cpu_seconds() - item.stash[_CPU_STARTED]))


def _write_test_times(terminalreporter: pytest.TerminalReporter, spent: list[tuple[float, str]]) -> None:
    """Every test's CPU and wall time (setup, call and teardown), and each module's sum, in
    test-artifacts/test-times.json: where the suite's time goes, beyond the slowest printed."""
    wall: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) in ("setup", "call", "teardown"):
                wall[report.nodeid] = wall.get(report.nodeid, 0.0) + report.duration
    tests = {nodeid: {"cpu_s": round(cpu, 1), "wall_s": round(wall.get(nodeid, 0.0), 1)} for cpu, nodeid in spent}
    modules: dict[str, dict[str, float]] = {}
    for nodeid, times in tests.items():
        module = modules.setdefault(nodeid.split("::")[0], {"cpu_s": 0.0, "wall_s": 0.0, "tests": 0})
        module["cpu_s"] = round(module["cpu_s"] + times["cpu_s"], 1)
        module["wall_s"] = round(module["wall_s"] + times["wall_s"], 1)
        module["tests"] += 1
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "test-times.json").write_text(json.dumps(
        {"modules": dict(sorted(modules.items(), key=lambda item: -item[1]["cpu_s"])), "tests": tests}, indent=1))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    spent = sorted(((seconds, report.nodeid) for reports in terminalreporter.stats.values() for report in reports
                    if getattr(report, "when", None) == "teardown"
                    for name, seconds in report.user_properties if name == "cpu_seconds"), reverse=True)
    if spent:
        _write_test_times(terminalreporter, spent)
        terminalreporter.section("CPU per test (process and finished children)")
        for seconds, nodeid in spent[:15]:
            terminalreporter.write_line(f"{seconds:8.1f}s  {nodeid}")
        terminalreporter.write_line(f"{sum(s for s, _ in spent):8.1f}s  in all, {len(spent)} tests")
    now = _machine_cpu()
    if _MACHINE_AT_START and now and not os.environ.get("PYTEST_XDIST_WORKER"):
        busy, total = now[0] - _MACHINE_AT_START[0], now[1] - _MACHINE_AT_START[1]
        terminalreporter.write_line(f"{busy:8.1f}s  the machine's CPU during the run, {busy / total:.0%} of its "
                                    f"{os.cpu_count()} cores' time (everything running, Chromium and PostgreSQL included)")


@pytest.fixture(autouse=True)
def _pictures_only_where_asserted(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chart pictures and PDFs cost minutes per year of territories: only the tests marked
    `browser` (they assert on pictures, PDFs or the page in a browser) get Chromium."""
    if request.node.get_closest_marker("browser") is None:
        monkeypatch.setenv("BROWSER_PATH", NO_BROWSER)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRADE_PIPELINE_DATA_DIR (and Dagster instance) for one test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(folder))
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", "sample")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_ATTEMPTS", "3")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_TIMEOUT", "5")
    # prepare_dagster_home() points DAGSTER_HOME here; monkeypatch restores it afterwards.
    monkeypatch.setenv("DAGSTER_HOME", str(folder / "dagster"))
    return folder


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _build_sample(folder: Path) -> None:
    result = run_cli(folder / "data", "build", "--year", "2022", "--year", "2023", "--year", "2024", "--no-fiches",
                     TRADE_PIPELINE_SOURCE="sample")
    assert result.code == 0, result.out[-3000:] + result.err[-3000:]


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample (2022–2024), every territory, built once up to the published store; read only."""
    return shared_state(tmp_path_factory, "sample_build", _build_sample) / "data"


def _build_sample_fiches(folder: Path, sample_build: Path) -> None:
    data = copy_state(sample_build, folder / "data")
    result = run_cli(data, "build", "--year", "2024", pictures=True, TRADE_PIPELINE_SOURCE="sample")
    assert result.code == 0, result.out[-3000:] + result.err[-3000:]


@pytest.fixture(scope="session")
def sample_fiches(tmp_path_factory: pytest.TempPathFactory, sample_build: Path) -> Path:
    """Every territory's 2024 fiche of the sample with its pictures and PDF, the index and the
    Territoires d'industrie pages (2022 and 2023 built too, up to the store); read only."""
    return shared_state(tmp_path_factory, "sample_fiches", lambda folder: _build_sample_fiches(folder, sample_build)) / "data"


def _revised_sources(folder: Path) -> None:
    from .support import change_department_rows

    for name in ("first", "second"):
        result = run_cli(folder, "sample", "--out", str(folder / name), "--year", "2024", "--scale", "0.02")
        assert result.code == 0, result.err
    for archive in (folder / "second").glob("*export*.zip"):
        change_department_rows(archive, "34", 1_000_000)


@pytest.fixture(scope="session")
def revised_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 2024 sample (small), and the same where Hérault's export rows changed."""
    folder = shared_state(tmp_path_factory, "revised_sources", _revised_sources)
    return folder / "first", folder / "second"


def _build_revision(source: Path, *options: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        result = run_cli(folder / "data", "build", "--year", "2024", "--source", str(source), *options)
        assert result.code == 0, result.out[-3000:] + result.err[-3000:]
    return build


@pytest.fixture(scope="session")
def first_build(tmp_path_factory: pytest.TempPathFactory, revised_sources: tuple[Path, Path]) -> Path:
    """A data directory built from the first of `revised_sources` (no pictures): the state a
    refresh, a crash or two concurrent builds start from. Read only: copy it (copy_state)."""
    return shared_state(tmp_path_factory, "first_build", _build_revision(revised_sources[0])) / "data"


@pytest.fixture(scope="session")
def first_store(tmp_path_factory: pytest.TempPathFactory, revised_sources: tuple[Path, Path]) -> Path:
    """`first_build` up to the published store (--no-fiches): for the tests of the warehouse and
    the store, which the fiches' 116 pages would only slow down (about 30 s a build)."""
    return shared_state(tmp_path_factory, "first_store", _build_revision(revised_sources[0], "--no-fiches")) / "data"


@pytest.fixture(scope="session")
def revised_clean_store(tmp_path_factory: pytest.TempPathFactory, revised_sources: tuple[Path, Path]) -> tuple:
    """What a clean --no-fiches build of the revised source leaves (its `support.state`): the
    state every recovery of the warehouse and the store must reach."""
    from .support import state

    return state(shared_state(tmp_path_factory, "revised_clean_store",
                              _build_revision(revised_sources[1], "--no-fiches")) / "data")


def _build_demo_like(folder: Path) -> None:
    result = run_cli(folder, "sample", "--out", str(folder / "source"), "--year", "2023", "--year", "2024",
                     "--scale", "0.02")
    assert result.code == 0, result.err
    for year, fiches in ((2023, False), (2024, True)):
        arguments = ["build", "--year", str(year), "--source", str(folder / "source")]
        result = run_cli(folder / "data", *arguments, *([] if fiches else ["--no-fiches"]))
        assert result.code == 0, result.out[-3000:] + result.err[-3000:]


@pytest.fixture(scope="session")
def demo_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `./scripts/demo` leaves, small: every territory, an earlier year built with
    --no-fiches, then the latest with its fiches (no pictures); read only. Its source is beside
    the data directory (`../source`)."""
    return shared_state(tmp_path_factory, "demo_like", _build_demo_like) / "data"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database on the server `./scripts/test` started (its URL in the
    form Dagster's storage needs), dropped afterwards. Without a server: skipped, saying so —
    except in CI, whose `.ci/run` starts one, where its absence is a failure."""
    admin = os.environ.get("TRADE_PIPELINE_TEST_PG_URL")
    if not admin:
        message = ("no PostgreSQL server for the production-layout tests: ./scripts/test starts one "
                   "(scripts/postgres start), or set TRADE_PIPELINE_TEST_PG_URL")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    import psycopg2

    from trade_pipeline.settings import PG_URL_SCHEME

    def administer(statement: str) -> None:
        connection = psycopg2.connect(admin)
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        try:
            connection.cursor().execute(statement)
        finally:
            connection.close()

    name = f"trade_{uuid.uuid4().hex[:12]}"
    administer(f"CREATE DATABASE {name}")
    server = admin.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"{PG_URL_SCHEME}{server}/{name}"
    administer(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
