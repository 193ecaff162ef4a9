"""Dagster wiring of the publication step: the consumer-facing DuckDB snapshot."""

import dagster as dg
import duckdb
import pandas as pd

from trade_pipeline.aggregation import reads
from trade_pipeline.aggregation.assets import quarterly_indicators, territory_marts
from trade_pipeline.ingestion.raw_store import RawStore
from trade_pipeline.lib.provenance import cited_publications
from trade_pipeline.lib.warehouse import no_space_message
from trade_pipeline.orchestration.conditions import after_any_data_change
from trade_pipeline.orchestration.metadata import table_metadata, table_schemas
from trade_pipeline.orchestration.resources import WAREHOUSE_POOL, PipelineSettings, Warehouse
from trade_pipeline.publication.store import PublicationRefused, publish
from trade_pipeline.tables import PUBLISHED
from trade_pipeline.validation.assets import trade_flows


@dg.asset(
    pool=WAREHOUSE_POOL,
    deps=[trade_flows, territory_marts, quarterly_indicators],
    # Any change of the rows changes some territory's marts; a new provenance of the same rows
    # (the `sources` table) changes only trade_flows. The plan holds the store back while what
    # the rows may change upstream of it still runs (orchestration/refresh.py): one publication.
    automation_condition=after_any_data_change(territory_marts, trade_flows, quarterly_indicators),
    group_name="publication",
    kinds={"duckdb"},
    code_version="2",
    metadata=table_schemas(PUBLISHED),
    description=(
        "The published store $TRADE_PIPELINE_DATA_DIR/published/: trade.duckdb, every table as Parquet "
        "and CSV (one file per table and year), publication.json. Each publication is a snapshot of its "
        "own in published/history/ (TRADE_PIPELINE_PUBLICATIONS_KEPT are kept); the stable paths switch "
        "to a new one in one atomic swap (a consumer never sees a mix, never blocks the pipeline). Its "
        "tables and columns are the public contract (docs/data-dictionary.md)."
    ),
)
def published_store(context: dg.AssetExecutionContext, settings: PipelineSettings,
                    warehouse: Warehouse) -> dg.MaterializeResult:
    config = settings.get()
    with warehouse.connect() as connection:
        try:
            result = publish(connection, config.published_dir, config.publications_kept,
                             cited=cited_publications(config.fiches_dir))
        except PublicationRefused as refused:
            raise dg.Failure(description=str(refused)) from None
        except (duckdb.Error, OSError) as error:
            message = no_space_message(error, config.published_dir)
            if message is None:
                raise
            raise dg.Failure(description=message) from error
        published = reads.raw_versions(connection)
    store = RawStore(config.raw_dir)
    for year, version in published.items():  # the files behind the published store are never pruned
        store.pin_published(year, version)
    publication = result.publication
    context.log.info(f"publication {publication.id} ({'new content' if result.changed else 'content unchanged'}): "
                     f"{publication.folder}" + (f"; removed the oldest: {', '.join(result.pruned)}" if result.pruned else ""))
    return dg.MaterializeResult(
        data_version=dg.DataVersion(result.checksum),
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "publication": publication.id,
            "snapshot": dg.MetadataValue.path(str(publication.folder)),
            "content_checksum": result.checksum,
            "changed": result.changed,
            "pruned": ", ".join(result.pruned) or "none",
            "years": ", ".join(map(str, result.years)),
            "tables": table_metadata(pd.DataFrame({"table": list(result.tables), "rows": list(result.tables.values())})),
        },
    )
