"""Every Dagster API we use that is not public, in one place (Dagster 1.13.27, pinned in pyproject.toml).

Each function says what the public API lacks and where upstream tracks it. The private names are
imported inside the functions, never when this module loads: a Dagster upgrade that removes or
changes one breaks the contract test (tests/test_dagster_internals.py) by name, not the import of
the whole code location. Checked against 1.13.29, the newest release when this was written: none
of them has become public (its package exports the same names). The cron check that
used `dagster._utils.schedules` was dropped: `ScheduleDefinition` validates a cron itself.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Set
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the types our annotations name; Dagster exports none of them
    from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """The tags that make a run cover the partitions `first` … `last` (a single-run backfill).

    `JobDefinition.execute_in_process` and `RunRequest` take one `partition_key`; a range is
    expressed by these two tags (dagster-io/dagster#10441 introduced them; #21560 gave the CLI a
    `--partition-range`, not Python), whose names are constants of `dagster._core.storage.tags`.
    """
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def materialization_version_tags(context: dg.AssetExecutionContext, data_version: str) -> dict[str, str]:
    """The tags by which a partition's `AssetMaterialization` carries its data version and its
    provenance: code version, and the data version and event of each input when the step started.

    A run over a range of partitions can report one scalar data version for all of them
    (dagster-io/dagster#34013, #18649), and `AssetMaterialization` has no `data_version`
    parameter: the per-partition version is given as the tags Dagster itself writes. Without the
    inputs' provenance the UI calls every such partition « Unsynced » (« has a new dependency on
    … »): so the tags are made by Dagster's own functions, from the input versions it read at the
    start of this step — what a single-partition `MaterializeResult` records.
    """
    from dagster._core.execution.plan.execute_step import (
        _build_data_version_tags,
        _get_code_version,
        _get_input_provenance_data,
    )

    step = context.get_step_execution_context()
    return _build_data_version_tags(dg.DataVersion(data_version), _get_code_version(context.asset_key, step),
                                    _get_input_provenance_data(context.asset_key, step), True)


def stale_partitions(instance: dg.DagsterInstance, asset_graph: AssetGraph, key: dg.AssetKey,
                     partitions: Iterable[str | None]) -> dict[str | None, list[str]]:
    """The partitions of `key` that Dagster's UI shows « Unsynced », each with its causes.

    The UI's staleness comes from `CachingStaleStatusResolver`, which Dagster uses in its GraphQL
    layer and exposes no public function for (no upstream issue found); our tests read it to prove
    that what a build leaves current is shown current.
    """
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._time import get_current_datetime

    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=asset_graph)
    resolver = CachingStaleStatusResolver(instance, asset_graph, view)
    return {partition: [f"{cause.reason} ({cause.dependency.asset_key.to_user_string()})" if cause.dependency
                        else cause.reason for cause in resolver.get_stale_causes(key, partition)]
            for partition in partitions if resolver.get_status(key, partition) == StaleStatus.STALE}


def load_cursor(instance: dg.DagsterInstance, key: str) -> AssetDaemonCursor | None:
    """The automation cursor stored under `key` in the instance (None before the first one).

    `evaluate_automation_conditions` takes and returns a cursor, but keeping it between
    processes (the CLI's build and the daemon's sensor share one) has no public API: the cursor
    class and the daemon's cursor storage are Dagster's own. No upstream issue asks for it that
    we found.
    """
    return parse_cursor(stored_text(instance, key) or "")


def parse_cursor(text: str) -> AssetDaemonCursor | None:
    """A cursor from its stored text (see `load_cursor`); None for an empty text."""
    from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor

    return dg.deserialize_value(text, AssetDaemonCursor) if text else None


def save_cursor(instance: dg.DagsterInstance, key: str, cursor: AssetDaemonCursor) -> None:
    """Store the automation cursor under `key` (see `load_cursor`)."""
    store_text(instance, key, dg.serialize_value(cursor))


def stored_text(instance: dg.DagsterInstance, key: str) -> str | None:
    """A text kept in the instance's key-value store (the daemons' cursor storage), or None."""
    return instance.daemon_cursor_storage.get_cursor_values({key}).get(key) or None


def store_text(instance: dg.DagsterInstance, key: str, text: str) -> None:
    """Keep `text` under `key` (an empty text is « nothing stored »: the storage deletes nothing).
    One key per call: SQLite's storage drops a new key written beside an existing one."""
    instance.daemon_cursor_storage.set_cursor_values({key: text})


def requested_partitions(cursor: AssetDaemonCursor, key: dg.AssetKey) -> set[str | None] | None:
    """What an evaluation's cursor records as requested for `key`: its partition keys ({None}
    for an unpartitioned asset), or None when the cursor does not hold the asset."""
    # Not `previous_condition_cursors_by_key`: that cached property stays on the cursor, whose
    # serialization then fails (a dict keyed by AssetKey).
    condition_cursor = next((c for c in cursor.previous_condition_cursors or [] if c.key == key), None)
    if condition_cursor is None:
        return None
    value = condition_cursor.previous_requested_subset.value
    if isinstance(value, bool):
        return {None} if value else set()
    return set(value.get_partition_keys())


def with_requested_partitions(cursor: AssetDaemonCursor, requested: Mapping[dg.AssetKey, Set[str | None]]
                              ) -> AssetDaemonCursor:
    """The cursor with what it records as requested replaced, for the assets of `requested`.

    Dagster assumes that whatever an evaluation requests is launched; a build that runs part of
    it (`--departement`, the charts of other years, a round held back) must record that the rest
    was not, or the conditions take it as handled. No public API edits a cursor (no upstream
    issue found): its requested subsets are `SerializableEntitySubset`s of each asset's
    condition cursor.
    """
    from dagster._core.asset_graph_view.serializable_entity_subset import SerializableEntitySubset

    cursors = []
    for condition_cursor in cursor.previous_condition_cursors or []:
        if condition_cursor.key in requested:
            keys = requested[condition_cursor.key]
            value = condition_cursor.previous_requested_subset.value
            value = None in keys if isinstance(value, bool) else value.empty_subset().with_partition_keys(keys)
            condition_cursor = dataclasses.replace(
                condition_cursor, previous_requested_subset=SerializableEntitySubset(key=condition_cursor.key,
                                                                                     value=value))
        cursors.append(condition_cursor)
    return dataclasses.replace(cursor, previous_condition_cursors=cursors)


def free_pool_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give back the concurrency-pool slots a run holds.

    The daemon frees the slots of runs that ended without doing it themselves
    (`free_slots_after_run_end_seconds`; dagster-io/dagster#28456, #32560), but a `trade-pipeline
    build` killed with its process runs without a daemon: the build that finds its runs frees
    them through the event log storage, which the public `DagsterInstance` does not expose.
    """
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.free_concurrency_slots_for_run(run_id)


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of a run's worker process and when it was recorded, or None before it was.

    Dagster's code server records it when it starts the process, as an engine event « Started
    process for run (pid: …) » whose metadata holds it (its `_run_in_subprocess`); no public API
    names a run's process, and Dagster's run monitoring has no health check for its default
    launcher, which starts them (`supports_check_run_worker_health`). No upstream issue found.
    """
    for entry in reversed(instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data is not None and data.metadata else None
        if pid is not None:
            return int(pid.value), entry.timestamp
    return None


#: The storage class `dagster.yaml` names for SQLite (orchestration/instance.py): Dagster loads it
#: from this module by name, and the module makes it on that first use (`__getattr__` below).
SQLITE_STORAGE = "SqliteStorageReusingEngines"

#: Run shards whose engines a process keeps, besides the index's: a build writes to one run at a
#: time, the web server reads a page of runs; the least recently used engine is let go.
RUN_SHARD_ENGINES = 32


def __getattr__(name: str) -> type:
    if name == SQLITE_STORAGE:
        return sqlite_storage_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def sqlite_storage_class() -> type:
    """Dagster's SQLite storage (the same files, tables and migrations), each database's SQLAlchemy
    engine made once per process, and one SQLite connection of each kept open.

    Dagster's SQLite run, event log and schedule storages call `create_engine` for every
    connection, and a new engine starts with an empty cache of compiled statements: each of a
    build's events (two per territory and step) compiled its INSERTs again. SQLAlchemy's own
    guidance is one engine per database and process (docs: « Engine Configuration »).
    Their pool is `NullPool`: every statement opened a new SQLite connection and closed it, and
    the close of a database's last connection checkpoints its write-ahead log into the file and
    deletes it (SQLite: « Write-Ahead Logging ») — several times per event. The files are in WAL
    mode, made for connections kept open by many processes at once, so each engine keeps one
    (`pool_size=1`); a connection wanted while it is in use is opened and closed as before
    (`max_overflow=-1`: never waits). Measured on a small build: a sixth of its CPU for the
    engines, then another sixth for the kept connection (docs/testing.md). A forked child drops
    the parent's connections unused (SQLAlchemy: « Using Connection Pools with Multiprocessing »).
    Dagster exposes no option for it and names its SQLite classes in its constructors, so the
    subclasses replace the constructors and `connect`/`_connect`, whose bodies they follow.
    """
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
    from dagster._core.storage.sql import create_engine
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from dagster._core.storage.sqlite_storage import (
        DagsterSqliteStorage,
        _event_logs_directory,
        _runs_directory,
        _schedule_directory,
    )
    from sqlalchemy.pool import QueuePool

    engines: weakref.WeakSet = weakref.WeakSet()

    def engine_for(url: str, **options: object):  # noqa: ANN202 - SQLAlchemy's Engine
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=-1, **options)
        engines.add(engine)
        return engine

    os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in list(engines)])

    class OneEngine:
        """`connect` of the run and schedule storages: one database file, one engine."""

        _engine = None
        _engine_lock = threading.Lock()

        @contextmanager
        def connect(self) -> Iterator:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = engine_for(self._conn_string)
            with self._engine.connect() as connection, connection.begin():
                yield connection

        def dispose(self) -> None:
            super().dispose()
            if self._engine is not None:
                self._engine.dispose()  # its kept connection closed: the log checkpointed

    class RunStorage(OneEngine, SqliteRunStorage):
        pass

    class ScheduleStorage(OneEngine, SqliteScheduleStorage):
        pass

    class EventLogStorage(SqliteEventLogStorage):
        """One engine per shard: the index, and each run's own file (`RUN_SHARD_ENGINES` kept)."""

        def __init__(self, base_dir: str, inst_data=None) -> None:  # noqa: ANN001 - Dagster's type
            self._engines: OrderedDict = OrderedDict()
            super().__init__(base_dir, inst_data)

        @contextmanager
        def _connect(self, shard: str) -> Iterator:
            with self._db_lock:  # held while connected, as Dagster's own `_connect` does
                engine = self._engines.pop(shard, None) or engine_for(
                    self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                self._engines[shard] = engine
                while len(self._engines) > RUN_SHARD_ENGINES + 1:
                    self._engines.popitem(last=False)[1].dispose()
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                with engine.connect() as connection, connection.begin():
                    yield connection

        def wipe(self) -> None:
            with self._db_lock:  # Dagster deletes the run files: no connection kept to them
                for shard in [shard for shard in self._engines if shard != INDEX_SHARD_NAME]:
                    self._engines.pop(shard).dispose()
            super().wipe()

        def dispose(self) -> None:
            super().dispose()
            with self._db_lock:
                while self._engines:
                    self._engines.popitem()[1].dispose()

    class SqliteStorageReusingEngines(DagsterSqliteStorage):
        def __init__(self, base_dir: str, inst_data=None) -> None:  # noqa: ANN001 - Dagster's type
            self.base_dir = base_dir
            self._run_storage = RunStorage.from_local(_runs_directory(base_dir))
            self._event_log_storage = EventLogStorage(_event_logs_directory(base_dir))
            self._schedule_storage = ScheduleStorage.from_local(_schedule_directory(base_dir))
            self._inst_data = inst_data
            super(DagsterSqliteStorage, self).__init__()

        @classmethod
        def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 - Dagster's types
            return cls.from_local(inst_data=inst_data, **config_value)

    SqliteStorageReusingEngines.__module__ = __name__
    SqliteStorageReusingEngines.__qualname__ = SQLITE_STORAGE
    return SqliteStorageReusingEngines
