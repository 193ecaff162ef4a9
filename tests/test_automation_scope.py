"""The daemon's share of the work is what the user chose: after a build of 2023 with --no-fiches
and of 2024 with fiches, it leaves 2023's charts and fiches alone (TRADE_PIPELINE_FICHE_YEARS),
and `trade-pipeline plan` says what it would run, without running it."""

import time

import dagster as dg
import pytest

from .states import copy_state, run_cli
from .ui_support import DagsterDev, open_browser, ticks, wait_for_ticks

pytestmark = pytest.mark.slow

RUNS = "{ runsOrError { ... on Runs { count } } }"


def test_plan_leaves_a_no_fiches_year_alone_and_says_so(demo_like, tmp_path):
    data = copy_state(demo_like, tmp_path / "data")
    source = str(demo_like.parent / "source")
    result = run_cli(data, "plan", TRADE_PIPELINE_SOURCE=source)
    assert result.code == 0, result.err
    assert "kept current by the daemon for: 2024 (TRADE_PIPELINE_FICHE_YEARS=built+latest)" in result.out
    # No chart nor fiche of 2023 (built with --no-fiches): its marts are made (the fiches'
    # ten-year series read every year's marts), its charts and fiches are left alone.
    assert "2023: territory_charts" not in result.out and "2023: fiches" not in result.out
    assert "the charts and fiches of 2023 are left alone" in result.out
    # `plan` records nothing: asked twice, it says the same.
    assert run_cli(data, "plan", TRADE_PIPELINE_SOURCE=source).out == result.out
    # Every year, when the user asks for it: 2023's charts, then its fiches.
    everything = run_cli(data, "plan", TRADE_PIPELINE_SOURCE=source, TRADE_PIPELINE_FICHE_YEARS="all")
    assert "kept current by the daemon for: 2023, 2024" in everything.out
    assert "left alone" not in everything.out
    assert "2023: territory_charts" in everything.out, everything.out


def test_a_new_fiche_template_requests_the_fiches_that_exist_and_nothing_upstream(demo_like, tmp_path):
    """A new version of the tool whose fiche template changed (the fiches' code version holds the
    templates' hash): the fiches that exist — 2024's, not 2023's, built --no-fiches — are
    requested again, and nothing upstream (the index follows once they are made). The same
    evaluation as `plan`, the daemon and a build (orchestration/refresh.py), on the demo's state
    with the new code."""
    from trade_pipeline.definitions import defs
    from trade_pipeline.lib.territories import territory_keys
    from trade_pipeline.orchestration import refresh

    data = copy_state(demo_like, tmp_path / "data")
    fiches_key = dg.AssetKey("fiches")
    repository = defs.get_repository_def()
    assets = list({id(a): a for a in repository.assets_defs_by_key.values()}.values())
    changed = [a.map_asset_specs(lambda spec: spec.replace_attributes(code_version=f"{spec.code_version}+new"))
               if fiches_key in a.keys else a for a in assets]
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        before = refresh.evaluate(repository, instance).requested
        new_code = dg.Definitions(assets=changed).get_repository_def()  # resources already bound
        after = refresh.evaluate(new_code, instance).requested
    assert fiches_key not in before  # the same code: no fiche
    assert after[fiches_key] == {f"{key}|2024" for key in territory_keys()}
    # Nothing else than with the same code (2023's charts: the daemon leaves them alone).
    assert {key: keys for key, keys in after.items() if key != fiches_key} == before


@pytest.mark.browser  # the screenshot of the tick history
def test_after_a_demo_like_build_the_daemon_has_nothing_to_do(demo_like, tmp_path, artifacts_dir):
    """The acceptance of a user's first day: after the demo's builds (an earlier year with
    --no-fiches, then the latest with fiches), `plan` lists nothing, and the daemon started on
    that data directory launches no run in two sensor intervals; each of its skipped ticks says
    why, where the UI shows it (the sensor's tick history)."""
    data = copy_state(demo_like, tmp_path / "data")
    source = str(demo_like.parent / "source")
    result = run_cli(data, "plan", TRADE_PIPELINE_SOURCE=source)
    assert result.code == 0, result.err
    assert "Nothing to recompute now; the charts and fiches of 2023 are left alone" in result.out

    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        built = instance.get_runs_count()  # the builds' own runs
    interval = 3
    with DagsterDev(data, artifacts_dir / "dagster-dev-demo-like.log", TRADE_PIPELINE_SOURCE=source,
                    TRADE_PIPELINE_AUTOMATION_INTERVAL=str(interval)) as ui:
        started = time.time()
        wait_for_ticks(ui, 2, after=started - 1, timeout=180)
        time.sleep(2 * interval)  # and two intervals more, for a run that would be queued late
        assert ui.graphql(RUNS)["runsOrError"]["count"] == built
        later = [t for t in ticks(ui) if t["timestamp"] > started - 1]
        assert len(later) >= 2 and all(t["status"] == "SKIPPED" and not t["runIds"] for t in later), later
        assert all("nothing changed since the last evaluation; the charts and fiches of 2023 are left alone"
                   in t["skipReason"] for t in later), later
        ui.graphql("mutation { setNuxSeen }")
        # The tick list says « 0 runs requested »; the reason is in each tick's « View logs ». The
        # newest row may be a tick still evaluating, whose logs are not written yet (a busy machine
        # makes that likely): open the oldest finished tick's.
        with open_browser() as browser:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(ui.url + "/locations/trade_pipeline/sensors/trade_automation", wait_until="networkidle")
            finished = page.get_by_role("row").filter(has_text="0 runs requested")
            finished.last.get_by_role("button", name="View logs").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("nothing changed since the last evaluation").first.wait_for(timeout=60_000)
            assert "the charts and fiches of 2023 are left alone" in dialog.inner_text()
            page.wait_for_timeout(1000)  # the dialog fades in
            page.screenshot(path=str(artifacts_dir / "ui-automation-skipped-tick-logs.png"))
