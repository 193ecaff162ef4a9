"""The shape of the code location: a snapshot of the asset specs (a change of the graph shows in
review, as in dagster-open-platform), and the layering of the modules."""

import ast
import json
from pathlib import Path

import dagster as dg
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from trade_pipeline.definitions import defs

PACKAGE = Path(__file__).resolve().parent.parent / "trade_pipeline"

#: The stages in the order of the graph: a module may import its own stage and earlier ones.
STAGES = ("ingestion", "validation", "aggregation", "publication", "charts", "fiches")
#: What comes after the stages and may import them all.
TOP = {"automation.sensors", "automation.schedules", "definitions", "build", "cli"}


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def _mapping(mapping: object) -> str:
    return type(mapping).__name__ if mapping is not None else "default"


def asset_specs() -> dict:
    graph = defs.resolve_asset_graph()
    specs = {}
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        assets_def = graph.assets_def_for_key(key)
        specs[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "code_version": node.code_version,
            "partitions": str(node.partitions_def) if node.partitions_def else None,
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "deps": {parent.to_user_string(): _mapping(graph.get_partition_mapping(key, parent))
                     for parent in sorted(node.parent_keys)},
            "automation_condition": node.automation_condition.get_label() if node.automation_condition else None,
            "checks": {spec.name: {"blocking": spec.blocking, "partitioned": spec.partitions_def is not None}
                       for spec in assets_def.check_specs},
            "metadata": sorted(node.metadata),
            "output_required": all(output.is_required for output in assets_def.node_def.output_defs),
        }
    repository = defs.get_repository_def()
    specs["jobs"] = {job.name: sorted(k.to_user_string() for k in defs.resolve_job_def(job.name).asset_layer.selected_asset_keys)
                     for job in defs.jobs}
    specs["schedules"] = {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone}
                          for s in repository.schedule_defs}
    specs["sensors"] = {s.name: {"interval_s": s.minimum_interval_seconds, "default": s.default_status.value}
                        for s in repository.sensor_defs}
    return json.loads(json.dumps(specs, default=str))


def test_asset_specs_snapshot(snapshot_json):
    assert asset_specs() == snapshot_json


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _stage(module: str) -> int | None:
    head = module.split(".")[0]
    return STAGES.index(head) if head in STAGES else None


def test_each_stage_imports_only_from_the_stages_before_it():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        if module in TOP:
            continue
        own = _stage(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trade_pipeline"):
                imported = node.module.removeprefix("trade_pipeline").lstrip(".")
                names = [f"{imported}.{alias.name}" if imported else alias.name for alias in node.names]
                for name in names if not imported else [imported]:
                    if name in TOP or name.split(".")[0] == "automation" and name != "automation.conditions" \
                            and not module.startswith("automation"):
                        problems.append(f"{module} imports {name}")
                    stage = _stage(name)
                    if stage is not None and (own is None or stage > own):
                        problems.append(f"{module} imports {name}, a later stage")
    assert problems == []


def test_the_asset_job_of_each_partitioning_holds_its_assets():
    graph = defs.resolve_asset_graph()
    for job in defs.jobs:
        keys = defs.resolve_job_def(job.name).asset_layer.selected_asset_keys
        assert len({str(graph.get(key).partitions_def) for key in keys}) == 1, job.name
    assert sum(len(defs.resolve_job_def(j.name).asset_layer.selected_asset_keys) for j in defs.jobs) == \
        len(graph.get_all_asset_keys())
    assert dg.AssetKey("raw_trade_files") in defs.resolve_job_def("yearly_assets").asset_layer.selected_asset_keys
