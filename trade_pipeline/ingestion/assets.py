"""Dagster wiring of the ingestion step: the raw yearly files and the latest publications."""

import hashlib
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from trade_pipeline.ingestion.dgddi_files import DataFileError, check_year_files
from trade_pipeline.ingestion.latest_publication import check_vintage_files, locate_vintages
from trade_pipeline.ingestion.raw_store import RawStore, latest_store
from trade_pipeline.ingestion.sources import (
    YearNotInSource,
    archive_limits,
    expected_errors,
    fetch_latest,
    fetch_year,
)
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


@dg.asset(
    group_name="ingestion",
    kinds={"python", "zip"},
    code_version="1",
    output_required=False,  # a source without a latest publication: nothing materialized
    description=(
        "DGDDI's latest publications (« dernière publication »: REGIONAL_CPF4PAYSE/I.txt, the five last complete "
        "quarters, a new vintage every month), as fetched from the configured source, in the raw store "
        "raw/latest/<vintage>/ (docs/latest-quarters.md). Data version = a digest of every vintage's files: an "
        "identical vintage changes nothing downstream. A source without one is not materialized."
    ),
)
def latest_publication_files(context: dg.AssetExecutionContext, settings: PipelineSettings
                             ) -> Iterator[dg.MaterializeResult]:
    config = settings.get()
    store = latest_store(config.raw_dir)
    limits = archive_limits(config)
    committed = []
    with store.staging() as staging:
        try:
            fetched = fetch_latest(config, staging)
            for vintage, files in fetched.items():  # checked before they replace the last good ones
                located = locate_vintages([staging / vintage / f.name for f in files.files], limits)
                if vintage not in located:
                    raise DataFileError(f"{', '.join(f.name for f in files.files)}: no latest-publication data file "
                                        f"of {vintage} in them")
                check_vintage_files(located[vintage])
        except expected_errors() as error:
            raise dg.Failure(description=str(error)) from None
        if not fetched:
            context.log.warning(f"not materialized — {config.source} offers no latest publication")
            return
        for vintage, files in sorted(fetched.items()):
            raw, changed = store.commit(int(vintage), staging / vintage, files.files, files.source, files.synthetic)
            committed.append((vintage, raw, changed))
            context.log.info(f"latest publication {vintage}: {'new' if changed else 'unchanged'} {raw.version[:12]}"
                             + (f" ({SYNTHETIC_LABEL})" if raw.synthetic else ""))
    every = {key: store.fetched(key) for key in store.stored_keys()}
    digest = hashlib.sha256("\n".join(f"{key}:{raw.data_version}" for key, raw in sorted(every.items()) if raw)
                            .encode()).hexdigest()
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(digest),
        metadata={
            "vintages": ", ".join(str(key) for key in sorted(every)),
            "fetched": ", ".join(v for v, _, _ in committed),
            "changed": ", ".join(v for v, _, changed in committed if changed) or "none",
            "source": ", ".join(sorted({raw.source for _, raw, _ in committed})),
            "synthetic": any(raw.synthetic for _, raw, _ in committed),
        },
    )
