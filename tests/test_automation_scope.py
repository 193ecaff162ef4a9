"""The daemon's share of the work is what the user chose: after a build of 2023 with --no-fiches
and of 2024 with fiches, it leaves 2023's charts and fiches alone (TRADE_PIPELINE_FICHE_YEARS),
and `trade-pipeline plan` says what it would run, without running it."""

import pytest

from .states import copy_state, run_cli

pytestmark = pytest.mark.slow


def test_plan_leaves_a_no_fiches_year_alone_and_says_so(herault_fiches, tmp_path):
    data = copy_state(herault_fiches, tmp_path / "data")
    result = run_cli(data, "plan", TRADE_PIPELINE_SOURCE="sample")
    assert result.code == 0, result.err
    assert "kept current by the daemon for: 2024 (TRADE_PIPELINE_FICHE_YEARS=built+latest)" in result.out
    # No chart nor fiche of 2023 (its marts, of the territories that build left out, are made:
    # the fiches' ten-year series read every year's marts).
    assert "2023: territory_charts" not in result.out and "2023: fiches" not in result.out
    assert "The charts and fiches of 2023 are left alone" in result.out
    # The other territories of 2024 (the build made Hérault's only) are the daemon's to make.
    assert "2024: territory_flows" in result.out or "2024: territory_charts" in result.out
    # `plan` records nothing: asked twice, it says the same.
    assert run_cli(data, "plan", TRADE_PIPELINE_SOURCE="sample").out == result.out
    # Every year, when the user asks for it.
    everything = run_cli(data, "plan", TRADE_PIPELINE_SOURCE="sample", TRADE_PIPELINE_FICHE_YEARS="all")
    assert "kept current by the daemon for: 2023, 2024" in everything.out
    assert "left alone" not in everything.out  # 2023's charts come once its slices are made:
    assert "then, once those are done: territory_charts" in everything.out
