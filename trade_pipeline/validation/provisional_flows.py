"""A latest publication's raw files → validated rows → the warehouse's `provisional_flows`.

The same contract as a year's rows (trade_flows.py): the pandera schema, with the years the
publication spans, and the Great Expectations suite; then the vintage's rows replace those of
the same vintage, in one transaction with its provenance (`latest_publications`).
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from trade_pipeline.ingestion.archives import ArchiveLimits
from trade_pipeline.ingestion.dgddi_files import DataFileError
from trade_pipeline.ingestion.latest_publication import VintageRows, locate_vintages, read_vintage
from trade_pipeline.ingestion.raw_store import RawVersion
from trade_pipeline.lib.failpoints import PROVISIONAL_WRITE, failpoint
from trade_pipeline.lib.nomenclature import Reference, packaged_reference
from trade_pipeline.lib.quarters import LATEST, stored_sources
from trade_pipeline.lib.territories import department_codes
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.tables import LATEST_PUBLICATIONS, TRADE_FLOWS
from trade_pipeline.validation.schema import trade_flows_schema, validate_trade_flows
from trade_pipeline.validation.trade_flows import provenance_of

#: Vintages kept in the warehouse beside those a quarter is taken from: the newest ones, so that
#: the last revision can be read; older vintages no quarter uses are dropped.
VINTAGES_KEPT = 2


def read_raw_vintage(raw: RawVersion, vintage: str, limits: ArchiveLimits) -> tuple[VintageRows, Reference]:
    """Parse the vintage's files (the labels of its zips win over the packaged ones)."""
    located = locate_vintages(raw.paths, limits)
    if vintage not in located:
        found = ", ".join(located) or "none"
        raise DataFileError(f"{raw.directory}: no latest publication {vintage} among its files (found: {found})")
    files = located[vintage]
    return read_vintage(files, limits), packaged_reference().with_overrides(files.labels)


def validate_vintage(rows: VintageRows, reference: Reference) -> pa.Table:
    """The pandera contract of `trade_flows`, for the years the publication spans."""
    years = {q.year for q in rows.quarters} or {0}
    regions = reference.department_regions(max(years))
    known = {code: regions[code] for code in department_codes() if code in regions}
    file_flows = {ref.display_name: flow for flow, ref in rows.files.data.items()}
    return validate_trade_flows(rows.rows, trade_flows_schema(years, known, file_flows))


def write_vintage(connection: duckdb.DuckDBPyConnection, rows: VintageRows, validated: pa.Table,
                  raw: RawVersion) -> int:
    """Replace the vintage's rows and provenance in one transaction; drop the vintages no quarter
    is taken from any more, beyond the newest VINTAGES_KEPT. Returns the row count."""
    first, last = min(rows.quarters), max(rows.quarters)
    with transaction(connection):
        connection.execute("DELETE FROM provisional_flows WHERE vintage = ?", [rows.vintage])
        connection.register("incoming_rows", validated)
        connection.execute(f"INSERT INTO provisional_flows BY NAME SELECT ? AS vintage, "
                           f"{', '.join(TRADE_FLOWS.column_names)} FROM incoming_rows", [rows.vintage])
        connection.unregister("incoming_rows")
        failpoint(PROVISIONAL_WRITE)
        loaded_at = connection.execute(
            "SELECT coalesce(max(loaded_at), now()::TIMESTAMP) FROM latest_publications WHERE vintage = ? "
            "AND raw_version = ?", [rows.vintage, raw.version]).fetchall()[0][0]
        connection.execute("DELETE FROM latest_publications WHERE vintage = ?", [rows.vintage])
        connection.execute(
            f"INSERT INTO latest_publications ({', '.join(LATEST_PUBLICATIONS.column_names)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rows.vintage, raw.version, raw.source, raw.synthetic, json.dumps([provenance_of(f) for f in raw.files]),
             validated.num_rows, loaded_at, first.year, first.quarter, last.year, last.quarter])
        stored = [v for (v,) in connection.execute("SELECT vintage FROM latest_publications ORDER BY vintage DESC")
                  .fetchall()]
        in_use = {s.vintage for s in stored_sources(connection) if s.in_use and s.origin == LATEST}
        for old in stored[VINTAGES_KEPT:]:
            if old not in in_use:
                connection.execute("DELETE FROM provisional_flows WHERE vintage = ?", [old])
                connection.execute("DELETE FROM latest_publications WHERE vintage = ?", [old])
    return validated.num_rows
