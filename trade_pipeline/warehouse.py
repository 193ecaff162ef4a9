"""The live DuckDB warehouse (`$TRADE_PIPELINE_DATA_DIR/warehouse/warehouse.duckdb`).

DuckDB allows one writing process per file. Every pipeline step that opens the warehouse first
takes an inter-process file lock, so two refreshes started at once wait for each other (up to
`TRADE_PIPELINE_LOCK_TIMEOUT` seconds, then fail with a clear message) instead of failing on
DuckDB's own lock or interleaving writes. Consumers never open this file: they read the
published snapshot (see `trade_pipeline.publication`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from trade_pipeline.partitions import keys_by_year
from trade_pipeline.settings import Settings
from trade_pipeline.tables import WAREHOUSE

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
def holding_pipeline_lock(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    lock = pipeline_lock(settings)
    wait = settings.lock_timeout_s if timeout is None else timeout
    try:
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


@contextmanager
def connect(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse, under the pipeline lock, with its tables."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with holding_pipeline_lock(settings):
        connection = duckdb.connect(str(settings.warehouse_path))
        try:
            create_tables(connection)
            yield connection
        finally:
            connection.close()


def years_with_data(
    connection: duckdb.DuckDBPyConnection, partition_keys: Sequence[str], warn: Callable[[str], object]
) -> dict[int, list[str]]:
    """The requested partitions (`territory|year`) as year → territories, for the years in the
    warehouse only; the others are announced and left alone. Dagster adds the next year to a
    backfill of a year (the marts read the previous year for growth), and the latest year is often
    not published yet: nothing to compute, no error."""
    requested = keys_by_year(partition_keys)
    ingested = {year for (year,) in connection.execute("SELECT year FROM ingestions").fetchall()}
    missing = sorted(set(requested) - ingested)
    if missing:
        warn(f"no data for {', '.join(map(str, missing))} (not ingested yet): nothing computed for "
             f"{'that year' if len(missing) == 1 else 'those years'}")
    return {year: keys for year, keys in requested.items() if year in ingested}
