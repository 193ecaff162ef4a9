"""The UI path: `dagster dev` serves the graph, partitions and checks; what a user launches from
the UI (one partition: a run; a whole year of territories or some territories: a backfill) succeeds."""

import time

import pytest

from trade_pipeline.lib.territories import territory_keys

from .ui_support import DagsterDev, screenshots

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ASSETS = """{ assetNodes { assetKey { path } groupName
  partitionDefinition { description dimensionTypes { name } }
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""

LAUNCH = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""

BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
  status runs { runId status assetSelection { path } tags { key value } } } } }"""

AUTOMATION = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { id name sensorState { status } } schedules { name cronSchedule executionTimezone scheduleState { status } } } } } }"""

STOP_SENSOR = """mutation($id: String!) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""

CHECKS = """{ assetNodeOrError(assetKey: {path: ["trade_flows"]}) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } } }"""


def backfill(ui: DagsterDev, assets: list[str], partitions: list[str], timeout: float = 600) -> dict:
    """What the UI's « Materialize » button sends for some partitions; waits for the end."""
    launched = ui.graphql(LAUNCH, {"params": {"partitionNames": partitions, "fromFailure": False,
                                              "assetSelection": [{"path": [a]} for a in assets]}})
    launched = launched["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = ui.graphql(BACKFILL, {"id": launched["backfillId"]})["partitionBackfillOrError"]
        if state["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"):
            return state
        time.sleep(2)
    raise AssertionError(f"backfill of {assets} did not finish in {timeout} s")


def test_ui_serves_the_graph_and_runs_what_a_user_launches(tmp_path, artifacts_dir):
    with DagsterDev(tmp_path / "data", artifacts_dir / "dagster-dev.log") as ui:
        nodes = {"/".join(n["assetKey"]["path"]): n for n in ui.graphql(ASSETS)["assetNodes"]}
        assert {"raw_trade_files", "trade_flows", "territory_flows", "territory_marts", "territory_charts",
                "fiches", "fiche_index", "published_store"} <= set(nodes)
        dimensions = {d["name"] for d in nodes["territory_marts"]["partitionDefinition"]["dimensionTypes"]}
        assert dimensions == {"year", "territory"}
        check_names = {c["name"] for c in nodes["trade_flows"]["assetChecksOrError"]["checks"]}
        assert {"no_duplicate_keys", "known_country_codes", "plausible_totals"} <= check_names

        # Automation is on out of the box; switched off here as a user launching by hand would, so
        # that only the launched runs write (the conditions are tested in test_incremental).
        repository = ui.graphql(AUTOMATION)["repositoriesOrError"]["nodes"][0]
        sensors = {s["name"]: s for s in repository["sensors"]}
        # Dagster lists its own automation sensor (stopped); the instance disables its daemon:
        # trade_automation alone evaluates the conditions (orchestration/refresh.py).
        assert {name: s["sensorState"]["status"] for name, s in sensors.items()} == {
            "trade_automation": "RUNNING", "new_vintage_sensor": "RUNNING", "latest_publication_sensor": "RUNNING",
            "default_automation_condition_sensor": "STOPPED"}
        schedule = {s["name"]: s for s in repository["schedules"]}["yearly_refresh"]
        assert (schedule["executionTimezone"], schedule["scheduleState"]["status"]) == ("Europe/Paris", "RUNNING")
        stopped = ui.graphql(STOP_SENSOR, {"id": sensors["trade_automation"]["id"]})["stopSensor"]
        assert stopped["instigationState"]["status"] == "STOPPED", stopped

        assert ui.materialize(["raw_trade_files", "trade_flows"], "2024") == "SUCCESS"
        checks = ui.graphql(CHECKS)["assetNodeOrError"]["assetChecksOrError"]["checks"]
        assert {c["name"]: c["executionForLatestMaterialization"]["status"] for c in checks}["no_duplicate_keys"] == "SUCCEEDED"

        # A backfill of a whole year of territories runs each asset over ranges of territories —
        # never once per territory — and each partition once. (Dagster's backfill daemon may start
        # the marts of the territories whose slices it already sees written, then the others: a
        # range in two runs.) Dagster adds the marts of the next year (they read the previous
        # year for growth): 2025 has no data here, so those runs succeed without computing anything
        # and leave its partitions missing — never « Materialized » —, which the backfill reports
        # as not done (« completed with failures ») while every run succeeded.
        whole_year = backfill(ui, ["territory_flows", "territory_marts"], [f"{k}|2024" for k in territory_keys()])
        assert whole_year["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED"), whole_year
        order = territory_keys()
        covered: dict[tuple[str, str], list[str]] = {}
        for run in whole_year["runs"]:
            assert run["status"] == "SUCCESS", run
            tags = {t["key"]: t["value"] for t in run["tags"]}
            start, end = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
            (first, year), (last, _) = start.split("|"), end.split("|")
            span = order[order.index(first):order.index(last) + 1]
            for asset in run["assetSelection"]:
                covered.setdefault((asset["path"][0], year), []).extend(span)
        assert len(whole_year["runs"]) <= 6, [r["tags"] for r in whole_year["runs"]]  # ranges, not 116 runs
        for asset in ("territory_flows", "territory_marts"):
            assert sorted(covered[(asset, "2024")], key=order.index) == order, asset  # each partition once

        # One fiche: Hérault's charts with its région's and France's (which it shows), then the fiche.
        # (Charts and fiches in one backfill would add every fiche that shows France's charts: all.)
        charts = backfill(ui, ["territory_charts"], ["france-FR|2024", "region-12|2024", "departement-34|2024"])
        assert charts["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), charts
        assert ui.materialize(["fiches"], "departement-34|2024") == "SUCCESS"
        assert (tmp_path / "data" / "fiches" / "2024" / "departement-34.pdf").exists()

        ui.graphql("mutation { setNuxSeen }")  # the "join the community" dialog would hide the pages
        screenshots([
            (ui.url + "/asset-groups", artifacts_dir / "ui-asset-graph.png", "validation"),
            (ui.url + "/assets/trade_flows?view=checks", artifacts_dir / "ui-trade-flows-checks.png", "no_duplicate_keys"),
            (ui.url + "/assets/fiches?view=partitions&partition=departement-34%7C2024",
             artifacts_dir / "ui-fiche-preview.png", "preview"),
        ])
        assert (artifacts_dir / "ui-asset-graph.png").stat().st_size > 10_000
