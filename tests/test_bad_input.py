"""Bad input: each case fails with a clear message and leaves the published year untouched."""

import hashlib
from pathlib import Path

import pytest

from trade_pipeline import cli

from .support import (
    LocalServer,
    dgddi_line,
    hostile_zip,
    html_answer,
    packaged_label,
    reset_answer,
    serve_then,
    slow_answer,
    small_lines,
    status_answer,
    truncated_answer,
    year_zip,
    zip_bytes,
)

pytestmark = pytest.mark.slow

YEAR = 2024


@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    """A data directory where 2024 was built and published from good files."""
    root = tmp_path_factory.mktemp("bad_input")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADE_PIPELINE_DATA_DIR", str(root / "data"))
        patch.setenv("DAGSTER_HOME", str(root / "data" / "dagster"))
        patch.setenv("TRADE_PIPELINE_HTTP_ATTEMPTS", "2")
        patch.setenv("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
        good = root / "good"
        good.mkdir()
        for flow in "EI":
            word = "export" if flow == "E" else "import"
            (good / f"202502-Regional-{YEAR}-{word}.zip").write_bytes(year_zip(YEAR, flow))
        assert cli.main(["build", "--year", str(YEAR), "--source", str(good)]) == 0
        yield root, patch


def state(data: Path) -> tuple:
    store = data / "published" / "trade.duckdb"
    return hashlib.sha256(store.read_bytes()).hexdigest(), store.stat().st_mtime_ns


def raw_state(data: Path) -> dict[str, bytes]:
    """Every file of the raw store, by path: the last good files must stay exactly as they were."""
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted((data / "raw").rglob("*")) if p.is_file()}


def bad_dir(root: Path, name: str, export: bytes | None = None, import_: bytes | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    if export is not None:
        (folder / f"202502-Regional-{YEAR}-export.zip").write_bytes(export)
    if import_ is not None:
        (folder / f"202502-Regional-{YEAR}-import.zip").write_bytes(import_)
    return folder


def with_line(lines: list[str], index: int, line: str) -> list[str]:
    changed = list(lines)
    changed[index] = line
    return changed


GOOD_E, GOOD_I = year_zip(YEAR, "E"), year_zip(YEAR, "I")
LINES_E = small_lines(YEAR, "E")


def _truncated() -> bytes:
    return GOOD_E[: len(GOOD_E) // 2]


def _zip_without_data() -> bytes:
    return zip_bytes({f"Regional-{YEAR}-export/Libelle_PAYS.txt": packaged_label("Libelle_PAYS.txt")})


CASES = {
    "missing file": (lambda: (None, GOOD_I), ["no export data file for 2024"]),
    "truncated zip": (lambda: (_truncated(), GOOD_I), ["202502-Regional-2024-export.zip", "damaged or truncated zip"]),
    "zip without data file": (lambda: (_zip_without_data(), GOOD_I), ["no export data file for 2024"]),
    "wrong number of fields": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 1, LINES_E[1] + ";42")), GOOD_I),
        ["Region_2024_Export.txt, line 2: expected 10 fields, found 11"]),
    "non-numeric value": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 2, LINES_E[2].replace(";2500000;", ";2,5E6;"))), GOOD_I),
        ["Region_2024_Export.txt, line 3, column 9 valeur (value_eur): '2,5E6' is not an integer"]),
    "negative value": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 0, LINES_E[0].replace(";1200000;", ";-1200000;"))), GOOD_I),
        ["line 1, column 9 valeur (value_eur): '-1200000' must be ≥ 0"]),
    "unknown département code": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 3, dgddi_line("E", 4, YEAR, "98", "12", "A01Z", "0111", "NA", 5, 4))), GOOD_I),
        ["line 4, column 4 code_departement (department_code): '98' not an allowed value"]),
    "région inconsistent with département": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 0, LINES_E[0].replace(";34;12;", ";34;13;"))), GOOD_I),
        ["line 1, column 5 code_region (region_code): '13' is not the région of this département"]),
    "rows of another year": (
        lambda: (year_zip(YEAR, "E", with_line(LINES_E, 4, LINES_E[4].replace(f";{YEAR};", ";2023;"))), GOOD_I),
        ["line 5, column 3 annee (year): '2023' is not the year being loaded"]),
    "empty file": (lambda: (year_zip(YEAR, "E", []), GOOD_I), ["Region_2024_Export.txt: the file is empty"]),
    "undecodable label file": (
        lambda: (year_zip(YEAR, "E", labels={"Libelle_PAYS.txt": b"AD;Andorre\x81\x90;190001;999912\r\n"}), GOOD_I),
        ["Libelle_PAYS.txt: cannot decode the file as UTF-8 or Windows-1252"]),
    "path traversal member": (lambda: (hostile_zip("traversal"), GOOD_I), ["escapes the archive with '..'; refused"]),
    "absolute path member": (lambda: (hostile_zip("absolute"), GOOD_I), ["'/tmp/evil.txt' has an absolute path"]),
    "symbolic link member": (lambda: (hostile_zip("symlink"), GOOD_I), ["is a symbolic link; refused"]),
    "zip bomb": (lambda: (hostile_zip("bomb"), GOOD_I), ["refused as a possible zip bomb"]),
    "HTML page named .zip": (lambda: (b"<html><body>Erreur 500</body></html>", GOOD_I),
                             ["202502-Regional-2024-export.zip: not a zip file (it holds an HTML page)"]),
    "duplicate keys": (
        lambda: (year_zip(YEAR, "E", LINES_E + [LINES_E[0].replace(";1200000;", ";7;")]), GOOD_I),
        ["no_duplicate_keys: 2 failing rows", "2024 was not stored"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_clearly_and_keeps_the_published_year(good_build, case, capsys):
    root, _ = good_build
    data = root / "data"
    before = state(data)
    make, expected = CASES[case]
    export, import_ = make()
    source = bad_dir(root, case.replace(" ", "_"), export, import_)
    assert cli.main(["build", "--year", str(YEAR), "--source", str(source)]) == 1
    error = capsys.readouterr().err
    for phrase in expected:
        assert phrase in error, error
    assert state(data) == before
    assert not list(root.parent.rglob("evil.txt")) and not Path("/tmp/evil.txt").exists()


NETWORK_FAULTS = {
    "HTTP 404": (status_answer(404), "HTTP 404 Not Found"),
    "HTTP 500 every time": (status_answer(500), "failed after 2 attempt(s): HTTP 500"),
    "timeout": (slow_answer(GOOD_E, 2.0), "ReadTimeout"),
    "connection reset": (reset_answer, "reset by peer"),
    "truncated body": (truncated_answer(GOOD_E), "without sending complete message body"),
    "HTML page instead of the zip": (html_answer, "expected a zip, received an HTML page"),
}


@pytest.mark.parametrize("fault", list(NETWORK_FAULTS))
def test_network_fault_fails_clearly_and_keeps_the_last_good_year(good_build, fault, capsys, monkeypatch):
    root, _ = good_build
    data = root / "data"
    before, raw_before = state(data), raw_state(data)
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_TIMEOUT", "0.5")
    answer, cause = NETWORK_FAULTS[fault]
    with LocalServer() as server:
        serve_then(server, "/fichiers/202502-Regional-2024-export.zip", [], answer)
        url = server.url + "/fichiers/202502-Regional-2024-export.zip"
        assert cli.main(["build", "--year", str(YEAR), "--source", url]) == 1
    error = capsys.readouterr().err
    assert url in error and cause in error, error
    assert state(data) == before and raw_state(data) == raw_before
    assert not [p for p in (data / "raw").rglob("*") if ".staging" in p.parts and p.is_file()]


def test_changed_listing_page_fails_clearly_and_keeps_the_last_good_year(good_build, capsys, monkeypatch):
    root, _ = good_build
    data = root / "data"
    before, raw_before = state(data), raw_state(data)
    with LocalServer() as server:
        server.serve_bytes("/listing", b"<html><body><div id='app'></div></body></html>", "text/html")
        monkeypatch.setenv("TRADE_PIPELINE_LISTING_URL", server.url + "/listing")
        assert cli.main(["build", "--year", str(YEAR), "--source", "dgddi"]) == 1
    error = capsys.readouterr().err
    assert f"{server.url}/listing: no regional annual zip link" in error
    assert state(data) == before and raw_state(data) == raw_before
