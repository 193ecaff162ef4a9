"""Refreshing a year recomputes only what changed (data versions all the way down).

Pictures and PDFs are switched off here (BROWSER_PATH points nowhere) to keep a full year of
116 territories quick; the chart folders still hold their CSV, figures and manifest, and the
same content hashes decide what is rewritten.
"""

import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from trade_pipeline.aggregation.assets import territory_marts
from trade_pipeline.charts.assets import territory_charts
from trade_pipeline.fiches.assets import fiches
from trade_pipeline.lib.territories import territory_keys
from trade_pipeline.orchestration.resources import PipelineSettings, pipeline_resources

from .states import copy_state, pipeline_environment, run_cli
from .support import unsynced

pytestmark = pytest.mark.slow

DOWNSTREAM = ("territory_flows", "territory_marts", "territory_charts", "fiches", "fiche_index", "published_store")


def files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def materializations(data: Path, asset: str, after: int = 0) -> list[dg.EventLogRecord]:
    instance = dg.DagsterInstance.from_config(str(data / "dagster"))
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset),
                                                                    after_storage_id=after), limit=10_000).records
    return records


def last_storage_id(data: Path) -> int:
    instance = dg.DagsterInstance.from_config(str(data / "dagster"))
    return max((r.storage_id for asset in ("raw_trade_files", *DOWNSTREAM)
                for r in instance.fetch_materializations(dg.AssetKey(asset), limit=1).records), default=0)


@pytest.fixture
def refreshed(tmp_path, first_build):
    """A private copy of a whole year built from the first of `revised_sources`."""
    return copy_state(first_build, tmp_path / "data")


def test_first_build_materializes_a_whole_year_in_one_run_per_step(first_build):
    for asset in ("territory_flows", "territory_marts", "territory_charts", "fiches"):
        records = materializations(first_build, asset)
        assert {r.partition_key for r in records} == {f"{k}|2024" for k in territory_keys()}, asset
    # Each partition materialized by a run of the whole year records what it was made from: the
    # UI shows it current, not « Unsynced » (« has a new dependency on … »).
    assert unsynced(first_build) == {}


def test_identical_refresh_requests_nothing_and_rewrites_nothing(refreshed, revised_sources):
    data = refreshed
    before_files, before_id = files(data / "fiches"), last_storage_id(data)
    raw = files(data / "raw")
    store = data / "published" / "trade.duckdb"
    published = store.stat().st_mtime_ns, store.stat().st_ino
    result = run_cli(data, "build", "--year", "2024", "--source", str(revised_sources[0]))
    assert result.code == 0, result.err
    assert "Nothing changed since the last build: nothing recomputed" in result.out
    for asset in DOWNSTREAM:
        assert materializations(data, asset, after=before_id) == [], asset
    assert files(data / "fiches") == before_files
    assert files(data / "raw") == raw  # the same bytes fetched again: the raw store is not touched
    assert (store.stat().st_mtime_ns, store.stat().st_ino) == published


def test_one_department_changed_recomputes_it_its_region_and_france_only(refreshed, revised_sources):
    data = refreshed
    year_dir = data / "fiches" / "2024"
    before_folders = {key: files(year_dir / key) for key in territory_keys()}
    before_id = last_storage_id(data)
    # The second source is the first with 1 M€ more on every export row of Hérault.
    result = run_cli(data, "build", "--year", "2024", "--source", str(revised_sources[1]))
    assert result.code == 0, result.err
    output = result.out
    changed = {"departement-34|2024", "region-12|2024", "france-FR|2024"}
    marts = materializations(data, "territory_marts", after=before_id)
    assert {r.partition_key for r in marts if r.asset_materialization.metadata["recomputed"].value} == changed
    # The slices of every territory were re-hashed; only those three changed version.
    assert len({r.partition_key for r in materializations(data, "territory_flows", after=before_id)}) == 116
    # Every territory's evolution chart shows its share of France, whose total changed: each is
    # looked at again, and only what it shows at the precision drawn is rewritten.
    assert len({r.partition_key for r in materializations(data, "territory_charts", after=before_id)}) == 116
    for key in territory_keys():
        if f"{key}|2024" not in changed:
            after = files(year_dir / key)
            moved = {name for name in after if after[name] != before_folders[key].get(name)}
            assert moved <= {"evolution.svg", "evolution.png", "evolution.csv", "charts.js", "manifest.json",
                              ".tables.json"}, key  # the evolution chart's table, typed
    assert files(year_dir / "departement-34") != before_folders["departement-34"]
    assert "territory_marts          2024: Hérault, France, Occitanie; 113 skipped (unchanged) — " in output
    # The 113 others were materialized again, unchanged (not recomputed): after the revision,
    # nothing the build left current is shown « Unsynced ».
    unchanged = [r for r in materializations(data, "territory_marts", after=before_id)
                 if not r.asset_materialization.metadata["recomputed"].value]
    assert len(unchanged) == 113
    assert unsynced(data) == {}
    assert "territory_charts         2024: 116 territories" in output
    # The summary gives the time of each step that ran, and of the whole build.
    step_times = dict(re.findall(r"^  (\w+) .* — (\d+\.\d) s$", output, flags=re.M))
    assert {"raw_trade_files", "trade_flows", "territory_marts", "territory_charts", "fiches"} <= set(step_times)
    assert re.search(r"^  in all +\d+\.\d s \(\d+\.\d s in the steps", output, flags=re.M)
    # Every fiche shows France's charts, which changed: the fiches are re-assembled.
    assert "fiches                   2024: 116 territories" in output


def test_territory_steps_of_a_year_without_data_succeed_without_writing(refreshed):
    """Dagster adds the next year's marts to a backfill of a year (growth reads the previous
    year); before DGDDI publishes that year, the territory steps have nothing to compute: the run
    succeeds, says why, and materializes nothing (the charts and fiches after the marts are
    skipped, having nothing to read)."""
    data = refreshed
    instance = dg.DagsterInstance.ephemeral()
    assets = [territory_marts, territory_charts, fiches]
    result = dg.materialize(assets, partition_key="departement-34|2025",
                            resources=pipeline_resources(PipelineSettings(data_dir=str(data))),
                            instance=instance, raise_on_error=False)
    assert result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("no data for 2025 (not ingested yet): nothing computed" in m for m in messages)
    assert any("not materialized: the partitions of 2025 (no data ingested)" in m for m in messages)
    assert all(instance.get_materialized_partitions(asset.key) == set() for asset in assets)
    assert not (data / "fiches" / "2025").exists()
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM mart_territory_totals WHERE year = 2025").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM mart_territory_totals WHERE year = 2024").fetchone()[0] == 116


def latest_versions(instance: dg.DagsterInstance, asset: str) -> dict[str, str]:
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records  # newest first
    versions: dict[str, str] = {}
    for record in records:
        tags = record.asset_materialization.tags or {}
        versions.setdefault(record.partition_key, tags.get("dagster/data_version"))
    return versions


def test_unchanged_data_keeps_its_versions_and_requests_nothing_downstream(refreshed):
    """A partition's data version is a function of its content: re-materialized alone or with
    its whole year, unchanged, it keeps its version, and nothing downstream is requested."""
    from trade_pipeline.definitions import defs
    from trade_pipeline.orchestration import refresh

    data = refreshed
    repository = defs.get_repository_def()
    with pipeline_environment(data), dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        before = {asset: latest_versions(instance, asset) for asset in ("territory_flows", "territory_marts")}
        job = defs.resolve_job_def("territory_assets")
        whole_year = refresh.Run((), 2024, tuple(territory_keys()))
        # One partition alone (the built versions came from a run of all 116), then the whole year.
        for run in ({"partition_key": "departement-34|2024"}, {"tags": whole_year.tags}):
            for asset in ("territory_flows", "territory_marts"):
                assert job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(asset)], **run).success
            assert {asset: latest_versions(instance, asset) for asset in before} == before, run
            assert refresh.evaluate(repository, instance).requested == {}, run
        # One materialization per partition and run: 116 from the build, 1 + 116 from here.
        records = instance.fetch_materializations(dg.AssetKey("territory_marts"), limit=10_000).records
        assert len(records) == 116 + 1 + 116


def test_a_revision_after_a_build_that_left_charts_for_later_redraws_the_changed_charts(tmp_path, revised_sources):
    """A build that leaves some charts for later (here the territories outside `--departement`;
    in the demo, the years before the one asked for) must not blind the next evaluations: the
    charts it did make are redrawn when their data change. (They were not: the conditions saw
    their own earlier drawing as newer than the revision, and fiches showed stale charts.)"""
    data = tmp_path / "data"
    scoped = ("build", "--year", "2024", "--departement", "34")
    assert run_cli(data, *scoped, "--source", str(revised_sources[0])).code == 0
    partners = data / "fiches" / "2024" / "departement-34" / "partners.csv"
    before, before_id = partners.read_bytes(), last_storage_id(data)
    result = run_cli(data, *scoped, "--source", str(revised_sources[1]))  # Hérault's exports revised
    assert result.code == 0, result.err
    redrawn = {r.partition_key for r in materializations(data, "territory_charts", after=before_id)}
    assert {"departement-34|2024", "region-12|2024", "france-FR|2024"} <= redrawn
    assert partners.read_bytes() != before
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        (exports,) = connection.execute("SELECT exports_eur FROM mart_partner_balance WHERE year = 2024 AND "
                                        "level = 'departement' AND territory_code = '34' ORDER BY exports_eur DESC "
                                        "LIMIT 1").fetchone()
    assert any(line.startswith(f"{exports}") or f";{exports};" in line or line.endswith(f";{exports}")
               for line in partners.read_text(encoding="utf-8-sig").splitlines())


QUARTERLY = ("latest_publication_files", "provisional_flows", "quarterly_indicators", "published_store", "conjoncture")


def test_a_new_latest_publication_recomputes_the_latest_quarters_only_and_an_identical_one_nothing(
        tmp_path, first_build, revised_sources):
    data, source = copy_state(first_build, tmp_path / "data"), tmp_path / "source"
    shutil.copytree(revised_sources[0], source)
    everything = (*DOWNSTREAM, "trade_flows", "conjoncture", *QUARTERLY)

    def build_and_see() -> dict[str, int]:
        before = {asset: max((r.storage_id for r in materializations(data, asset)), default=0) for asset in everything}
        result = run_cli(data, "build", "--year", "2024", "--source", str(source))
        assert result.code == 0, result.out[-3000:] + result.err[-3000:]
        return {asset: len(materializations(data, asset, before[asset])) for asset in everything
                if materializations(data, asset, before[asset])}

    def in_use() -> list[tuple]:
        with duckdb.connect(str(data / "published" / "trade.duckdb"), read_only=True) as store:
            return store.execute("SELECT year, quarter, vintage, status FROM quarters WHERE in_use "
                                 "ORDER BY year, quarter").fetchall()

    build_and_see()  # the same files from another folder: a new provenance, published as such
    for vintage, revised in (("202511", None), ("202512", "202511")):
        assert run_cli(tmp_path, "sample", "--out", str(source), "--year", "2024", "--scale", "0.02",
                       "--latest", vintage).code == 0
        for annual in source.glob("*Regional-2024*"):  # the revised source's own annual files stay
            shutil.copy2(revised_sources[0] / annual.name, annual)
        recomputed = build_and_see()
        # The years' rows, slices, marts, charts and fiches are untouched: only the latest quarters
        # and what shows them (the store, the « Conjoncture » pages).
        assert set(recomputed) == set(QUARTERLY), recomputed
        assert in_use() == [*((2024, q, "202502", "definitive") for q in range(1, 5)),
                            *((2025, q, vintage, "provisional") for q in (1, 2, 3))]
        page = (data / "fiches" / "conjoncture" / "departement-34.html").read_text(encoding="utf-8")
        month = {"202511": "novembre 2025", "202512": "décembre 2025"}
        assert f"provisoire (publication de {month[vintage]})" in page
        if revised:
            assert f"révise celle de {month[revised]}" in page
    # The same files again: nothing after the fetch.
    assert set(build_and_see()) <= {"latest_publication_files"}


def test_a_refused_latest_publication_does_not_hold_back_the_years(tmp_path, first_store, revised_sources):
    data, source = copy_state(first_store, tmp_path / "data"), tmp_path / "source"
    shutil.copytree(revised_sources[1], source)  # the year revised: Hérault's exports changed
    # … beside a latest publication whose name does not say its month: which revision is it?
    (source / "REGIONAL_CPF4PAYSE.txt").write_text("E;3;2025;34;12;C11Z;1102;US;100;1\n")
    (source / "REGIONAL_CPF4PAYSI.txt").write_text("I;3;2025;34;12;C11Z;1102;US;100;1\n")
    result = run_cli(data, "build", "--year", "2024", "--source", str(source), "--no-fiches")
    assert result.code == 0, result.out[-3000:] + result.err[-3000:]
    assert ("warning: the latest publication was refused (latest_publication_files: REGIONAL_CPF4PAYSE.txt: a "
            "latest-publication file whose name does not say its publication month") in result.out
    with duckdb.connect(str(data / "published" / "trade.duckdb"), read_only=True) as store:
        herault = store.execute("SELECT sum(value_eur) FROM trade_flows WHERE flow = 'E' AND department_code = '34'"
                                ).fetchone()[0]
        assert store.execute("SELECT count(*) FROM latest_sources").fetchone() == (0,)
    with duckdb.connect(str(first_store / "published" / "trade.duckdb"), read_only=True) as before:
        assert herault != before.execute("SELECT sum(value_eur) FROM trade_flows WHERE flow = 'E' "
                                         "AND department_code = '34'").fetchone()[0]  # the revision is published
