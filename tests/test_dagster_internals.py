"""The contract of the one adapter of Dagster's private APIs (trade_pipeline/orchestration/
dagster_internals.py): each of its functions, and each type it names, still does what we rely
on with the pinned Dagster. An upgrade that removes one or changes its signature fails here, by
name — not in a user's refresh."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable

import dagster as dg
import pytest

from trade_pipeline.orchestration import dagster_internals as internals

#: The types the adapter names for annotations: where Dagster keeps them.
TYPES = {
    "AssetDaemonCursor": "dagster._core.definitions.asset_daemon_cursor",
    "AssetGraph": "dagster._core.definitions.assets.graph.asset_graph",
    "UnresolvedAssetJobDefinition": "dagster._core.definitions.unresolved_asset_job_definition",
}


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b", "c"]))
def lettered() -> None:
    return None


@dg.asset
def versioned() -> dg.MaterializeResult:
    return dg.MaterializeResult(data_version=dg.DataVersion("v1"))


@dg.asset(deps=[lettered], automation_condition=dg.AutomationCondition.eager())
def downstream() -> None:
    return None


def _range_tags() -> None:
    tags = internals.partition_range_tags("a", "c")
    request = dg.RunRequest(asset_selection=[lettered.key], tags=tags)
    assert request.partition_key_range == dg.PartitionKeyRange("a", "c")  # Dagster reads them as a range


@dg.asset(partitions_def=lettered.partitions_def, deps=[lettered, versioned], output_required=False,
          code_version="c1")
def per_partition(context):  # noqa: ANN001 - Dagster reads no string annotation
    for key in context.partition_keys:
        yield dg.AssetMaterialization(asset_key=context.asset_key, partition=key,
                                      tags=internals.materialization_version_tags(context, f"v-{key}"))


def _version_tags(instance: dg.DagsterInstance) -> None:
    assets = [lettered, versioned, per_partition]
    dg.materialize([versioned], instance=instance)
    for key in ("a", "b", "c"):
        dg.materialize([lettered], partition_key=key, instance=instance)
    job = dg.Definitions(assets=assets).resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, asset_selection=[per_partition.key],
                                  tags=internals.partition_range_tags("a", "c")).success
    written = instance.get_latest_materialization_event(per_partition.key).asset_materialization.tags
    assert written["dagster/data_version"] == "v-c" and written["dagster/code_version"] == "c1"
    # The inputs' provenance, as Dagster records it for a single partition.
    assert {"dagster/input_data_version/lettered", "dagster/input_event_pointer/versioned"} <= set(written)


def _stale_partitions(instance: dg.DagsterInstance) -> None:
    _version_tags(instance)
    graph = dg.Definitions(assets=[lettered, versioned, per_partition]).resolve_asset_graph()
    assert internals.stale_partitions(instance, graph, per_partition.key, ["a", "b", "c"]) == {}
    dg.materialize([versioned], instance=instance)  # the same version: nothing is stale
    assert internals.stale_partitions(instance, graph, per_partition.key, ["a", "b", "c"]) == {}

    @dg.asset(name="versioned")
    def revised() -> dg.MaterializeResult:
        return dg.MaterializeResult(data_version=dg.DataVersion("v2"))

    dg.materialize([revised], instance=instance)
    stale = internals.stale_partitions(instance, graph, per_partition.key, ["a", "b", "c"])
    assert set(stale) == {"a", "b", "c"} and "has a new dependency data version (versioned)" in stale["a"]


def _cursor(instance: dg.DagsterInstance) -> None:
    result = dg.evaluate_automation_conditions(defs=[lettered, downstream], instance=instance)
    internals.save_cursor(instance, "contract/cursor", result.cursor)
    loaded = internals.load_cursor(instance, "contract/cursor")
    assert loaded is not None and dg.serialize_value(loaded) == dg.serialize_value(result.cursor)
    assert internals.load_cursor(instance, "contract/none") is None
    parsed = internals.parse_cursor(dg.serialize_value(result.cursor))
    assert parsed is not None and parsed.evaluation_id == result.cursor.evaluation_id
    assert internals.parse_cursor("") is None
    edited = internals.with_requested_partitions(loaded, {downstream.key: {None}})
    assert internals.requested_partitions(edited, downstream.key) == {None}
    assert internals.requested_partitions(internals.with_requested_partitions(edited, {downstream.key: set()}),
                                          downstream.key) == set()
    assert internals.requested_partitions(edited, dg.AssetKey("nowhere")) is None


def _stored_texts(instance: dg.DagsterInstance) -> None:
    """The key-value store the automation round is kept in: two keys, each written, overwritten
    and emptied on its own, read back as written (empty as nothing)."""
    assert internals.stored_text(instance, "contract/a") is None
    internals.store_text(instance, "contract/a", "first")
    internals.store_text(instance, "contract/b", "second")
    internals.store_text(instance, "contract/a", "again")
    assert (internals.stored_text(instance, "contract/a"), internals.stored_text(instance, "contract/b")) == (
        "again", "second")
    internals.store_text(instance, "contract/b", "")
    assert internals.stored_text(instance, "contract/b") is None


def _run_worker_pid(instance: dg.DagsterInstance) -> None:
    """The pid Dagster's code server records for a run's worker process, read back; and the code
    server still records it that way."""
    import inspect
    import time
    import uuid

    from dagster._core.events import EngineEventData
    from dagster._grpc import impl

    run = instance.add_run(dg.DagsterRun(job_name="contract", run_id=str(uuid.uuid4()),
                                         status=dg.DagsterRunStatus.STARTED))
    assert internals.run_worker_pid(instance, run.run_id) is None
    instance.report_engine_event("Started process for run (pid: 4242).", run, EngineEventData.in_process(4242))
    pid, recorded = internals.run_worker_pid(instance, run.run_id)
    assert pid == 4242 and abs(recorded - time.time()) < 60
    assert "EngineEventData.in_process(pid)" in inspect.getsource(impl._run_in_subprocess)


def _partitioned_cursor(instance: dg.DagsterInstance) -> None:
    from trade_pipeline.definitions import defs
    from trade_pipeline.orchestration import refresh

    cursor = refresh.evaluate(defs.get_repository_def(), instance).cursor
    marts = dg.AssetKey("territory_marts")
    keys = {"departement-34|2024", "france-FR|2024"}
    edited = internals.with_requested_partitions(cursor, {marts: keys})
    assert internals.requested_partitions(edited, marts) == keys
    # It can be stored, after it was read.
    assert dg.serialize_value(dg.deserialize_value(dg.serialize_value(edited), type(cursor))) == dg.serialize_value(edited)


def _pool_slots(instance: dg.DagsterInstance) -> None:
    storage = instance.event_log_storage
    storage.set_concurrency_slots("contract_pool", 1)
    assert storage.claim_concurrency_slot("contract_pool", "run-1", "step").is_claimed
    assert storage.get_concurrency_info("contract_pool").active_slot_count == 1
    internals.free_pool_slots(instance, "run-1")
    assert storage.get_concurrency_info("contract_pool").active_slot_count == 0


def _sqlite_storage(_: dg.DagsterInstance) -> None:
    """The SQLite storage the instance file names (orchestration/instance.py) is Dagster's own, on
    the same files: a build's runs and events are there, one engine per database serves them, and
    Dagster's stock SQLite storage reads them back."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    with tempfile.TemporaryDirectory() as home:
        ours = {"custom": {"module": internals.__name__, "class": internals.SQLITE_STORAGE,
                           "config": {"base_dir": f"{home}/storage"}}}
        with dg.instance_for_test(temp_dir=home, overrides={"storage": ours}) as instance:
            assert isinstance(instance.event_log_storage, SqliteEventLogStorage)
            assert isinstance(instance.run_storage, SqliteRunStorage)
            _version_tags(instance)  # five runs, a range of partitions among them
            runs = [run.run_id for run in instance.get_runs()]
            assert len(runs) == 5
            engines = instance.event_log_storage._engines
            assert set(engines) == {"index", *runs}  # one engine per database, none made twice
            index_engine = engines["index"]
            instance.get_latest_materialization_event(per_partition.key)
            assert instance.event_log_storage._engines["index"] is index_engine
            assert instance.run_storage._engine is not None
            # One SQLite connection kept open per database and reused, not one per statement.
            assert index_engine.pool.checkedin() == 1 and instance.run_storage._engine.pool.checkedin() == 1
            # A forked child opens its own connections (the parent's are not shared) and reads the runs.
            read, write = os.pipe()
            child = os.fork()
            if child == 0:  # pragma: no cover - the child reports through the pipe
                try:
                    fresh = index_engine.pool.checkedin() == 0 and instance.get_runs_count() == 5
                    os.write(write, b"1" if fresh else b"0")
                finally:
                    os._exit(0)
            os.waitpid(child, 0)
            assert os.read(read, 1) == b"1"
            os.close(read)
            os.close(write)
        stock = {"sqlite": {"base_dir": f"{home}/storage"}}
        with dg.instance_for_test(temp_dir=home, overrides={"storage": stock}) as instance:
            assert type(instance.event_log_storage) is SqliteEventLogStorage
            assert sorted(run.run_id for run in instance.get_runs()) == sorted(runs)
            written = instance.get_latest_materialization_event(per_partition.key).asset_materialization.tags
            assert written["dagster/data_version"] == "v-c"


def _types() -> None:
    for name, module in TYPES.items():
        assert isinstance(getattr(importlib.import_module(module), name), type), name
    assert type(dg.define_asset_job("contract_job", selection=[lettered])).__name__ == "UnresolvedAssetJobDefinition"
    assert type(dg.Definitions(assets=[lettered]).resolve_asset_graph()).__name__ == "AssetGraph"


CONTRACT: dict[str, Callable[[dg.DagsterInstance], None]] = {
    "partition_range_tags": lambda instance: _range_tags(),
    "materialization_version_tags": _version_tags,
    "stale_partitions": _stale_partitions,
    "load_cursor, save_cursor, parse_cursor, requested_partitions, with_requested_partitions": _cursor,
    "with_requested_partitions (partitions of our graph)": _partitioned_cursor,
    "stored_text, store_text": _stored_texts,
    "run_worker_pid": _run_worker_pid,
    "free_pool_slots": _pool_slots,
    "sqlite_storage_class, __getattr__ (the SQLite storage of dagster.yaml)": _sqlite_storage,
    "AssetDaemonCursor, AssetGraph, AssetJob": lambda instance: _types(),
}


def contract_failures() -> dict[str, str]:
    """Each part of the contract that does not hold, with what went wrong."""
    failures = {}
    for name, check in CONTRACT.items():
        with dg.instance_for_test() as instance:
            try:
                check(instance)
            except Exception as error:  # noqa: BLE001 - reported by name
                failures[name] = f"{type(error).__name__}: {error}"
    return failures


def test_every_private_dagster_api_the_adapter_uses_still_works():
    assert contract_failures() == {}


def test_every_function_of_the_adapter_is_in_the_contract():
    functions = {name for name, value in vars(internals).items()
                 if callable(value) and getattr(value, "__module__", "") == internals.__name__}
    covered = {part.strip().split(" ")[0] for name in CONTRACT for part in name.split(",")}
    assert functions <= covered, functions - covered


def test_the_contract_fails_by_name_when_a_private_api_is_removed_or_changes(monkeypatch):
    """What an upgrade would do, done here by hand: one private name gone, one signature changed."""
    with dg.instance_for_test():  # Dagster's own modules loaded first: only our uses see the change
        pass
    tags = importlib.import_module("dagster._core.storage.tags")
    monkeypatch.delattr(tags, "ASSET_PARTITION_RANGE_START_TAG")
    subsets = importlib.import_module("dagster._core.asset_graph_view.serializable_entity_subset")

    class ChangedSignature:
        def __init__(self, asset_key, subset):  # noqa: ANN001 - `key`, `value` renamed
            raise TypeError("SerializableEntitySubset.__init__() got an unexpected keyword argument 'key'")

    monkeypatch.setattr(subsets, "SerializableEntitySubset", ChangedSignature)
    failures = contract_failures()
    # (Dagster's own materialization reads the range tag too: it fails with it, as an upgrade would.)
    assert {"partition_range_tags", "load_cursor, save_cursor, parse_cursor, requested_partitions, with_requested_partitions",
            "with_requested_partitions (partitions of our graph)"} <= set(failures)
    assert "ASSET_PARTITION_RANGE_START_TAG" in failures["partition_range_tags"]
    assert "unexpected keyword argument 'key'" in failures["with_requested_partitions (partitions of our graph)"]


@pytest.mark.parametrize("name", sorted(TYPES))
def test_the_types_the_adapter_names_exist(name):
    assert hasattr(importlib.import_module(TYPES[name]), name)
