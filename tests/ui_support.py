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

from trade_pipeline.instance import render

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DagsterDev:
    def __init__(self, data_dir: Path, log_path: Path, **variables: str):
        self.data_dir = data_dir
        self.variables = variables
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DagsterDev:
        home = self.data_dir / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(render(str(home)), encoding="utf-8")
        env = {**os.environ, "DAGSTER_HOME": str(home), "TRADE_PIPELINE_DATA_DIR": str(self.data_dir),
               "DAGSTER_DISABLE_TELEMETRY": "1", **self.variables}
        dagster = str(Path(sys.executable).with_name("dagster"))
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [dagster, "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/server_info", timeout=2):
                    pass
                if self._location_loaded():
                    return self
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError("dagster dev did not start within 120 s")

    def _location_loaded(self) -> bool:
        data = self.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
        entries = data["workspaceOrError"]["locationEntries"]
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url + "/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(payload["errors"])
        return payload["data"]

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


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
