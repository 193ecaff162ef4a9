"""Dagster wiring of the ingestion step: the raw yearly files."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from trade_pipeline.ingestion.dgddi_files import check_year_files
from trade_pipeline.ingestion.raw_store import RawStore
from trade_pipeline.ingestion.sources import YearNotInSource, archive_limits, expected_errors, fetch_year
from trade_pipeline.lib.provenance import SYNTHETIC_LABEL
from trade_pipeline.orchestration.metadata import column_schema, table_metadata
from trade_pipeline.orchestration.partitions import year_partitions
from trade_pipeline.orchestration.resources import PipelineSettings
from trade_pipeline.tables import DGDDI_FILE


@dg.asset(
    partitions_def=year_partitions,
    group_name="ingestion",
    kinds={"python", "zip"},
    code_version="1",
    output_required=False,  # a year the source does not have yet: nothing materialized (below)
    metadata={"dagster/column_schema": column_schema(DGDDI_FILE)},
    description=(
        "The DGDDI regional annual files of a year (export and import zips, or text files), "
        "exactly as fetched from the configured source, kept in the content-addressed raw store "
        "(they become the year's current files once trade_flows validated them). "
        "Data version = sha256 over the files' sha256, and a digest of where they come from: an identical "
        "refresh changes nothing; the same files from another source are a new provenance, published as such. "
        "A year the source does not have (not published yet, outside the sample) is not materialized: the run "
        "succeeds and its log says why; nothing after it runs."
    ),
)
def raw_trade_files(context: dg.AssetExecutionContext, settings: PipelineSettings) -> Iterator[dg.MaterializeResult]:
    config = settings.get()
    year = int(context.partition_key)
    store = RawStore(config.raw_dir)
    with store.staging() as staging:
        try:
            fetched = fetch_year(config, year, staging)
            # Check the structure before the new files replace the current ones: hostile or damaged
            # archives, missing data files and undecodable labels fail here, the last good version stays.
            located = check_year_files([staging / f.name for f in fetched.files], year, archive_limits(config))
        except YearNotInSource as absent:  # no data yet: never a green « Materialized » of nothing
            context.log.warning(f"not materialized — no data for {year}: {absent}")
            return
        except expected_errors() as error:  # a message, not a stack trace: it names the file or URL
            raise dg.Failure(description=str(error)) from None
        raw, changed = store.commit(year, staging, fetched.files, fetched.source, fetched.synthetic)
    context.log.info(
        f"{year}: {'new version' if changed else 'unchanged'} {raw.version[:12]} from {raw.source}"
        + (f" ({SYNTHETIC_LABEL})" if raw.synthetic else "")
        + (", to be validated" if changed else "")
    )
    for older in located.superseded:
        context.log.info(f"{year}: {older}")
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(raw.data_version),
        metadata={
            "source": raw.source,
            "synthetic": raw.synthetic,
            "changed": changed,
            "version": raw.version,
            "directory": dg.MetadataValue.path(str(raw.directory)),
            "export_file": located.data["E"].display_name,
            "import_file": located.data["I"].display_name,
            "label_files": ", ".join(sorted(name for name, _ in located.labels.values())) or "packaged copies",
            "superseded": "; ".join(located.superseded) or "none",
            "files": table_metadata(pd.DataFrame([f.__dict__ for f in raw.files])),
        },
    )
