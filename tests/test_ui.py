"""The UI path: `dagster dev` serves the graph, partitions and checks; a UI launch succeeds."""

import time

import pytest

from .ui_support import DagsterDev, screenshot

pytestmark = pytest.mark.slow

ASSETS = """{ assetNodes { assetKey { path } groupName
  partitionDefinition { description dimensionTypes { name } }
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""

LAUNCH = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""

BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
  status runs { runId status } } } }"""

CHECKS = """{ assetNodeOrError(assetKey: {path: ["trade_flows"]}) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } } }"""


def test_ui_serves_graph_partitions_checks_and_runs_a_launched_materialization(tmp_path, artifacts_dir):
    with DagsterDev(tmp_path / "data", artifacts_dir / "dagster-dev.log") as ui:
        nodes = {"/".join(n["assetKey"]["path"]): n for n in ui.graphql(ASSETS)["assetNodes"]}
        assert {"raw_trade_files", "trade_flows", "published_store"} <= set(nodes)
        assert nodes["raw_trade_files"]["partitionDefinition"] is not None
        check_names = {c["name"] for c in nodes["trade_flows"]["assetChecksOrError"]["checks"]}
        assert {"no_duplicate_keys", "known_country_codes", "plausible_totals"} <= check_names

        # What the UI's "Materialize" button sends for one partition of the year assets.
        launched = ui.graphql(LAUNCH, {"params": {
            "partitionNames": ["2024"], "fromFailure": False,
            "assetSelection": [{"path": ["raw_trade_files"]}, {"path": ["trade_flows"]}]}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        deadline = time.time() + 300
        status = None
        while time.time() < deadline:
            backfill = ui.graphql(BACKFILL, {"id": launched["backfillId"]})["partitionBackfillOrError"]
            status = backfill["status"]
            if status in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"):
                break
            time.sleep(2)
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, backfill)
        assert backfill["runs"] and all(r["status"] == "SUCCESS" for r in backfill["runs"])
        checks = ui.graphql(CHECKS)["assetNodeOrError"]["assetChecksOrError"]["checks"]
        assert {c["name"]: c["executionForLatestMaterialization"]["status"] for c in checks}["no_duplicate_keys"] == "SUCCEEDED"
        ui.graphql("mutation { setNuxSeen }")  # the "join the community" dialog would hide the graph
        screenshot(ui.url + "/asset-groups", artifacts_dir / "ui-asset-graph.png", wait_for_text="validation")
        screenshot(ui.url + "/assets/trade_flows?view=checks", artifacts_dir / "ui-trade-flows-checks.png",
                   wait_for_text="no_duplicate_keys")
        assert (artifacts_dir / "ui-asset-graph.png").stat().st_size > 10_000
