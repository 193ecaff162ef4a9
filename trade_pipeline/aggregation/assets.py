"""Dagster wiring of the aggregation step: territory slices and the marts (year × territory), and the
latest quarters' marts (unpartitioned: every territory at once)."""

from collections.abc import Iterator

import dagster as dg

from trade_pipeline.aggregation.marts import (
    MART_QUERIES,
    MartSettings,
    fingerprints,
    input_signatures,
    refresh_marts,
    refresh_year_cells,
    store_mart_inputs,
    unchanged_marts,
)
from trade_pipeline.aggregation.quarter_marts import compute_quarterly, write_quarterly
from trade_pipeline.aggregation.slices import store_versions, territory_versions
from trade_pipeline.lib.quarters import PROVISIONAL
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.orchestration.conditions import (
    EAGER_ON_DATA_CHANGE,
    after_any_data_change,
    after_slices_materialized,
)
from trade_pipeline.orchestration.metadata import column_schema, table_schemas
from trade_pipeline.orchestration.partition_versions import partition_results
from trade_pipeline.orchestration.partitions import (
    TERRITORY_DIMENSION,
    YEAR_DIMENSION,
    year_territory_partitions,
    year_to_territories,
)
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, PipelineSettings, Warehouse
from trade_pipeline.tables import QUARTERLY_TABLES, TERRITORY_VERSIONS, YEAR_CELLS
from trade_pipeline.validation.assets import provisional_flows, trade_flows

SLICES_CODE_VERSION = "1"
MARTS_CODE_VERSION = "5"  # 4: exports to the United States; 5: imports from the United States
QUARTERLY_CODE_VERSION = "1"


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(trade_flows, partition_mapping=year_to_territories)],
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,  # one materialization per partition: orchestration/partition_versions.py
    automation_condition=EAGER_ON_DATA_CHANGE,
    group_name="aggregation",
    kinds={"duckdb"},
    code_version=SLICES_CODE_VERSION,
    metadata={"dagster/column_schema": column_schema(TERRITORY_VERSIONS),
              **table_schemas({"year_cells": YEAR_CELLS, "territory_versions": TERRITORY_VERSIONS})},
    description=(
        "The rows of each territory of a year (département, région, France) with a content hash as "
        "data version: it changes only when one of the territory's rows changes, so downstream "
        "marts, charts and fiches of unchanged territories are not requested again."
    ),
)
def territory_flows(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator:
    versions, details = {}, {}
    requested = warehouse.years_with_data(context.partition_keys, context.log.warning)
    with warehouse.connect() as connection:
        for year, territories in requested.items():
            with transaction(connection):  # the year's cells and versions together, or neither
                cells = refresh_year_cells(connection, year)
                frame = territory_versions(connection, year, territories)
                store_versions(connection, year, frame)
            context.log.info(f"{year}: {len(territories)} territories, {cells:,} yearly cells")
            for row in frame.itertuples(index=False):
                versions[(year, row.territory_key)] = row.version
                details[(year, row.territory_key)] = {"rows": int(row.rows), "exports_eur": int(row.exports_eur),
                                                      "imports_eur": int(row.imports_eur)}
    yield from partition_results(context, versions, details)


#: Growth compares a year with the one before: the marts also depend on the previous year's
#: slice, so revising year N-1 refreshes the growth of year N.
_PREVIOUS_AND_SAME_YEAR = dg.MultiPartitionMapping({
    YEAR_DIMENSION: dg.DimensionPartitionMapping(YEAR_DIMENSION, dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True)),
    TERRITORY_DIMENSION: dg.DimensionPartitionMapping(TERRITORY_DIMENSION, dg.IdentityPartitionMapping()),
})


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(territory_flows, partition_mapping=_PREVIOUS_AND_SAME_YEAR),
          dg.AssetDep(trade_flows, partition_mapping=year_to_territories)],
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    automation_condition=after_slices_materialized(territory_flows, trade_flows),
    group_name="aggregation",
    kinds={"duckdb", "sql"},
    code_version=MARTS_CODE_VERSION,
    metadata={"dagster/column_schema": column_schema(MART_QUERIES["territory_totals"].schema),
              **table_schemas({mart.table: mart.schema for mart in MART_QUERIES.values()})},
    description=(
        "The content of the fiche as data, per territory and year, in tables published under "
        "these names: " + "; ".join(f"`{m.name}` — {m.description}" for m in MART_QUERIES.values())
        + ". One asset rather than six: they are computed together from the same slice. Data "
        "version = a hash of the territory's rows in the marts. Materialized again whenever the slices "
        "are, recomputed only where a slice (of the year or the year before) changed: the others keep "
        "their version (metadata `recomputed: false`) and record their current inputs."
    ),
)
def territory_marts(context: dg.AssetExecutionContext, settings: PipelineSettings, warehouse: Warehouse) -> Iterator:
    mart_settings = MartSettings(product_level=settings.get().flow_links_product_level)
    versions, details = {}, {}
    requested = warehouse.years_with_data(context.partition_keys, context.log.warning)
    with warehouse.connect() as connection:
        for year, territories in requested.items():
            signatures = input_signatures(connection, year, territories, mart_settings, MARTS_CODE_VERSION)
            unchanged = unchanged_marts(connection, year, signatures)
            changed = [key for key in territories if key not in unchanged]
            for key, version in unchanged.items():  # their inputs are those they were computed from
                versions[(year, key)] = version
                details[(year, key)] = {"recomputed": False}
            if not changed:
                context.log.info(f"{year}: the marts of {len(territories)} territories are unchanged (same inputs)")
                continue
            rows = refresh_marts(connection, year, changed, mart_settings)
            context.log.info(f"{year}: marts of {len(changed)} territories ({len(unchanged)} unchanged) — "
                             + ", ".join(f"{name} {n:,} rows" for name, n in rows.items()))
            computed = fingerprints(connection, year, changed)
            for key, fingerprint in computed.items():
                versions[(year, key)] = fingerprint.version
                details[(year, key)] = {"recomputed": True,
                                        **{f"rows_{name}": count for name, count in fingerprint.rows.items()}}
            store_mart_inputs(connection, year, {key: (signatures[key], f.version) for key, f in computed.items()})
    yield from partition_results(context, versions, details)


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[trade_flows, provisional_flows],
    # When a year's rows or a latest publication changed: the annual file replaces provisional
    # quarters, a new vintage revises them. Nothing else reads them: a new vintage stops here
    # and at what shows them (the store, the fiches' « Conjoncture » section).
    automation_condition=after_any_data_change(trade_flows, provisional_flows, redo_on_new_code=True),
    group_name="aggregation",
    kinds={"duckdb", "pandas"},
    code_version=QUARTERLY_CODE_VERSION,
    metadata=table_schemas({table.name: table for table in QUARTERLY_TABLES}),
    description=(
        "The latest quarters of every territory, in tables published under these names: "
        + "; ".join(f"`{table.name}` — {table.meaning}" for table in QUARTERLY_TABLES)
        + ". Each quarter comes from the annual file of its year (definitive) or else from the newest latest "
        "publication holding it (provisional, with its vintage). Data version = a hash of the tables' content "
        "(docs/latest-quarters.md)."
    ),
)
def quarterly_indicators(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as connection:
        marts = compute_quarterly(connection)
        rows = write_quarterly(connection, marts)
    latest = str(marts.latest) if marts.latest else "none"
    provisional = marts.quarters[marts.quarters["in_use"] & (marts.quarters["status"] == PROVISIONAL)]
    context.log.info(f"latest quarter {latest}; provisional quarters: "
                     + (", ".join(f"{y}-T{q} ({v})" for y, q, v in provisional[["year", "quarter", "vintage"]]
                                 .itertuples(index=False)) or "none"))
    return dg.MaterializeResult(
        data_version=dg.DataVersion(marts.version),
        metadata={"latest_quarter": latest, "provisional_quarters": len(provisional),
                  **{f"rows_{name}": count for name, count in rows.items()}},
    )
