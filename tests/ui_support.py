"""Start `dagster dev` from a test (from Python, so that it stops cleanly) and talk GraphQL to it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGINT, timeout: float = 30) -> None:
    """Stop a service and the processes it started (its own session), forcefully if it hangs."""
    if process and process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _start(command: list[str], env: dict, log_path: Path, cwd: Path = ROOT) -> subprocess.Popen:
    with open(log_path, "a") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait(ready, what: str, processes: list[subprocess.Popen], logs: list[Path], timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while time.time() < deadline:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a process exited: {log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{what} not ready within {timeout} s")


class DagsterWeb:
    """The GraphQL API of a Dagster web server, as the UI uses it."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def location_loaded(self) -> bool:
        with urllib.request.urlopen(self.url + "/server_info", timeout=2):
            pass
        data = self.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                            "locationOrLoadError { __typename } } } } }")
        entries = data["workspaceOrError"]["locationEntries"]
        return bool(entries) and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"] and
                                     e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url + "/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(payload["errors"])
        return payload["data"]

    def materialize(self, assets: list[str], partition: str | None = None, timeout: float = 300) -> str:
        """What the UI's « Materialize » button sends for one partition: a run (not a backfill);
        waits for its end and returns its status."""
        tags = [{"key": "dagster/partition", "value": partition}] if partition else []
        launched = self.graphql(LAUNCH_RUN, {"params": {
            "selector": {"repositoryLocationName": "trade_pipeline", "repositoryName": "__repository__",
                         "jobName": "__ASSET_JOB", "assetSelection": [{"path": [a]} for a in assets]},
            "executionMetadata": {"tags": tags}}})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.graphql(RUN, {"id": run_id})["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise AssertionError(f"run of {assets} for {partition} did not finish in {timeout} s")


LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""

RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


# Enough for a whole test at one tick a second: a shorter window would drop the older ticks
# a test compares against (they are kept; only the window moved).
TICKS = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { sensorState { ticks(limit: 2000) { status skipReason runIds timestamp } } } } }"""
SELECTOR = {"repositoryLocationName": "trade_pipeline", "repositoryName": "__repository__", "sensorName": "trade_automation"}


def ticks(ui: DagsterWeb) -> list[dict]:
    """The sensor's finished ticks (one still evaluating has no outcome yet)."""
    listed = ui.graphql(TICKS, {"selector": SELECTOR})["sensorOrError"]["sensorState"]["ticks"]
    return [t for t in listed if t["status"] != "STARTED"]


def wait_for_ticks(ui: DagsterWeb, count: int, after: float, timeout: float = 120) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        later = [t for t in ticks(ui) if t["timestamp"] > after]
        if len(later) >= count:
            return later
        time.sleep(1)
    raise AssertionError(f"the automation sensor did not tick {count} times in {timeout} s")


class DagsterDev(DagsterWeb):
    """The README's UI command, `trade-pipeline dev`, on a data directory (web server, daemon and
    code location in one command), started as a reader does: from the repository, the
    virtualenv not on PATH."""

    def __init__(self, data_dir: Path, log_path: Path, **variables: str):
        self.data_dir = data_dir
        self.variables = variables
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> DagsterDev:
        env = {**os.environ, "PATH": "/usr/bin:/bin", "TRADE_PIPELINE_DATA_DIR": str(self.data_dir),
               "DAGSTER_DISABLE_TELEMETRY": "1", **self.variables}
        env.pop("DAGSTER_HOME", None)  # the command sets it: the data directory's instance
        self.log_path.write_text("")
        self.process = _start([_tool("trade-pipeline"), "dev", "--host", "127.0.0.1", "--port", str(self.port)],
                              env, self.log_path)
        _wait(self.location_loaded, "trade-pipeline dev", [self.process], [self.log_path])
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.process)
        # No warning that contradicts the README (« the dagster.yaml file will not be used »).
        if exc[0] is None:
            assert "will not be used" not in self.log_path.read_text(encoding="utf-8", errors="replace")


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


#: The production guide, whose commands the production test runs as written.
PRODUCTION_GUIDE = ROOT / "docs" / "production.md"


def guide_commands() -> dict[str, str]:
    """The commands of the guide's « One process per service » block, by service: exactly as a
    reader copies them (with `$REPO`, the repository, and the guide's ports)."""
    text = PRODUCTION_GUIDE.read_text(encoding="utf-8")
    block = text[text.index("**One process per service**"):]
    block = block[block.index("```bash") + len("```bash"):]
    lines = [line.strip() for line in block[:block.index("```")].splitlines() if line.strip()]
    services = {"instance": "trade-pipeline instance", "code-server": "dagster code-server start",
                "webserver": "dagster-webserver", "daemon": "dagster-daemon run"}
    found = {name: next(line for line in lines if marker in line) for name, marker in services.items()}
    return {name: line.split("  #")[0].strip() for name, line in found.items()}


def guide_port(command: str, flag: str = "-p") -> int:
    words = command.split()
    return int(words[words.index(flag) + 1])


class ProductionServices(DagsterWeb):
    """The production layout, started with the guide's own commands (docs/production.md): the
    code location served on its own by `dagster code-server start`, the web server and the
    daemon as separate processes loading it through deploy/workspace.yaml — run by bash as
    written, from `cwd` (not the repository), with `REPO` set as the guide asks."""

    def __init__(self, environment: dict[str, str], folder: Path, cwd: Path):
        self.env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1", "REPO": str(ROOT), **environment}
        self.folder, self.cwd = folder, cwd
        self.commands = guide_commands()
        self.port, self.code_port = guide_port(self.commands["webserver"]), guide_port(self.commands["code-server"])
        for port in (self.port, self.code_port):  # the guide's ports: a service already there is not ours
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise AssertionError(f"port {port} of the production guide is taken on this machine")
        self.processes: dict[str, subprocess.Popen] = {}

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def shell(self, command: str) -> subprocess.CompletedProcess:
        """One line of the guide, run to its end by bash in `cwd`."""
        return subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True)

    def _launch(self, name: str) -> subprocess.Popen:
        self.processes[name] = _start(["bash", "-c", "exec " + self.commands[name]], self.env, self.log(name),
                                      cwd=self.cwd)
        return self.processes[name]

    def start_daemon(self) -> None:
        self._launch("daemon")

    def stop_daemon(self) -> None:
        _stop(self.processes.pop("daemon"), signal.SIGTERM)

    def __enter__(self) -> ProductionServices:
        code = self._launch("code-server")

        def listening() -> bool:  # the web server then waits for the location to load from it
            with socket.create_connection(("127.0.0.1", self.code_port), timeout=2):
                return True
        _wait(listening, "dagster code-server", [code], [self.log("code-server")], timeout=180)
        web = self._launch("webserver")
        self.start_daemon()
        _wait(self.location_loaded, "dagster-webserver", [web], [self.log("webserver")])
        return self

    def __exit__(self, *exc: object) -> None:
        for name in ("daemon", "webserver", "code-server"):
            _stop(self.processes.pop(name, None))


def chromium() -> str | None:
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("google-chrome")


def browser(playwright):  # noqa: ANN001, ANN201 - playwright types are optional
    """Debian's chromium driven by Playwright (Playwright's own browser download is not used)."""
    return playwright.chromium.launch(
        executable_path=chromium(),
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"])


@contextmanager
def open_browser() -> Iterator:
    """Debian's chromium under Playwright for the length of a `with` block, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = browser(playwright)
        try:
            yield instance
        finally:
            instance.close()


def screenshots(pages: list[tuple[str, Path, str]], size: tuple[int, int] = (1600, 1000)) -> None:
    """Screenshots of several pages (url, path, text to wait for) in one browser."""
    with open_browser() as instance:
        page = instance.new_page(viewport={"width": size[0], "height": size[1]})
        for url, path, wait_for_text in pages:
            page.goto(url, wait_until="networkidle", timeout=60_000)
            page.get_by_text(wait_for_text).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)  # let the graph layout settle
            page.screenshot(path=str(path))


def map_point(page, figure: str, link: str, last_ring: bool = False) -> tuple[float, float]:  # noqa: ANN001
    """Where the département whose click opens `link` is drawn on the screen, in the plotly map
    `figure` (a CSS selector): the middle of its shape, or of its last ring (an inset's copy)."""
    return page.evaluate("""([figure, link, lastRing]) => {
        const gd = document.querySelector(figure + ' .js-plotly-plot');
        const trace = gd.data.find(t => (t.customdata || [])[0] === link);
        const cut = lastRing ? trace.x.lastIndexOf(null) : -1;
        const xs = trace.x.slice(cut + 1).filter(v => v !== null), ys = trace.y.slice(cut + 1).filter(v => v !== null);
        const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
        const layout = gd._fullLayout, box = gd.getBoundingClientRect();
        return [box.left + layout._size.l + layout.xaxis.l2p(cx), box.top + layout._size.t + layout.yaxis.l2p(cy)];
    }""", [figure, link, last_ring])
