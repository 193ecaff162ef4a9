"""The one mechanism that decides what is recomputed (orchestration/refresh.py): its planning rules
and its cursor, without a build."""

import dataclasses

import dagster as dg
import pytest

from trade_pipeline.definitions import defs
from trade_pipeline.lib.territories import territory_keys
from trade_pipeline.orchestration import refresh
from trade_pipeline.orchestration.dagster_internals import requested_partitions, with_requested_partitions

GRAPH = defs.get_repository_def().asset_graph
FLOWS, MARTS, CHARTS = dg.AssetKey("territory_flows"), dg.AssetKey("territory_marts"), dg.AssetKey("territory_charts")
ROWS, STORE, INDEX = dg.AssetKey("trade_flows"), dg.AssetKey("published_store"), dg.AssetKey("fiche_index")
FICHES = dg.AssetKey("fiches")


def keys(year: int, *territories: str) -> set[str]:
    return {f"{t}|{year}" for t in territories}


def test_a_whole_year_of_territories_is_one_run_per_asset_in_dependency_order():
    """… the published store in its place: before the charts and fiches, which name it."""
    everything = set(territory_keys())
    planned = refresh.plan({STORE: {None}, CHARTS: keys(2024, *everything), MARTS: keys(2024, *everything),
                            FICHES: keys(2024, *everything), INDEX: {None}}, GRAPH)
    assert [(r.assets, r.year, len(r.territories)) for r in planned.runs] == [
        ((MARTS,), 2024, 116), ((STORE,), None, 0), ((CHARTS,), 2024, 116), ((FICHES,), 2024, 116), ((INDEX,), None, 0)]
    assert planned.left_out == planned.held_back == {}
    # What each run covers, in words the UI's runs list shows, beside Dagster's range tags.
    assert planned.runs[0].tags == {"assets": "territory_marts", "year": "2024",
                                    "territories": "france-FR … departement-9E (116)",
                                    "dagster/asset_partition_range_start": "france-FR|2024",
                                    "dagster/asset_partition_range_end": "departement-9E|2024"}
    assert planned.runs[1].tags == {"assets": "published_store"}
    assert [r.job_name for r in planned.runs] == ["territory_assets", "unpartitioned_assets", "territory_assets",
                                                  "territory_assets", "unpartitioned_assets"]
    rows = refresh.plan({ROWS: {"2024", "2023"}, FLOWS: keys(2024, *everything)}, GRAPH)
    assert [(r.assets, r.year, len(r.territories)) for r in rows.runs] == [
        ((ROWS,), 2023, 0), ((ROWS,), 2024, 0), ((FLOWS,), 2024, 116)]
    assert [r.job_name for r in rows.runs] == ["yearly_assets", "yearly_assets", "territory_assets"]


def test_the_store_waits_while_what_the_rows_change_upstream_of_it_is_not_known():
    """New rows (or only a new provenance of the same rows) request the slices and the store at
    once; the store waits for the next round — the slices may change the marts it publishes —
    and is not recorded as requested, so that the next evaluation asks for it again."""
    everything = set(territory_keys())
    planned = refresh.plan({ROWS: {"2024"}, FLOWS: keys(2024, *everything), STORE: {None}}, GRAPH)
    assert [r.assets for r in planned.runs] == [(ROWS,), (FLOWS,)]
    assert planned.held_back == {STORE: {None}} and planned.not_run == {STORE: {None}}
    # Next round: the marts that changed run, and the store after them.
    planned = refresh.plan({MARTS: keys(2024, "departement-34"), STORE: {None}}, GRAPH)
    assert [r.assets for r in planned.runs] == [(MARTS,), (STORE,)] and planned.held_back == {}


def test_territories_are_split_into_contiguous_ranges_one_partition_alone():
    runs = refresh.plan({MARTS: keys(2024, "france-FR", "region-12", "departement-34", "departement-33")}, GRAPH).runs
    assert [r.territories for r in runs] == [("france-FR",), ("region-12",), ("departement-33", "departement-34")]
    assert runs[0].partition_key == "france-FR|2024"
    assert runs[0].tags == {"assets": "territory_marts", "year": "2024", "territories": "france-FR"}
    assert runs[2].partition_key is None and runs[2].partitions == keys(2024, "departement-33", "departement-34")


def test_a_scope_runs_its_territories_and_reports_the_others():
    planned = refresh.plan({MARTS: keys(2024, "france-FR", "region-12", "departement-34", "departement-75")},
                           GRAPH, scope={"france-FR", "region-12", "departement-34"})
    assert {p for r in planned.runs for p in r.partitions} == keys(2024, "france-FR", "region-12", "departement-34")
    assert planned.left_out == {MARTS: keys(2024, "departement-75")}


def test_the_store_side_of_the_graph_holds_the_parents_of_the_published_store():
    assert refresh.upstream_of(GRAPH, {STORE}) == {dg.AssetKey("raw_trade_files"), ROWS, FLOWS, MARTS, STORE,
                                                   *map(dg.AssetKey, ("latest_publication_files", "provisional_flows",
                                                                      "quarterly_indicators"))}


def test_a_fresh_instance_is_primed_once_and_its_first_evaluation_requests_nothing():
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        assert refresh.load_cursor(instance) is None
        assert refresh.prime(repository, instance) is True
        assert refresh.prime(repository, instance) is False
        assert refresh.evaluate(repository, instance).requested == {}


def test_partitions_left_out_are_not_recorded_as_requested_and_the_rest_moves_on():
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        refresh.prime(repository, instance)
        evaluation = refresh.evaluate(repository, instance)
        before = evaluation.cursor
        evaluation = dataclasses.replace(evaluation, cursor=with_requested_partitions(
            before, {MARTS: keys(2024, "france-FR", "departement-34"), STORE: {None}}))
        advanced = refresh.advance(evaluation, {MARTS: keys(2024, "departement-34")})
        assert requested_partitions(advanced, MARTS) == keys(2024, "france-FR")
        kept, marts = advanced.previous_condition_cursors_by_key[MARTS], before.previous_condition_cursors_by_key[MARTS]
        assert kept.node_cursors_by_unique_id == marts.node_cursors_by_unique_id  # the rest moves on
        assert advanced.previous_condition_cursors_by_key[FLOWS] == before.previous_condition_cursors_by_key[FLOWS]
        assert advanced.evaluation_id == before.evaluation_id
        assert refresh.advance(evaluation, {}) is evaluation.cursor
        # An unpartitioned asset held back: its request is not recorded either.
        assert requested_partitions(evaluation.cursor, STORE) == {None}
        assert requested_partitions(refresh.advance(evaluation, {STORE: {None}}), STORE) == set()


def test_a_build_makes_the_charts_of_its_years_and_keeps_every_years_marts_current():
    everything = set(territory_keys())
    requested = {MARTS: keys(2023, *everything) | keys(2024, *everything),
                 CHARTS: keys(2023, *everything) | keys(2024, *everything)}
    planned = refresh.plan(requested, GRAPH, years={2024}, years_restrict={CHARTS})
    assert [(r.assets, r.year) for r in planned.runs] == [((MARTS,), 2023), ((MARTS,), 2024), ((CHARTS,), 2024)]
    assert planned.left_out == {CHARTS: keys(2023, *everything)}  # reported, and requested again next time


def test_the_daemon_keeps_the_charts_and_fiches_of_the_years_a_user_chose(tmp_path, monkeypatch):
    stored, built = {2015, 2016, 2023, 2024}, {2024}
    assert refresh.automated_years("built+latest", stored, built) == {2024}
    assert refresh.automated_years("built+latest", stored | {2025}, built) == {2024, 2025}  # a new year: its fiches
    assert refresh.automated_years("built", stored | {2025}, built) == {2024}
    assert refresh.automated_years("latest", stored, {2016}) == {2024}
    assert refresh.automated_years("all", stored, built) == stored
    assert refresh.automated_years("2016,2023", stored, built) == {2016, 2023}
    assert refresh.automated_years("built+latest", set(), set()) == set()
    # « built »: the years with a fiche page (an index alone, or an empty folder, is not one).
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "index.html").write_text("index")
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "departement-34.html").write_text("fiche")
    (tmp_path / "assets").mkdir()
    assert refresh.years_built(tmp_path) == {2024} and refresh.years_built(tmp_path / "none") == set()
    # The setting is checked where it is read.
    from trade_pipeline.settings import SettingsError, get_settings

    monkeypatch.setenv("TRADE_PIPELINE_FICHE_YEARS", "recent")
    with pytest.raises(SettingsError, match=r"TRADE_PIPELINE_FICHE_YEARS='recent': one of built\+latest"):
        get_settings()
    monkeypatch.setenv("TRADE_PIPELINE_FICHE_YEARS", "2023, 2024")
    assert get_settings().fiche_years == "2023, 2024"
    assert refresh.automated_years(get_settings().fiche_years, stored, built) == {2023, 2024}
