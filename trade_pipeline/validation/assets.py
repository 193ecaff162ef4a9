"""Dagster wiring of the validation step: `trade_flows`, its pandera contract and its Great
Expectations checks, each reported as an asset check of the year it checked."""

from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from trade_pipeline.ingestion.assets import raw_trade_files
from trade_pipeline.ingestion.raw_store import RawStore
from trade_pipeline.ingestion.sources import archive_limits, expected_errors
from trade_pipeline.orchestration.conditions import EAGER_ON_DATA_CHANGE
from trade_pipeline.orchestration.metadata import Stopwatch, column_schema, table_metadata
from trade_pipeline.orchestration.partitions import year_partitions
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, PipelineSettings, Warehouse
from trade_pipeline.tables import TRADE_FLOWS
from trade_pipeline.validation.expectations import (
    EXPECTATION_SPECS,
    Stored,
    blocking_failures,
    run_expectations,
)
from trade_pipeline.validation.schema import ContractViolation
from trade_pipeline.validation.trade_flows import read_year, stored_totals, validate_year, write_year

PANDERA_CHECK = "pandera_contract"

#: One result per check and year: the checks are partitioned like the asset they check.
TRADE_FLOWS_CHECKS = [
    dg.AssetCheckSpec(PANDERA_CHECK, asset="trade_flows", blocking=True, partitions_def=year_partitions,
                      description="The pandera contract: types, code patterns, flows matching their file, the "
                                  "year loaded, values ≥ 0, départements known and in their région. Blocking."),
    *(dg.AssetCheckSpec(spec.check_name, asset="trade_flows", description=spec.description, blocking=spec.blocking,
                        partitions_def=year_partitions)
      for spec in EXPECTATION_SPECS),
]


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=year_partitions,
    deps=[raw_trade_files],
    check_specs=TRADE_FLOWS_CHECKS,
    automation_condition=EAGER_ON_DATA_CHANGE,
    group_name="validation",
    kinds={"duckdb", "pandas"},
    code_version="1",
    description=(
        "Validated DGDDI rows of a year in the warehouse. The pandera contract must hold (else "
        "nothing is stored and the failing file/line/column are listed); Great Expectations checks "
        "run on the same rows (duplicate keys block the year)."
    ),
    metadata={"dagster/column_schema": column_schema(TRADE_FLOWS)},
)
def trade_flows(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse) -> Iterator:
    config = settings.get()
    year = int(context.partition_key)
    store = RawStore(config.raw_dir)
    raw = store.fetched(year)  # validated here: it becomes current only once stored
    if raw is None:
        raise dg.Failure(f"no raw files for {year}: materialize raw_trade_files for {year} first")
    timings = Stopwatch()
    with timings("read"):
        try:
            year_rows = read_year(raw, archive_limits(config))
        except expected_errors() as error:  # the parser names the file and line
            raise dg.Failure(description=str(error)) from None
    try:
        with timings("pandera"):
            validated = validate_year(year_rows)
    except ContractViolation as violation:
        yield dg.AssetCheckResult(check_name=PANDERA_CHECK, passed=False, metadata={
            "year": year, "failing_count": len(violation.failures), "failures": table_metadata(violation.failures)})
        raise dg.Failure(description=str(violation), metadata={"year": year, "failing_values": len(violation.failures),
                                                              "failures": table_metadata(violation.failures)}) from None
    context.log.info(f"{year}: {validated.num_rows:,} rows pass the pandera contract")
    contract = dg.AssetCheckResult(check_name=PANDERA_CHECK, passed=True, metadata={
        "year": year, "rows": validated.num_rows, "columns": ", ".join(TRADE_FLOWS.column_names), **timings.metadata()})
    with warehouse.connect() as connection:  # what is stored already: this year's vintage, the year before
        stored = Stored(stored_totals(connection, year), stored_totals(connection, year - 1))
    with timings("great_expectations"):
        outcomes = run_expectations(validated, year_rows.reference, year, stored, accept=config.accept_change)
    check_results = [contract] + [
        dg.AssetCheckResult(
            check_name=o.check_name, passed=o.passed, metadata={"year": year, **o.metadata},
            severity=dg.AssetCheckSeverity.ERROR if o.blocking else dg.AssetCheckSeverity.WARN,
        )
        for o in outcomes
    ]
    refusal = blocking_failures(outcomes, year)
    if refusal:
        # Report the checks, then stop before the warehouse: the last good year stays in place.
        yield from check_results
        raise dg.Failure(description=refusal)
    with timings("write"), warehouse.connect() as connection:
        rows = write_year(connection, year_rows, validated, raw)
    store.promote(year, raw)
    per_flow = {flow: total for flow, total in zip(*validated.group_by("flow").aggregate([("value_eur", "sum")])
                                                  .select(["flow", "value_eur_sum"]).to_pydict().values(), strict=True)}
    label_sources = ", ".join(f"{k}: {v}" for k, v in year_rows.reference.sources.items())
    # The parsed rows are in the warehouse now: Arrow's allocator keeps freed buffers for reuse
    # (≈ 0.3 GB after a full year), which the charts and fiches that follow in this process never need.
    del year_rows, validated
    pa.default_memory_pool().release_unused()
    yield dg.MaterializeResult(
        # Same raw bytes, same rows: the raw version (and its provenance, which the store
        # publishes in `sources`) is the version of the validated rows.
        data_version=dg.DataVersion(raw.data_version),
        metadata={
            "dagster/row_count": rows,
            "raw_version": raw.version,
            "synthetic": raw.synthetic,
            "export_meur": round(per_flow.get("E", 0) / 1e6, 1),
            "import_meur": round(per_flow.get("I", 0) / 1e6, 1),
            "label_sources": label_sources,
            **timings.metadata(),
        },
        check_results=check_results,
    )
