"""The code location: loads, has the expected graph, and the checked-in instance config is current."""

from pathlib import Path

import dagster as dg

from trade_pipeline.definitions import defs
from trade_pipeline.orchestration.instance import render
from trade_pipeline.orchestration.partitions import year_partitions

ROOT = Path(__file__).resolve().parent.parent


def test_definitions_load_with_the_asset_graph():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw_trade_files", "trade_flows", "published_store"} <= keys
    assert graph.get(dg.AssetKey("trade_flows")).parent_keys == {dg.AssetKey("raw_trade_files")}
    for key in graph.get_all_asset_keys():
        assert graph.get(key).code_version, f"{key} has no code version"


def test_years_are_partitions_without_a_code_change():
    keys = year_partitions.get_partition_keys()
    assert keys[0] == "2015" and {"2022", "2023", "2024"} <= set(keys)


def test_checked_in_dagster_yaml_is_the_rendered_instance_config():
    assert (ROOT / "dagster.yaml").read_text(encoding="utf-8") == render("data/dagster")
    assert (ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8") == render("data/dagster", postgres=True)


def test_every_step_that_opens_the_warehouse_is_in_the_one_slot_pool():
    """DuckDB allows one writing process per file and a reader elsewhere blocks it: the pool
    (limit 1 in the instance, shared by every process and machine) is what serialises them."""
    import inspect

    from trade_pipeline.definitions import ASSETS
    from trade_pipeline.orchestration.instance import instance_config
    from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, Warehouse

    for asset in ASSETS:
        opens_warehouse = any(p.annotation in (Warehouse, "Warehouse")
                              for p in inspect.signature(asset.op.compute_fn.decorated_fn).parameters.values())
        assert (asset.op.pool == WAREHOUSE_POOL) == opens_warehouse, asset.key
    for postgres in (False, True):
        assert instance_config("x", postgres)["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}


def test_workspace_yaml_points_at_the_definitions_module():
    assert "module_name: trade_pipeline.definitions" in (ROOT / "workspace.yaml").read_text()
