"""`trade-pipeline build` end to end through Dagster, from every kind of source (up to the published
store: the charts and fiches are tested in test_incremental, test_fiches and test_ui)."""

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from trade_pipeline import cli
from trade_pipeline.ingestion.sample_model import generate_rows
from trade_pipeline.orchestration.metadata import LAUNCHED_BY_TAG

from .support import SMALL_ROWS, LocalServer, listing_page, small_lines, text, year_zip

pytestmark = pytest.mark.slow


def published(data_dir, sql, params=None):
    with duckdb.connect(str(data_dir / "published" / "trade.duckdb"), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def totals_meur(data_dir, year, where="true"):
    rows = published(data_dir, f"""SELECT flow, round(sum(value_eur) / 1e6, 1) FROM trade_flows
                                   WHERE year = ? AND {where} GROUP BY flow ORDER BY flow""", [year])
    return dict(rows)


def test_sample_build_publishes_the_2024_figures_exactly(sample_build):
    assert totals_meur(sample_build, 2024, "department_code = '34'") == {"E": 2674.2, "I": 4818.7}
    assert totals_meur(sample_build, 2024, "region_code = '12'") == {"E": 49453.9, "I": 37655.4}
    assert totals_meur(sample_build, 2024) == {"E": 580354.5, "I": 684776.3}
    assert published(sample_build, "SELECT DISTINCT year FROM trade_flows ORDER BY 1") == [(2022,), (2023,), (2024,)]
    metadata = dict(published(sample_build, "SELECT key, value FROM metadata"))
    assert metadata["synthetic"] == "true" and metadata["notice"] == "données fictives de démonstration"
    types = dict(published(sample_build, "SELECT column_name, data_type FROM information_schema.columns "
                                         "WHERE table_name = 'trade_flows'"))
    assert types["value_eur"] == "BIGINT" and types["country_code"] == "VARCHAR" and types["cpf4_code"] == "VARCHAR"
    territories = published(sample_build, "SELECT level, count(*) FROM territories GROUP BY level ORDER BY level")
    assert territories == [("departement", 101), ("france", 1), ("region", 14)]
    assert published(sample_build, "SELECT name, insee_code, parent_region_code FROM territories "
                                   "WHERE level = 'departement' AND code = '9D'") == [("La Réunion", "974", "24")]


def test_runs_are_recorded_in_the_persistent_instance(sample_build):
    instance = DagsterInstance.from_config(str(sample_build / "dagster"))
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
    assert len(runs) >= 4  # one ingestion run per year and the publication
    assert all(run.tags.get(LAUNCHED_BY_TAG) == "cli" for run in runs)
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [__import__("dagster").AssetCheckKey(__import__("dagster").AssetKey("trade_flows"), "no_duplicate_keys")])
    assert list(checks.values())[0].status.value == "SUCCEEDED"


def test_build_from_a_directory_written_by_the_sample_command(data_dir, tmp_path, capsys):
    source = tmp_path / "dgddi"
    assert cli.main(["sample", "--out", str(source), "--year", "2023", "--scale", "0.05"]) == 0
    assert cli.main(["build", "--year", "2023", "--source", str(source), "--no-fiches"]) == 0
    expected = {flow: round(generate_rows(2023, flow, 0.05)["value_eur"].sum() / 1e6, 1) for flow in "EI"}
    assert totals_meur(data_dir, 2023) == expected
    output = capsys.readouterr().out
    assert "published store" in output and str(data_dir / "published" / "trade.duckdb") in output


def test_build_from_hand_written_text_files(data_dir, tmp_path):
    source = tmp_path / "by_hand"
    source.mkdir()
    (source / "Region_2024_Export.txt").write_bytes(text(small_lines(2024, "E")))
    (source / "Region_2024_Import.txt").write_bytes(text(small_lines(2024, "I"), newline="\n"))
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--no-fiches"]) == 0
    rows = published(data_dir, "SELECT flow, quarter, department_code, region_code, a129_code, cpf4_code, "
                               "country_code, value_eur, mass_kg FROM trade_flows ORDER BY flow, value_eur")
    expected = sorted((f, q, d, r, a, c, p, v, m) for f, q, d, r, a, c, p, v, m in SMALL_ROWS)
    assert sorted(rows) == expected
    sources = published(data_dir, "SELECT source, synthetic FROM sources WHERE year = 2024")
    assert sources == [(str(source), False)]


def test_build_from_the_dgddi_listing_over_http(data_dir, monkeypatch):
    with LocalServer() as server:
        server.serve_bytes("/site_fr/telechargement/telechargement_SGBD.asp", listing_page([
            "/fichiers/202402-Regional-2023-export.zip",
            "/fichiers/202402-Regional-2023-import.zip",
            "/fichiers/202502-Regional-2024-export.zip",
            "/fichiers/202502-Regional-2024-import.zip",
            "/fichiers/202510-Regional-2024-import.zip",  # a re-issue: the later vintage wins
            "/fichiers/202508-National-2024-export.zip",
            "/site_fr/aide.asp",
        ]), content_type="text/html; charset=utf-8")
        for name, flow in [("202502-Regional-2024-export.zip", "E"), ("202510-Regional-2024-import.zip", "I")]:
            server.serve_bytes(f"/fichiers/{name}", year_zip(2024, flow))
        monkeypatch.setenv("TRADE_PIPELINE_LISTING_URL", server.url + "/site_fr/telechargement/telechargement_SGBD.asp")
        assert cli.main(["build", "--year", "2024", "--source", "dgddi", "--no-fiches"]) == 0
        assert "/fichiers/202502-Regional-2024-import.zip" not in server.hits
    assert dict(published(data_dir, "SELECT flow, sum(value_eur)::BIGINT FROM trade_flows "
                                    "WHERE department_code = '34' GROUP BY flow")) == {"E": 4_550_000, "I": 5_500_000}
    (files,) = published(data_dir, "SELECT files FROM sources WHERE year = 2024")[0]
    assert "202510-Regional-2024-import.zip" in files and server.url in files and '"sha256"' in files


def test_build_from_a_zip_url(data_dir):
    import io
    import zipfile

    both = io.BytesIO()
    with zipfile.ZipFile(both, "w") as archive:
        archive.writestr("Region_2024_Export.txt", text(small_lines(2024, "E")))
        archive.writestr("Region_2024_Import.txt", text(small_lines(2024, "I")))
    with LocalServer() as server:
        server.serve_bytes("/data/regional-2024.zip", both.getvalue())
        assert cli.main(["build", "--year", "2024", "--source", server.url + "/data/regional-2024.zip", "--no-fiches"]) == 0
    assert totals_meur(data_dir, 2024, "department_code = '31'") == {"E": 3000.0, "I": 2200.0}


def test_build_some_departments_with_their_region_and_france(data_dir, tmp_path, capsys):
    source = tmp_path / "dgddi"
    cli.main(["sample", "--out", str(source), "--year", "2024", "--scale", "0.05"])
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--departement", "34", "--no-fiches"]) == 0
    built = published(data_dir, "SELECT level, territory_code, exports_share_of_region IS NOT NULL "
                                 "FROM territory_totals ORDER BY level")
    assert built == [("departement", "34", True), ("france", "FR", False), ("region", "12", False)]
    assert cli.main(["build", "--year", "2024", "--source", str(source), "--departement", "2A"]) == 2
    assert "unknown département code '2A'" in capsys.readouterr().err
