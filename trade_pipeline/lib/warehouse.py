"""The live DuckDB warehouse (`$TRADE_PIPELINE_DATA_DIR/warehouse/warehouse.duckdb`).

DuckDB allows one writing process per file. Every pipeline step that opens the warehouse first
takes an inter-process file lock, so two refreshes started at once wait for each other (up to
`TRADE_PIPELINE_LOCK_TIMEOUT` seconds, then fail with a clear message) instead of failing on
DuckDB's own lock or interleaving writes. Consumers never open this file: they read the
published snapshot (see `trade_pipeline.publication`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from trade_pipeline.settings import Settings
from trade_pipeline.tables import INGESTIONS, WAREHOUSE

#: DuckDB's own memory for each connection the pipeline opens on its files (the warehouse, the
#: snapshot being published). Its default (80 % of the machine's memory) let the publication's
#: copy of every year's rows grow the process by ≈ 0.45 GB a year (4.8 GiB for ten years at
#: DGDDI scale, docs/benchmarks.md); with this limit DuckDB writes out or spills to its temporary
#: folder instead, at the same speed.
DUCKDB_MEMORY_LIMIT = "1GB"

_locks: dict[Path, FileLock] = {}
_locks_guard = threading.Lock()


class PipelineBusy(RuntimeError):
    """Another pipeline process held the lock for longer than the timeout."""


def pipeline_lock(settings: Settings) -> FileLock:
    """The inter-process lock of a data directory (re-entrant within a process)."""
    path = settings.lock_path
    with _locks_guard:
        if path not in _locks:
            path.parent.mkdir(parents=True, exist_ok=True)
            _locks[path] = FileLock(str(path))
        return _locks[path]


@contextmanager
def holding_pipeline_lock(settings: Settings, timeout: float | None = None,
                          on_wait: Callable[[str], object] | None = None) -> Iterator[None]:
    """The data directory's lock for the duration; `on_wait(message)` is told when another
    process holds it and this one waits (a build that says nothing for minutes looks hung)."""
    lock = pipeline_lock(settings)
    wait = settings.lock_timeout_s if timeout is None else timeout
    try:
        try:
            lock.acquire(timeout=0 if on_wait is not None else wait)
        except Timeout:
            if on_wait is None:
                raise
            on_wait(f"Waiting for another trade_pipeline process{_holder(settings)} writing to {settings.data_dir} "
                    f"(up to {wait:.0f} s, TRADE_PIPELINE_LOCK_TIMEOUT)…")
            lock.acquire(timeout=wait)
    except Timeout:
        holder = _holder(settings)
        raise PipelineBusy(
            f"another trade_pipeline process{holder} is writing to {settings.data_dir}; "
            f"waited {wait:.0f} s (TRADE_PIPELINE_LOCK_TIMEOUT). Try again when it has finished."
        ) from None
    try:
        if lock.lock_counter == 1:
            _pid_file(settings).write_text(str(os.getpid()))
        yield
    finally:
        lock.release()


def _pid_file(settings: Settings) -> Path:
    return settings.lock_path.with_suffix(".pid")


def _holder(settings: Settings) -> str:
    try:
        return f" (pid {_pid_file(settings).read_text().strip()})"
    except OSError:
        return ""


def create_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's tables (idempotent), from the registry."""
    for table in WAREHOUSE.values():
        connection.execute(table.ddl())


def ingested_years(connection: duckdb.DuckDBPyConnection) -> set[int]:
    """The years whose rows the warehouse holds."""
    return {year for (year,) in connection.execute(f"SELECT year FROM {INGESTIONS.name}").fetchall()}


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All of a year's changes at once, or none. On an error (a full disk: DuckDB may already
    have rolled back) the rollback's own failure is not what is reported: the original error is."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield connection
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # no transaction left to roll back: the error says why
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


#: How the operating system says a write did not fit (full disk, quota, file-size limit).
_NO_SPACE = ("No space left on device", "File too large", "Disk quota exceeded")
#: … and other reasons a write fails, as its error texts word them.
_CANNOT_WRITE = ("Permission denied", "Read-only file system", "Not a directory", "Is a directory")


def write_failure_reason(error: BaseException) -> str:
    """Why a write failed, in a few words: the operating system's reason (« No space left on
    device »), not the raw text of the error — DuckDB's wraps it in JSON
    (`{"exception_type":"IO",…,"errno":"28"}`) and Python's adds the errno and the path."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error)
    reason = next((r for r in (*_NO_SPACE, *_CANNOT_WRITE) if r in text), None)
    if reason is not None:
        return reason
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return first.split("{", 1)[0].rstrip(" :") or first


def no_space_message(error: BaseException, path: Path) -> str | None:
    """A readable message when `error` is a write that did not fit; None otherwise."""
    if not any(reason in str(error) for reason in _NO_SPACE) and not (
            isinstance(error, OSError) and error.strerror in _NO_SPACE):
        return None
    return (f"{path}: could not write — {write_failure_reason(error)} (the disk, a quota or a file-size limit is "
            f"full). Nothing already published changed; free some space, then build again.")


#: How SQLite — Dagster's run and event storage — says a write failed (EFBIG and ENOSPC included).
_SQLITE_WRITE_FAILED = ("disk I/O error", "database or disk is full")


def storage_write_message(text: str, dagster_home: Path) -> str | None:
    """A readable message when a run failed because the Dagster instance could not write."""
    reason = next((r for r in _SQLITE_WRITE_FAILED if r in text), None)
    if reason is None:
        return None
    return (f"{dagster_home}: could not write — {reason} in the Dagster instance's storage (most often a full disk, a "
            f"quota or a file-size limit). Nothing already published changed; free some space, then build again.")
