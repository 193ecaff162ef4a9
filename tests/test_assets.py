"""Assets with small local resources, as the Dagster example projects test theirs: what the
validation step stores and reports, for good rows and for rows that break the contract."""

import dagster as dg
import duckdb

from trade_pipeline.ingestion.assets import raw_trade_files
from trade_pipeline.orchestration.resources import PipelineSettings, pipeline_resources
from trade_pipeline.validation.assets import PANDERA_CHECK, trade_flows

from .support import SMALL_ROWS, small_lines, write_year_dir


def materialize(tmp_path, source) -> dg.ExecuteInProcessResult:
    resources = pipeline_resources(PipelineSettings(data_dir=str(tmp_path / "data"), source=str(source)))
    with dg.instance_for_test() as instance:
        return dg.materialize([raw_trade_files, trade_flows], partition_key="2024", resources=resources,
                              instance=instance, raise_on_error=False)


def test_trade_flows_stores_the_year_and_reports_each_check_of_that_year(tmp_path):
    result = materialize(tmp_path, write_year_dir(tmp_path / "source", 2024))
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {PANDERA_CHECK, "no_duplicate_keys", "known_country_codes",
                                                  "known_cpf4_codes", "known_a129_codes", "plausible_row_counts",
                                                  "plausible_totals", "consistent_with_stored"}
    assert all(e.partition == "2024" and e.metadata["year"].value == 2024 for e in evaluations)
    assert {e.check_name: e.passed for e in evaluations}[PANDERA_CHECK]
    (materialization,) = result.asset_materializations_for_node("trade_flows")
    assert materialization.metadata["dagster/row_count"].value == len(SMALL_ROWS)
    with duckdb.connect(str(tmp_path / "data" / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM trade_flows WHERE year = 2024").fetchone() == (len(SMALL_ROWS),)


def test_a_broken_contract_is_a_failed_check_of_the_year_and_stores_nothing(tmp_path):
    lines = small_lines(2024, "E")
    lines[0] = lines[0].replace(";1200000;", ";-5;")
    result = materialize(tmp_path, write_year_dir(tmp_path / "source", 2024, export_lines=lines))
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.partition) == (PANDERA_CHECK, False, "2024")
    assert evaluation.metadata["failing_count"].value == 1
    assert not (tmp_path / "data" / "warehouse" / "warehouse.duckdb").exists()  # refused before the warehouse


def test_a_year_without_data_is_never_materialized(tmp_path):
    """The marts of a year not ingested (Dagster adds the next year to a backfill; the latest year
    is often not published yet): the run succeeds, says why, and the partitions stay missing —
    never 116 green « Materialized » partitions of nothing, which would publish again."""
    from trade_pipeline.aggregation.assets import territory_flows, territory_marts
    from trade_pipeline.orchestration.partitions import partition_key

    resources = pipeline_resources(PipelineSettings(data_dir=str(tmp_path / "data"), source=str(tmp_path / "none")))
    with dg.instance_for_test() as instance:
        for asset in (territory_flows, territory_marts):
            result = dg.materialize([asset], partition_key=str(partition_key(2025, "departement-34")),
                                    resources=resources, instance=instance, raise_on_error=False)
            assert result.success
            assert result.asset_materializations_for_node(asset.op.name) == []
            assert instance.get_materialized_partitions(asset.key) == set()
            logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
            assert any("not materialized: the partitions of 2025 (no data ingested)" in m for m in logged), asset.key


def test_a_latest_publication_with_duplicate_rows_is_refused_naming_its_lines_and_stores_nothing(tmp_path):
    from trade_pipeline.ingestion.assets import latest_publication_files
    from trade_pipeline.validation.assets import provisional_flows

    from .support import dgddi_line, text, zip_bytes

    source = tmp_path / "source"
    source.mkdir()
    for flow, word in (("E", "export"), ("I", "import")):
        line = dgddi_line(flow, 3, 2025, "34", "12", "C11Z", "1102", "US", 100, 1)
        rows = [line, line] if flow == "E" else [line]  # the same key twice in the export file
        (source / f"202512-stat-regional-ce-{word}.zip").write_bytes(
            zip_bytes({f"stat-regional-ce-{word}/REGIONAL_CPF4PAYS{flow}.txt": text(rows)}))
    resources = pipeline_resources(PipelineSettings(data_dir=str(tmp_path / "data"), source=str(source)))
    with dg.instance_for_test() as instance:
        result = dg.materialize([latest_publication_files, provisional_flows], resources=resources, instance=instance,
                                raise_on_error=False)
    assert not result.success
    duplicates = {e.check_name: e for e in result.get_asset_check_evaluations()}["no_duplicate_keys"]
    assert not duplicates.passed and duplicates.metadata["failed"].value == "202512"
    assert any("202512-stat-regional-ce-export.zip" in example and "lines 1, 2" in example
               for example in duplicates.metadata["examples"].value), duplicates.metadata["examples"].value
    assert not (tmp_path / "data" / "warehouse" / "warehouse.duckdb").exists()  # refused before the warehouse
