"""One mechanism decides what is recomputed: a CLI build while the daemon's automation sensor
runs does every piece of work once, and the sensor, sharing its cursor, finds nothing left."""

import time

import dagster as dg
import pytest

from trade_pipeline.territories import territory_keys

from .states import NO_BROWSER, run_cli
from .ui_support import DagsterDev, ticks, wait_for_ticks

pytestmark = pytest.mark.slow

def test_a_cli_build_beside_the_daemon_does_each_piece_of_work_once(tmp_path, revised_sources, artifacts_dir):
    first = revised_sources[0]
    data = tmp_path / "data"
    with DagsterDev(data, artifacts_dir / "dagster-dev-orchestrator.log", TRADE_PIPELINE_AUTOMATION_INTERVAL="3",
                    TRADE_PIPELINE_SOURCE=str(first), BROWSER_PATH=NO_BROWSER) as ui:
        wait_for_ticks(ui, 1, after=0)  # the daemon's first evaluation: its baseline
        started = time.time()
        build = run_cli(data, "build", "--year", "2024", "--source", str(first))
        finished = time.time()
        assert build.code == 0, build.out[-3000:] + build.err[-3000:]
        assert "Recomputed" in build.out
        after = wait_for_ticks(ui, 3, after=finished)  # the daemon looks again, three times
        during = [t for t in ticks(ui) if started < t["timestamp"] < finished]

    instance = dg.DagsterInstance.from_config(str(data / "dagster"))
    # The daemon requested nothing: while the build held the lock it skipped, then found
    # nothing changed since the build's evaluations (one cursor).
    assert not instance.get_runs(dg.RunsFilter(tags={"trade_pipeline/launched_by": "trade_automation"}))
    assert all(not t["runIds"] for t in during + after)
    assert any("a build is running" in (t["skipReason"] or "") for t in during), during
    assert all("nothing changed" in (t["skipReason"] or "") for t in after), after
    # Every partition was materialized exactly once.
    for asset in ("territory_flows", "territory_marts", "territory_charts", "fiches"):
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records
        partitions = [r.partition_key for r in records]
        assert sorted(partitions) == sorted(f"{k}|2024" for k in territory_keys()), asset
    for asset in ("trade_flows", "published_store", "fiche_index"):
        assert len(instance.fetch_materializations(dg.AssetKey(asset), limit=100).records) == 1, asset
