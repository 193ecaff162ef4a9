"""Dagster wiring of the aggregation step: territory slices and the six marts (year × territory)."""

from collections.abc import Iterator

import dagster as dg

from trade_pipeline import warehouse
from trade_pipeline.aggregation.marts import MARTS, MartSettings, refresh, refresh_year_cells
from trade_pipeline.aggregation.slices import store_versions, territory_versions
from trade_pipeline.automation.conditions import EAGER_ON_DATA_CHANGE, after_slices_changed
from trade_pipeline.metadata import column_schema, table_schemas
from trade_pipeline.partition_versions import partition_results
from trade_pipeline.partitions import (
    TERRITORY,
    YEAR,
    year_territory_partitions,
    year_to_territories,
)
from trade_pipeline.resources import PipelineSettings
from trade_pipeline.tables import TERRITORY_VERSIONS, YEAR_CELLS
from trade_pipeline.validation.assets import trade_flows

SLICES_CODE_VERSION = "1"
MARTS_CODE_VERSION = "2"  # 2: exact Herfindahl indices


@dg.asset(
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(trade_flows, partition_mapping=year_to_territories)],
    backfill_policy=dg.BackfillPolicy.single_run(),
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
def territory_flows(context: dg.AssetExecutionContext, settings: PipelineSettings) -> Iterator:
    config = settings.get()
    versions, details = {}, {}
    with warehouse.connect(config) as connection:
        requested = warehouse.years_with_data(connection, context.partition_keys, context.log.warning)
        for year, territories in requested.items():
            cells = refresh_year_cells(connection, year)
            frame = territory_versions(connection, year, territories)
            store_versions(connection, year, frame)
            context.log.info(f"{year}: {len(territories)} territories, {cells:,} yearly cells")
            for row in frame.itertuples(index=False):
                versions[(year, row.territory_key)] = row.version
                details[(year, row.territory_key)] = {"rows": int(row.rows), "exports_eur": int(row.exports_eur),
                                                      "imports_eur": int(row.imports_eur)}
    yield from partition_results(context, versions, {"territories": len(versions)}, details)


#: Growth compares a year with the one before: the marts also depend on the previous year's
#: slice, so revising year N-1 refreshes the growth of year N.
_PREVIOUS_AND_SAME_YEAR = dg.MultiPartitionMapping({
    YEAR: dg.DimensionPartitionMapping(YEAR, dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True)),
    TERRITORY: dg.DimensionPartitionMapping(TERRITORY, dg.IdentityPartitionMapping()),
})


@dg.asset(
    partitions_def=year_territory_partitions,
    deps=[dg.AssetDep(territory_flows, partition_mapping=_PREVIOUS_AND_SAME_YEAR),
          dg.AssetDep(trade_flows, partition_mapping=year_to_territories)],
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=after_slices_changed(territory_flows, trade_flows),
    group_name="aggregation",
    kinds={"duckdb", "sql"},
    code_version=MARTS_CODE_VERSION,
    metadata={"dagster/column_schema": column_schema(MARTS["territory_totals"].schema),
              **table_schemas({mart.table: mart.schema for mart in MARTS.values()})},
    description=(
        "The content of the fiche as data, per territory and year, in six tables published under "
        "these names: " + "; ".join(f"`{m.name}` — {m.description}" for m in MARTS.values())
        + " One asset rather than six: they are computed together from the same slice, and every "
        "partition event costs time in Dagster's event log."
    ),
)
def territory_marts(context: dg.AssetExecutionContext, settings: PipelineSettings) -> dg.MaterializeResult:
    config = settings.get()
    mart_settings = MartSettings(product_level=config.flow_links_product_level)
    rows: dict[str, int] = {}
    with warehouse.connect(config) as connection:
        requested = warehouse.years_with_data(connection, context.partition_keys, context.log.warning)
        for year, territories in requested.items():
            for mart in MARTS.values():
                rows[mart.name] = rows.get(mart.name, 0) + refresh(connection, mart, year, territories, mart_settings)
    context.log.info("marts: " + ", ".join(f"{name} {n:,} rows" for name, n in rows.items()))
    return dg.MaterializeResult(metadata={f"rows_{name}": n for name, n in rows.items()})
