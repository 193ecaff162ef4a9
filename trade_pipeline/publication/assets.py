"""Dagster wiring of the publication step: the consumer-facing DuckDB snapshot."""

import dagster as dg
import duckdb
import pandas as pd

from trade_pipeline.aggregation.assets import territory_marts
from trade_pipeline.automation.conditions import after_any_data_change
from trade_pipeline.ingestion.raw_store import RawStore
from trade_pipeline.metadata import table_metadata, table_schemas
from trade_pipeline.publication.store import publish
from trade_pipeline.resources import WAREHOUSE_POOL, PipelineSettings, Warehouse
from trade_pipeline.tables import PUBLISHED
from trade_pipeline.validation.assets import trade_flows
from trade_pipeline.warehouse import no_space_message


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[trade_flows, territory_marts],
    # Any change of the rows changes some territory's marts: listening to the marts publishes once.
    automation_condition=after_any_data_change(territory_marts),
    group_name="publication",
    kinds={"duckdb"},
    code_version="1",
    metadata=table_schemas(PUBLISHED),
    description=(
        "The published store $TRADE_PIPELINE_DATA_DIR/published/trade.duckdb, replaced atomically "
        "(a consumer never sees a mix of two versions and never blocks the pipeline). Unchanged "
        "content is not rewritten. Its tables and columns are the public contract (README)."
    ),
)
def published_store(context: dg.AssetExecutionContext, settings: PipelineSettings,
                    warehouse: Warehouse) -> dg.MaterializeResult:
    config = settings.get()
    with warehouse.connect() as connection:
        try:
            result = publish(connection, config.published_path)
        except (duckdb.Error, OSError) as error:
            message = no_space_message(error, config.published_path)
            if message is None:
                raise
            raise dg.Failure(description=message) from error
        published = connection.execute("SELECT year, raw_version FROM ingestions").fetchall()
    store = RawStore(config.raw_dir)
    for year, version in published:  # the files behind the published store are never pruned
        store.pin_published(year, version)
    context.log.info(f"published store {'replaced' if result.changed else 'unchanged'}: {result.path}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(result.checksum),
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "changed": result.changed,
            "years": ", ".join(map(str, result.years)),
            "tables": table_metadata(pd.DataFrame({"table": list(result.tables), "rows": list(result.tables.values())})),
        },
    )
