"""Dagster wiring of the validation step: `trade_flows`, its pandera contract and its Great
Expectations checks, each reported as an asset check of the year it checked; and
`provisional_flows`, the same contract for each latest publication (vintage)."""

import hashlib
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from trade_pipeline.ingestion.assets import latest_publication_files, raw_trade_files
from trade_pipeline.ingestion.raw_store import RawStore, latest_store
from trade_pipeline.ingestion.sources import archive_limits, expected_errors
from trade_pipeline.orchestration.conditions import EAGER_ON_DATA_CHANGE
from trade_pipeline.orchestration.metadata import Stopwatch, column_schema, table_metadata
from trade_pipeline.orchestration.partitions import year_partitions
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, PipelineSettings, Warehouse
from trade_pipeline.tables import PROVISIONAL_FLOWS, TRADE_FLOWS
from trade_pipeline.validation.expectations import (
    EXPECTATION_SPECS,
    Stored,
    blocking_failures,
    run_expectations,
)
from trade_pipeline.validation.provisional_flows import read_raw_vintage, validate_vintage, write_vintage
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


PROVISIONAL_FLOWS_CHECKS = [
    dg.AssetCheckSpec(PANDERA_CHECK, asset="provisional_flows", blocking=True,
                      description="The pandera contract of trade_flows, for the years the latest publication spans. "
                                  "Blocking."),
    *(dg.AssetCheckSpec(spec.check_name, asset="provisional_flows", description=spec.description,
                        blocking=spec.blocking)
      for spec in EXPECTATION_SPECS if spec.check_name != "consistent_with_stored"),
]


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[latest_publication_files],
    check_specs=PROVISIONAL_FLOWS_CHECKS,
    automation_condition=EAGER_ON_DATA_CHANGE,
    group_name="validation",
    kinds={"duckdb", "pandas"},
    code_version="1",
    description=(
        "Validated rows of each latest publication (vintage) in the warehouse, the same contract as a year's rows: "
        "the pandera schema (else nothing is stored and the failing file/line/column are listed) and Great "
        "Expectations (duplicate keys block the vintage). A new vintage is added beside the others; an identical "
        "one changes nothing (docs/latest-quarters.md)."
    ),
    metadata={"dagster/column_schema": column_schema(PROVISIONAL_FLOWS)},
)
def provisional_flows(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse) -> Iterator:
    config = settings.get()
    store = latest_store(config.raw_dir)
    limits = archive_limits(config)
    todo = [(key, store.fetched(key)) for key in store.stored_keys() if _not_validated(store, key)]
    results: dict[str, list[tuple[str, bool, dict]]] = {}
    timings = Stopwatch()
    for key, raw in todo:
        vintage = str(key)
        with timings("read"):
            try:
                rows, reference = read_raw_vintage(raw, vintage, limits)
            except expected_errors() as error:
                raise dg.Failure(description=str(error)) from None
        try:
            with timings("pandera"):
                validated = validate_vintage(rows, reference)
        except ContractViolation as violation:
            yield dg.AssetCheckResult(check_name=PANDERA_CHECK, passed=False, metadata={
                "vintage": vintage, "failing_count": len(violation.failures),
                "failures": table_metadata(violation.failures)})
            raise dg.Failure(description=f"latest publication {vintage}: {violation}") from None
        results.setdefault(PANDERA_CHECK, []).append((vintage, True, {"rows": validated.num_rows}))
        with timings("great_expectations"):
            outcomes = [o for o in run_expectations(validated, reference, max(q.year for q in rows.quarters))
                        if o.check_name != "consistent_with_stored"]
        for outcome in outcomes:
            results.setdefault(outcome.check_name, []).append((vintage, outcome.passed, outcome.metadata))
        refusal = blocking_failures(outcomes, max(q.year for q in rows.quarters))
        if refusal:
            yield from _vintage_check_results(results)
            raise dg.Failure(description=f"latest publication {vintage}: {refusal}")
        with timings("write"), warehouse.connect() as connection:
            written = write_vintage(connection, rows, validated, raw)
        store.promote(key, raw)
        context.log.info(f"latest publication {vintage}: {written:,} rows of "
                         f"{', '.join(str(q) for q in sorted(rows.quarters))} stored")
    with warehouse.connect() as connection:
        held = connection.execute("SELECT vintage, rows, raw_version || source || synthetic || files "
                                  "FROM latest_publications ORDER BY vintage").fetchall()
    # The vintages stored and where their files come from: a new provenance alone is published too.
    digest = hashlib.sha256("\n".join(f"{v}:{provenance}" for v, _, provenance in held).encode()).hexdigest()
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(digest),
        metadata={"dagster/row_count": sum(n for _, n, _ in held), "vintages": ", ".join(v for v, _, _ in held),
                  "validated": ", ".join(str(key) for key, _ in todo) or "none (unchanged)", **timings.metadata()},
        check_results=list(_vintage_check_results(results)),
    )


def _not_validated(store: RawStore, key: int) -> bool:
    """A vintage fetched but not in the warehouse yet (new, revised, or from another source)."""
    fetched, current = store.fetched(key), store.current(key)
    return fetched is not None and (current is None or current.version != fetched.version
                                    or current.provenance != fetched.provenance)


def _vintage_check_results(results: dict[str, list[tuple[str, bool, dict]]]) -> Iterator[dg.AssetCheckResult]:
    """One result per check for the vintages validated in this run (all must pass), with the
    failing counts and examples of those that failed (each example names its file and lines)."""
    blocking = {spec.check_name: spec.blocking for spec in EXPECTATION_SPECS} | {PANDERA_CHECK: True}
    for name, outcomes in results.items():
        failed = [(vintage, metadata) for vintage, ok, metadata in outcomes if not ok]
        examples = [f"{vintage}: {example}" for vintage, metadata in failed for example in metadata.get("examples", [])]
        yield dg.AssetCheckResult(
            check_name=name, passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if blocking.get(name) else dg.AssetCheckSeverity.WARN,
            metadata={"vintages": ", ".join(v for v, _, _ in outcomes),
                      "failed": ", ".join(v for v, _ in failed) or "none",
                      "failing_count": sum(int(m.get("failing_count", 0)) for _, m in failed),
                      "examples": examples[:20]})
