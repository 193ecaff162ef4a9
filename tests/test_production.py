"""The production layout on a real PostgreSQL server (started by ./scripts/test): Dagster's runs,
events and schedules in PostgreSQL; the code location served on its own by `dagster code-server`;
the web server and the daemon as separate processes loading it through a workspace file; a CLI
build on the same instance. A new raw version is picked up by the automation sensor, the UI's
GraphQL shows the runs and checks, and restarting the daemon loses nothing. (And the CLI build,
made while the daemon runs, does each piece of work once: one mechanism decides.)

The services here stop at the published store (`--no-fiches`, TRADE_PIPELINE_FICHE_YEARS=built):
what the daemon recomputes is decided by the evaluation every build shares
(orchestration/refresh.py), proven with the charts and fiches and with the latest quarters through
the CLI (tests/test_incremental.py); the charts and fiches launched from the UI run through this
same run launcher in tests/test_ui.py. What only this layout can show — PostgreSQL, the code
server, the daemon's restart — needs no picture, chart nor fiche, which were most of its cost."""

import shutil
import time

import dagster as dg
import psycopg2
import pytest

from trade_pipeline.lib.territories import territory_keys
from trade_pipeline.orchestration.metadata import LAUNCHED_BY_TAG
from trade_pipeline.orchestration.sensors import AUTOMATION_SENSOR
from trade_pipeline.settings import PG_URL_SCHEME

from .states import NO_BROWSER, run_cli
from .ui_support import ProductionServices, ticks, wait_for_ticks

pytestmark = pytest.mark.slow

RUNS = """{ runsOrError(limit: 200) { ... on Runs { results { runId status tags { key value } endTime } } } }"""

CHECKS = """{ assetNodeOrError(assetKey: {path: ["trade_flows"]}) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } } }"""

STALENESS = """query($asset: [String!]!, $partition: String) { assetNodeOrError(assetKey: {path: $asset}) {
  ... on AssetNode { staleStatus(partition: $partition) staleCauses(partition: $partition) { reason } } } }"""

MARTS_OF_HERAULT = """{ assetOrError(assetKey: {path: ["territory_marts"]}) { ... on Asset {
  assetMaterializations(partitions: ["departement-34|2024"]) { runId } } } }"""


#: The runs the daemon's automation sensor launched (a SQL condition on a run_tags row `t`).
BY_SENSOR = f"t.key = '{LAUNCHED_BY_TAG}' AND t.value = '{AUTOMATION_SENSOR}'"

UNFINISHED = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def runs(services: ProductionServices) -> list[dict]:
    return services.graphql(RUNS)["runsOrError"]["results"]


def launched_by_sensor(run: dict) -> bool:
    return {"key": LAUNCHED_BY_TAG, "value": AUTOMATION_SENSOR} in run["tags"]


def wait_until(condition, what: str, services: ProductionServices, timeout: float = 600) -> None:  # noqa: ANN001
    """Wait for a state the services reach on their own; on a busy machine a refresh's runs take
    minutes, so the timeout is generous and, when it passes, says where the services stood."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s\n{where_they_stand(services)}")


def where_they_stand(services: ProductionServices) -> str:
    """The runs not finished, the sensor's last ticks and the daemon's last log lines: what the CI
    output has to show for a wait that timed out (the services' logs stay on the test machine)."""
    listed = runs(services)
    unfinished = [(r["runId"][:8], r["status"]) for r in listed if r["status"] in UNFINISHED]
    last_end = max((r["endTime"] or 0 for r in listed), default=0)
    last_ticks = [(round(t["timestamp"] - last_end), t["status"], (t["skipReason"] or "")[:90], len(t["runIds"]))
                  for t in sorted(ticks(services), key=lambda t: t["timestamp"])[-6:]]
    daemon_log = services.log("daemon").read_text(encoding="utf-8", errors="replace").splitlines()
    return (f"runs: {len(listed)}, not finished: {unfinished}\n"
            f"last ticks (seconds after the last run's end, status, skip reason, runs): {last_ticks}\n"
            "the daemon's last lines:\n" + "\n".join(daemon_log[-25:]))


def pg_rows(url: str, query: str) -> list[tuple]:
    connection = psycopg2.connect(url.replace(PG_URL_SCHEME, "postgresql://"))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    finally:
        connection.close()


def test_production_services_on_postgresql(tmp_path, postgres_url, revised_sources, artifacts_dir, monkeypatch):
    data, source = tmp_path / "data", tmp_path / "source"
    shutil.copytree(revised_sources[0], source)
    settings = {"TRADE_PIPELINE_DAGSTER_PG_URL": postgres_url, "TRADE_PIPELINE_SOURCE": str(source)}

    # The instance file names the URL's variable; the URL (a password) is not written to disk.
    written = run_cli(data, "instance", **settings)
    assert written.code == 0, written.err
    home = data / "dagster"
    assert written.out.strip() == f"export DAGSTER_HOME={home}"
    instance_file = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert "env: TRADE_PIPELINE_DAGSTER_PG_URL" in instance_file and postgres_url not in instance_file

    # The guide's commands, as written, from a directory that is not the repository (each
    # service's environment as the guide says: the data directory, the URL, the source).
    # The sensor every 5 s, not 30: each evaluation costs the code server, the daemon and
    # PostgreSQL about half a second of CPU, so a tick a second was a tenth of this test's CPU
    # (docs/testing.md); 5 s adds about 15 s of waiting.
    environment = {**settings, "TRADE_PIPELINE_DATA_DIR": str(data), "TRADE_PIPELINE_AUTOMATION_INTERVAL": "5",
                   "TRADE_PIPELINE_FICHE_YEARS": "built", "BROWSER_PATH": NO_BROWSER}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    logs = artifacts_dir / "production"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    services = ProductionServices(environment, logs, cwd=elsewhere)
    instance_line = services.commands["instance"]
    assert instance_line.startswith('eval "$($REPO/.venv/bin/trade-pipeline instance)"'), instance_line
    exported = services.shell(f'{instance_line}\necho "DAGSTER_HOME=$DAGSTER_HOME"')
    assert exported.returncode == 0 and f"DAGSTER_HOME={home}" in exported.stdout, exported.stderr
    services.env["DAGSTER_HOME"] = str(home)
    with services:
        wait_for_ticks(services, 1, after=0)  # the daemon's first evaluation: its baseline

        def settled() -> bool:
            """Every run finished, and the sensor has since found nothing left to do."""
            listed = runs(services)
            if any(r["status"] in UNFINISHED for r in listed):
                return False
            last_end = max(r["endTime"] or 0 for r in listed)
            return any(t["timestamp"] > last_end and "nothing changed" in (t["skipReason"] or "")
                       for t in ticks(services))

        # A CLI build beside the daemon, on the same PostgreSQL instance: one mechanism decides
        # what is recomputed, so each piece of work is done once — the sensor skips while the
        # build holds the lock, then, sharing its cursor, finds nothing the build made left to do.
        # It makes only what a --no-fiches build leaves to it and keeps current whatever the
        # years: the latest quarters' pages (orchestration/refresh.py).
        started = time.time()
        build = run_cli(data, "build", "--year", "2024", "--no-fiches", **settings)
        finished = time.time()
        assert build.code == 0, build.out[-3000:] + build.err[-3000:]
        during = [t for t in ticks(services) if started < t["timestamp"] < finished]
        assert any("a build is running" in (t["skipReason"] or "") for t in during), during
        wait_until(settled, "the daemon's evaluations after the build", services)
        assert pg_rows(postgres_url, f"""SELECT DISTINCT e.asset_key FROM event_logs e JOIN run_tags t
            ON e.run_id = t.run_id AND {BY_SENSOR} WHERE e.dagster_event_type = 'ASSET_MATERIALIZATION'""") == [
            ('["conjoncture"]',)]
        assert not (home / "storage").exists()  # nothing went to SQLite
        cli_runs = pg_rows(postgres_url, f"""SELECT run_id, status FROM runs WHERE run_id NOT IN
            (SELECT run_id FROM run_tags t WHERE {BY_SENSOR})""")
        assert cli_runs and {status for _, status in cli_runs} == {"SUCCESS"}
        every_territory = sorted(f"{k}|2024" for k in territory_keys())
        for asset in ("territory_flows", "territory_marts"):
            partitions = pg_rows(postgres_url, f"""SELECT partition FROM event_logs WHERE asset_key = '["{asset}"]'
                                                   AND dagster_event_type = 'ASSET_MATERIALIZATION'""")
            assert sorted(p for (p,) in partitions) == every_territory, asset
        for asset in ("trade_flows", "published_store"):
            assert pg_rows(postgres_url, f"""SELECT count(*) FROM event_logs WHERE asset_key = '["{asset}"]'
                                             AND dagster_event_type = 'ASSET_MATERIALIZATION'""") == [(1,)], asset
        # The warehouse pool is in the instance storage every process shares, with its limit 1.
        assert pg_rows(postgres_url, 'SELECT concurrency_key, "limit" FROM concurrency_limits') == [
            ("duckdb_warehouse", 1)]

        # The UI sees the CLI's runs and the checks of trade_flows, from PostgreSQL.
        assert {run["runId"] for run in runs(services)} == {run_id for (run_id,) in pg_rows(postgres_url,
                                                                                           "SELECT run_id FROM runs")}
        assert {run_id for run_id, _ in cli_runs} <= {run["runId"] for run in runs(services)}
        checks = services.graphql(CHECKS)["assetNodeOrError"]["assetChecksOrError"]["checks"]
        assert checks and all(c["executionForLatestMaterialization"]["status"] == "SUCCEEDED" for c in checks), checks
        marts_before = services.graphql(MARTS_OF_HERAULT)["assetOrError"]["assetMaterializations"]

        # A new raw version (Hérault's export rows revised), fetched from the UI: the automation
        # sensor requests what depends on it, the daemon launches it through the code server.
        for archive in revised_sources[1].iterdir():
            shutil.copy2(archive, source / archive.name)
        assert services.materialize(["raw_trade_files"], "2024") == "SUCCESS"
        def herault_marts() -> list[dict]:
            return services.graphql(MARTS_OF_HERAULT)["assetOrError"]["assetMaterializations"]

        # The sensor works in rounds (a slice that changed makes its marts stale once it has run).
        wait_until(lambda: len(herault_marts()) == len(marts_before) + 1, "Hérault's marts recomputed", services)

        # The daemon restarts in the middle of the refresh: the runs, the queue, the ticks and the
        # sensor's cursor are in PostgreSQL, so the new daemon finishes the refresh and finds
        # nothing to do again — no run lost, none requested twice.
        runs_before, ticks_before = runs(services), ticks(services)
        services.stop_daemon()
        services.start_daemon()
        wait_until(settled, "the refresh finishes after the restart and nothing is left to do", services)
        after = runs(services)
        assert {r["status"] for r in after} == {"SUCCESS"}, after
        assert {r["runId"] for r in runs_before} <= {r["runId"] for r in after}
        assert {t["timestamp"] for t in ticks_before} <= {t["timestamp"] for t in ticks(services)}
        new_marts = {m["runId"] for m in herault_marts()} - {m["runId"] for m in marts_before}
        assert len(new_marts) == 1 and all(launched_by_sensor(r) for r in after if r["runId"] in new_marts)
        assert len(herault_marts()) == len(marts_before) + 1  # recomputed once, not again after the restart

        # What the UI shows after the daemon's refresh: nothing « Unsynced » (each partition its
        # daemon's range runs materialized records its inputs; the unchanged marts were
        # materialized again, not recomputed).
        for asset in ("territory_flows", "territory_marts"):
            for place in ("departement-34", "region-12", "france-FR", "departement-75"):
                node = services.graphql(STALENESS, {"asset": [asset], "partition": f"{place}|2024"})
                assert node["assetNodeOrError"]["staleStatus"] == "FRESH", (asset, place, node)
        for asset in ("trade_flows", "published_store"):
            node = services.graphql(STALENESS, {"asset": [asset], "partition": "2024" if asset == "trade_flows" else None})
            assert node["assetNodeOrError"]["staleStatus"] == "FRESH", (asset, node)

        after = runs(services)

    # What the services recorded is readable by any process pointed at the same instance.
    monkeypatch.setenv("TRADE_PIPELINE_DAGSTER_PG_URL", postgres_url)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert len(instance.get_runs()) == len(after)
    finally:
        instance.dispose()
