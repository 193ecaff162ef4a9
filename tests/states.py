"""Pipeline states the tests start from: built once per test session, copied where a test changes them.

A state is a folder (a data directory, often with the source it was built from). It is built
once per session whatever the number of pytest-xdist workers — the first worker that needs it
builds it under a file lock, the others wait and reuse it — and never changed afterwards: a
test that writes gets its own copy (`copy_state`). Builds run in process (no 6–9 s of imports
per build); only the tests that need a separate process (a SIGKILL, two builds at once) start
one.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from trade_pipeline.orchestration.instance import render

#: BROWSER_PATH of the tests that do not look at pictures: the pipeline finds no Chromium and
#: writes HTML fiches, figures and CSVs only (the pictures are proven by the `browser` tests).
NO_BROWSER = "/nonexistent/chromium"


@contextmanager
def pipeline_environment(data: Path, pictures: bool = False, **variables: str) -> Iterator[None]:
    """TRADE_PIPELINE_DATA_DIR (and its Dagster instance) set to `data` for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADE_PIPELINE_DATA_DIR", str(data))
        patch.setenv("DAGSTER_HOME", str(data / "dagster"))
        patch.setenv("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
        if not pictures:
            patch.setenv("BROWSER_PATH", NO_BROWSER)
        for name, value in variables.items():
            patch.setenv(name, value)
        yield


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(data: Path, *arguments: str, pictures: bool = False, **variables: str) -> CliResult:
    """`trade-pipeline <arguments>` in this process on the data directory `data`."""
    from trade_pipeline import cli

    out, err = io.StringIO(), io.StringIO()
    with pipeline_environment(data, pictures, **variables), redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(arguments))
    return CliResult(code, out.getvalue(), err.getvalue())


def shared_state(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, built by `build(folder)` once for the whole session (all workers)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by its workers
    folder = root / "states" / name
    done = folder.with_name(f"{name}.done")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.with_name(f"{name}.lock"))):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            try:
                build(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            done.touch()
    return folder


def copy_state(state: Path, target: Path) -> Path:
    """A private copy of a state; its Dagster instances point at their own storage."""
    shutil.copytree(state, target, symlinks=True)
    for config in target.rglob("dagster.yaml"):
        config.write_text(render(str(config.parent)), encoding="utf-8")
    return target
