"""Raw files of a year → validated rows → the warehouse's `trade_flows` (plain functions)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from trade_pipeline.ingestion.archives import ArchiveLimits
from trade_pipeline.ingestion.dgddi_files import (
    YearFiles,
    combine_files,
    locate_year_files,
    read_data_file,
    restrict_to_year,
)
from trade_pipeline.ingestion.raw_store import RawFile, RawVersion
from trade_pipeline.lib.failpoints import WAREHOUSE_WRITE, failpoint
from trade_pipeline.lib.nomenclature import LABEL_KINDS, Reference, packaged_reference
from trade_pipeline.lib.territories import department_codes
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.tables import TRADE_FLOWS
from trade_pipeline.validation.schema import trade_flows_schema, validate_trade_flows


@dataclass
class YearRows:
    year: int
    rows: pa.Table  # the trade_flows columns + source_file + source_line, as parsed (Arrow)
    reference: Reference
    files: YearFiles


def read_year(raw: RawVersion, limits: ArchiveLimits) -> YearRows:
    """Parse the export and import files of a raw version (labels of the zip win)."""
    files = locate_year_files(raw.paths, raw.year, limits)
    reference = packaged_reference().with_overrides(files.labels)
    tables = []
    for ref in files.data.values():
        table = read_data_file(ref.read_bytes(limits), ref.display_name)
        if ref.year is None:  # latest-publication file: five quarters over two years
            table = restrict_to_year(table, raw.year, ref.display_name)
        tables.append(table)
    return YearRows(raw.year, combine_files(tables), reference, files)


def validate_year(year_rows: YearRows) -> pa.Table:
    """The pandera contract (raises ContractViolation naming file, line, column and value)."""
    regions = year_rows.reference.department_regions(year_rows.year)
    # Only départements that are partitions of the pipeline are accepted.
    known = {code: regions[code] for code in department_codes() if code in regions}
    file_flows = {ref.display_name: flow for flow, ref in year_rows.files.data.items()}
    schema = trade_flows_schema(year_rows.year, known, file_flows)
    return validate_trade_flows(year_rows.rows, schema)


def stored_totals(connection: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame | None:
    """Rows and euros per flow of `year` in the warehouse (None when the year is not there)."""
    frame = connection.execute("""SELECT flow, count(*) AS rows, sum(value_eur)::BIGINT AS value_eur FROM trade_flows
                                  WHERE year = ? GROUP BY flow ORDER BY flow""", [year]).df()
    return frame if len(frame) else None


def write_year(connection: duckdb.DuckDBPyConnection, year_rows: YearRows, validated: pa.Table,
               raw: RawVersion) -> int:
    """Replace the year's rows, labels and provenance in one transaction; returns the row count."""
    year = year_rows.year
    labels = _labels_frame(year_rows)
    with transaction(connection):
        connection.execute("DELETE FROM trade_flows WHERE year = ?", [year])
        connection.register("incoming_rows", validated)  # DuckDB reads the Arrow buffers in place
        connection.execute(f"INSERT INTO trade_flows BY NAME SELECT {', '.join(TRADE_FLOWS.column_names)} FROM incoming_rows")
        connection.unregister("incoming_rows")
        failpoint(WAREHOUSE_WRITE)
        connection.execute("DELETE FROM labels WHERE year = ?", [year])
        connection.register("incoming_labels", labels)
        connection.execute("INSERT INTO labels BY NAME SELECT * FROM incoming_labels")
        connection.unregister("incoming_labels")
        # The same raw version keeps its first load time: an identical refresh changes nothing.
        loaded_at = connection.execute(
            "SELECT coalesce(max(loaded_at), now()::TIMESTAMP) FROM ingestions WHERE year = ? AND raw_version = ?",
            [year, raw.version]).fetchall()[0][0]
        connection.execute("DELETE FROM ingestions WHERE year = ?", [year])
        connection.execute(
            "INSERT INTO ingestions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [year, raw.version, raw.source, raw.synthetic, json.dumps([provenance_of(f) for f in raw.files]),
             validated.num_rows, loaded_at],
        )
    return validated.num_rows


def provenance_of(raw_file: RawFile) -> dict:
    """What a consumer needs to trace a year back to its files (not when we happened to fetch)."""
    return {"name": raw_file.name, "sha256": raw_file.sha256, "bytes": raw_file.size, "origin": raw_file.origin,
            "etag": raw_file.etag, "last_modified": raw_file.last_modified}


def _labels_frame(year_rows: YearRows) -> pd.DataFrame:
    frames = []
    for kind in LABEL_KINDS:
        if kind == "departements":
            continue
        table = year_rows.reference.table(kind)
        frames.append(pd.DataFrame({
            "year": year_rows.year, "nomenclature": kind, "code": table["code"], "label": table["label"],
            "valid_from": table["valid_from"], "valid_to": table["valid_to"],
            "source": year_rows.reference.sources.get(kind, "package"),
        }))
    return pd.concat(frames, ignore_index=True)
