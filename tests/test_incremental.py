"""Refreshing a year recomputes only what changed (data versions all the way down).

Pictures and PDFs are switched off here (BROWSER_PATH points nowhere) to keep a full year of
116 territories quick; the chart folders still hold their CSV, figures and manifest, and the
same content hashes decide what is rewritten.
"""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from trade_pipeline import cli
from trade_pipeline.aggregation.assets import territory_marts
from trade_pipeline.charts.assets import territory_charts
from trade_pipeline.fiches.assets import fiches
from trade_pipeline.nomenclature import territory_keys
from trade_pipeline.resources import PipelineSettings
from trade_pipeline.settings import get_settings

from .support import change_departement_rows

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


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    source, data = root / "source", root / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADE_PIPELINE_DATA_DIR", str(data))
        patch.setenv("DAGSTER_HOME", str(data / "dagster"))
        patch.setenv("BROWSER_PATH", str(root / "no-chromium"))
        assert cli.main(["sample", "--out", str(source), "--year", "2024", "--scale", "0.05"]) == 0
        assert cli.main(["build", "--year", "2024", "--source", str(source)]) == 0
        yield source, data, patch


def test_first_build_materializes_a_whole_year_in_one_run_per_step(built):
    _, data, _ = built
    for asset in ("territory_flows", "territory_marts", "territory_charts", "fiches"):
        records = materializations(data, asset)
        assert {r.partition_key for r in records} == {f"{k}|2024" for k in territory_keys()}, asset


def test_identical_refresh_requests_nothing_and_rewrites_nothing(built, capsys):
    source, data, _ = built
    before_files, before_id = files(data / "fiches"), last_storage_id(data)
    published = (data / "published" / "trade.duckdb").stat().st_mtime_ns
    assert cli.main(["build", "--year", "2024", "--source", str(source)]) == 0
    assert "Nothing changed since the last build: nothing recomputed" in capsys.readouterr().out
    for asset in DOWNSTREAM:
        assert materializations(data, asset, after=before_id) == [], asset
    assert files(data / "fiches") == before_files
    assert (data / "published" / "trade.duckdb").stat().st_mtime_ns == published


def test_one_departement_changed_recomputes_it_its_region_and_france_only(built, capsys):
    source, data, _ = built
    year_dir = data / "fiches" / "2024"
    before_folders = {key: files(year_dir / key) for key in territory_keys()}
    before_id = last_storage_id(data)
    change_departement_rows(next(source.glob("*-Regional-2024-export.zip")), "34", 1_000_000)
    assert cli.main(["build", "--year", "2024", "--source", str(source)]) == 0
    output = capsys.readouterr().out
    changed = {"departement-34|2024", "region-12|2024", "france-FR|2024"}
    for asset in ("territory_marts", "territory_charts"):
        assert {r.partition_key for r in materializations(data, asset, after=before_id)} == changed, asset
    # The slices of every territory were re-hashed; only those three changed version.
    assert len({r.partition_key for r in materializations(data, "territory_flows", after=before_id)}) == 116
    for key in territory_keys():
        if f"{key}|2024" not in changed:
            assert files(year_dir / key) == before_folders[key], key  # same files, same mtimes
    assert files(year_dir / "departement-34") != before_folders["departement-34"]
    assert "territory_marts   2024: Hérault, France, Occitanie; 113 skipped (unchanged)" in output
    assert "territory_charts  2024: Hérault, France, Occitanie; 113 skipped (unchanged)" in output
    # Every fiche shows France's charts, which changed: the fiches are re-assembled.
    assert "fiches            2024: 116 territories" in output


def test_territory_steps_of_a_year_without_data_succeed_without_writing(built):
    """Dagster adds the next year's marts to a backfill of a year (growth reads the previous
    year); before DGDDI publishes that year, the territory steps have nothing to compute."""
    _, data, _ = built
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([territory_marts, territory_charts, fiches], partition_key="departement-34|2025",
                            resources={"settings": PipelineSettings(data_dir=str(data))},
                            instance=instance, raise_on_error=False)
    assert result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert sum("no data for 2025 (not ingested yet): nothing computed" in m for m in messages) == 3
    assert not (data / "fiches" / "2025").exists()
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM mart_territory_totals WHERE year = 2025").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM mart_territory_totals WHERE year = 2024").fetchone()[0] == 116
