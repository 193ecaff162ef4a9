"""The shape of the code: a snapshot of the asset specs (a change of the graph shows in review, as
in dagster-open-platform), the layering of the modules (docs/architecture.md), no import circle,
Dagster's private APIs behind one adapter, no SQL in the charts and fiches, no module too long."""

import ast
import json
import re
from pathlib import Path

import dagster as dg
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from trade_pipeline.definitions import defs

PACKAGE = Path(__file__).resolve().parent.parent / "trade_pipeline"

#: The stages in the order of the graph: a module may import its own stage and earlier ones.
STAGES = ("ingestion", "validation", "aggregation", "publication", "charts", "fiches")
#: Dagster-free modules every part may use.
SHARED = ("lib", "settings", "tables")
#: The Dagster wiring the stages' assets.py use.
WIRING = {f"orchestration.{name}" for name in ("resources", "partitions", "partition_versions", "metadata",
                                                "conditions", "dagster_internals", "instance", "loggers", "run_workers")}
#: What assembles everything: may import anything, imported by nothing else.
TOP = {"orchestration.refresh", "orchestration.rounds", "orchestration.sensors", "orchestration.schedules",
       "orchestration.build", "definitions", "cli"}
MAX_LINES = 400


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
            # The declared number; after « + » a hash of templates (fiches/html.py) that moves with them.
            "code_version": node.code_version.split("+")[0] if node.code_version else None,
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
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")


MODULES = {_module(path): path for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "__init__.py"}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """The package's modules a module imports (at its top or inside a function), and the other
    top-level names it imports (`dagster`, `dagster._core…`)."""
    ours, others = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("trade_pipeline"):
                base = node.module.removeprefix("trade_pipeline").lstrip(".")
                for alias in node.names:
                    name = f"{base}.{alias.name}" if base else alias.name
                    ours.add(name if name in MODULES else base)
            else:
                others.add(node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("trade_pipeline."):
                    ours.add(alias.name.removeprefix("trade_pipeline."))
                else:
                    others.add(alias.name)
    return ours - {""}, others


def _stage(module: str) -> int | None:
    head = module.split(".")[0]
    return STAGES.index(head) if head in STAGES else None


def _kind(module: str) -> str:
    if module.split(".")[0] in SHARED:
        return "shared"
    if module in WIRING or module == "orchestration":
        return "wiring"
    if module in TOP:
        return "top"
    if _stage(module) is not None:
        return "assets" if module.endswith(".assets") else "stage"
    return "unknown"


def test_each_module_imports_only_what_its_place_allows():
    """Shared modules (lib/, settings, tables) import only each other, and lib/ no Dagster; a
    stage imports the stages before it; only a stage's assets.py (its Dagster wiring) imports
    Dagster and the wiring; the wiring imports no stage; nothing imports the top (definitions,
    the CLI and what assembles the runs), which may import anything."""
    problems = []
    for module, path in MODULES.items():
        kind = _kind(module)
        assert kind != "unknown", f"{module}: place it in lib/, a stage or orchestration/"
        ours, others = _imports(path)
        dagster = any(name == "dagster" or name.startswith(("dagster.", "dagster_")) for name in others)
        for name in ours:
            target = _kind(name)
            if target == "top" and kind != "top":
                problems.append(f"{module} imports {name}, which assembles everything")
            if kind == "shared" and target != "shared":
                problems.append(f"{module} (shared) imports {name}")
            if kind == "wiring" and target in ("stage", "assets"):
                problems.append(f"{module} (Dagster wiring) imports the stage module {name}")
            if kind in ("stage", "assets"):
                if target == "wiring" and kind == "stage":
                    problems.append(f"{module} imports the Dagster wiring {name}: only assets.py may")
                if target in ("stage", "assets") and (_stage(name) > _stage(module)):
                    problems.append(f"{module} imports {name}, a later stage")
        if dagster and (kind == "stage" or module.startswith("lib")):
            problems.append(f"{module} imports Dagster: a stage's plain functions and lib/ are Dagster-free")
    assert problems == []


def test_only_the_adapter_imports_dagster_s_private_apis():
    """Every use of a private Dagster API is in orchestration/dagster_internals.py (its contract:
    tests/test_dagster_internals.py)."""
    users = {module for module, path in MODULES.items()
             if any(name.startswith("dagster._") for name in _imports(path)[1])}
    tests = {path.name for path in Path(__file__).parent.glob("*.py")
             if path.name not in ("test_dagster_internals.py", Path(__file__).name)
             and "dagster._" in path.read_text(encoding="utf-8")}
    assert users == {"orchestration.dagster_internals"} and tests == set()


def test_no_import_circle():
    graph = {module: {name for name in _imports(path)[0] if name in MODULES} for module, path in MODULES.items()}
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            circles.append(" → ".join([*trail[trail.index(module):], module]))
            return
        for name in sorted(graph[module]):
            if name not in done:
                visit(name, [*trail, module])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        visit(module, [])
    assert circles == []


def test_no_module_is_too_long_to_read():
    long = {module: count for module, path in MODULES.items()
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_charts_and_fiches_read_the_warehouse_only_through_the_read_module():
    """No SQL in charts/ and fiches/: they get their data from aggregation/reads.py."""
    problems = []
    for module, path in MODULES.items():
        if module.split(".")[0] not in ("charts", "fiches"):
            continue
        text = path.read_text(encoding="utf-8")
        if "duckdb" in _imports(path)[1] or ".execute(" in text or re.search(r"\bFROM\s+mart_", text):
            problems.append(module)
    assert problems == []


def test_the_asset_job_of_each_partitioning_holds_its_assets():
    graph = defs.resolve_asset_graph()
    for job in defs.jobs:
        keys = defs.resolve_job_def(job.name).asset_layer.selected_asset_keys
        assert len({str(graph.get(key).partitions_def) for key in keys}) == 1, job.name
    assert sum(len(defs.resolve_job_def(j.name).asset_layer.selected_asset_keys) for j in defs.jobs) == \
        len(graph.get_all_asset_keys())
    assert dg.AssetKey("raw_trade_files") in defs.resolve_job_def("yearly_assets").asset_layer.selected_asset_keys


def test_docstrings_and_comments_point_only_at_files_of_the_repository():
    """A reader can follow every `something.py` or `something.md` a module names."""
    root, missing = PACKAGE.parent, []
    for module, path in MODULES.items():
        for name in set(re.findall(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.(?:py|md))\b", path.read_text(encoding="utf-8"))):
            places = [root / name, PACKAGE / name, path.parent / name, *(PACKAGE / part / name for part in (
                "lib", "orchestration", *STAGES))]
            if not any(place.exists() for place in places) and name != "__init__.py":
                missing.append(f"{module}: {name}")
    assert missing == []
