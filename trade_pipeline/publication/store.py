"""The published store, the consumers' contract: `$TRADE_PIPELINE_DATA_DIR/published/`.

Each publication is a complete snapshot of its own, `published/history/<id>/`: `trade.duckdb`,
every table as Parquet and as CSV (one file per table and year), `csv/csv-metadata.json`
(CSVW: the columns and types of every CSV) and `publication.json` (date, content checksum, the
years and raw versions it holds, a fingerprint per table and year). The stable paths
(`published/trade.duckdb`, `parquet/`, `csv/`, `publication.json`) go through the symbolic link
`published/current`, which one `os.replace` swaps to a finished snapshot: a consumer sees the
previous publication whole or the new one whole, in every format at once, and one holding a file
open keeps reading it. A table-year whose fingerprint did not change is hard-linked from the
previous snapshot instead of written again (unchanged content costs no disk and no time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Set
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from zlib_ng import gzip_ng

from trade_pipeline.aggregation.mart_sql import EXPOSURE_COMPARISON, TERRITORY_TOTALS_WITH_SHARES
from trade_pipeline.lib import territoires_industrie
from trade_pipeline.lib.atomic import fsync_path, link_or_copy, sql_path, write_atomically
from trade_pipeline.lib.failpoints import PUBLISH_SWAP, PUBLISH_WRITE, failpoint
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_LABEL
from trade_pipeline.lib.quarters import LATEST
from trade_pipeline.lib.spreadsheets import formula_cells_query
from trade_pipeline.lib.territories import insee_codes_frame, territories_frame
from trade_pipeline.lib.warehouse import DUCKDB_MEMORY_LIMIT
from trade_pipeline.publication.history import (
    HISTORY,
    MANIFEST,
    WHOLE,
    Publication,
    current_publication,
    make_current,
    manifest_bytes,
    new_id,
    part_files,
    prune,
    read_publication,
    remove_unfinished,
)
from trade_pipeline.tables import (
    EXPOSURE,
    FLOW_LINKS,
    GROWTH_CONTRIBUTIONS,
    INGESTIONS,
    LABELS,
    LATEST_PUBLICATIONS,
    MART_TERRITORY_TOTALS,
    PARTNER_BALANCE,
    PRODUCT_BREAKDOWN,
    PROVISIONAL_FLOWS,
    PUBLISHED,
    QUARTERLY_CHANGES,
    QUARTERLY_SERIES,
    QUARTERLY_SUMMARY,
    QUARTERS,
    TRADE_FLOWS,
    UNITED_STATES_EXPORTS,
    UNITED_STATES_IMPORTS,
    mart_table_name,
)


@dataclass(frozen=True)
class PublishedQuery:
    """A published table's rows, as a query on the warehouse, and the order they are written in.
    Apart, because only the writing needs the order: the fingerprints and the formula guard
    read the rows unordered (sorting every year of `trade_flows` again cost seconds)."""

    rows: str
    order: str = ""

    @property
    def sql(self) -> str:
        """The rows in their published order."""
        return f"{self.rows} ORDER BY {self.order}" if self.order else self.rows


def _select(name: str, source: str, order: str) -> PublishedQuery:
    """The published table `name` (its registry columns) from the warehouse table `source`."""
    return PublishedQuery(f"SELECT {', '.join(PUBLISHED[name].column_names)} FROM {source}", order)


#: The published tables and the warehouse query of each (the public contract: tables.PUBLISHED).
#: `territories`, `territory_insee_codes`, the Territoires d'industrie's tables (`_frames`) and
#: `metadata` come from the package and from the publication itself.
PUBLISHED_TABLES: dict[str, PublishedQuery] = {
    "trade_flows": _select(TRADE_FLOWS.name, TRADE_FLOWS.name,
                           "year, flow, department_code, a129_code, cpf4_code, country_code, quarter"),
    LABELS.name: _select(LABELS.name, LABELS.name, "year, nomenclature, code, valid_from"),
    "sources": _select("sources", INGESTIONS.name, "year"),
    MART_TERRITORY_TOTALS.name: PublishedQuery(TERRITORY_TOTALS_WITH_SHARES),
    **{mart.name: _select(mart.name, mart_table_name(mart), order) for mart, order in (
        (PARTNER_BALANCE, "year, level, territory_code, country_code"),
        (PRODUCT_BREAKDOWN, "year, level, territory_code, flow, product_level, product_code"),
        (FLOW_LINKS, "year, level, territory_code, flow, value_eur DESC, product_code, country_code"),
        (GROWTH_CONTRIBUTIONS, "year, level, territory_code, flow, dimension, code"),
        (EXPOSURE, "year, level, territory_code"))},
    "exposure_comparison": PublishedQuery(EXPOSURE_COMPARISON),
    **{mart.name: _select(mart.name, mart_table_name(mart), "year, level, territory_code, product_rank")
       for mart in (UNITED_STATES_EXPORTS, UNITED_STATES_IMPORTS)},
    **{table.name: _select(table.name, mart_table_name(table), order) for table, order in (
        (QUARTERS, "year, quarter, origin, vintage"),
        (QUARTERLY_SUMMARY, "level, territory_code, measure"),
        (QUARTERLY_CHANGES, "level, territory_code, measure, flow, dimension, rank"),
        (QUARTERLY_SERIES, "level, territory_code, year, quarter"))},
    # The rows of the latest publications that figures come from (the quarters in use).
    PROVISIONAL_FLOWS.name: PublishedQuery(
        f"""SELECT {', '.join(f"p.{c}" for c in PROVISIONAL_FLOWS.column_names)}
        FROM {PROVISIONAL_FLOWS.name} p JOIN {mart_table_name(QUARTERS)} q ON q.in_use AND q.origin = '{LATEST}'
             AND q.vintage = p.vintage AND q.year = p.year AND q.quarter = p.quarter""",
        "p.year, p.quarter, p.flow, p.department_code, p.a129_code, p.cpf4_code, p.country_code"),
    "latest_sources": _select("latest_sources", LATEST_PUBLICATIONS.name, "vintage"),
}


#: Tables whose content is determined by the raw version of each year: a cheap aggregate plus
#: those versions fingerprints them, which saves hashing millions of rows at every publication.
_CHEAP_FINGERPRINTS = {
    "trade_flows": "count(*), sum(value_eur)::VARCHAR || '/' || sum(mass_kg)::VARCHAR",
    "labels": "count(*), count(DISTINCT label)::VARCHAR",
}

#: Tables whose every text column is a code the pandera contract holds to its pattern (`^\d{2}$`,
#: `^[A-Z]{2}$`…): none can start like a spreadsheet formula, and scanning their millions of
#: rows would cost seconds at every publication.
_CODES_ONLY = frozenset({"trade_flows", PROVISIONAL_FLOWS.name})


class PublicationRefused(ValueError):
    """The tables hold something a publication must not: the message names the table, column and value."""


def formula_cell(connection: duckdb.DuckDBPyConnection, table: str, rows: str) -> tuple[str, str] | None:
    """(column, value) of a text cell of `rows` (a query on `table`) that a spreadsheet would run
    as a formula, if any. Labels are refused at their file (nomenclature.py); this is the last
    guard before a CSV that people open, for any other text (a zip member's name…)."""
    if table in _CODES_ONLY:
        return None
    text = [name for name, kind in _columns(connection, rows).items() if kind == "VARCHAR"]
    found = connection.execute(formula_cells_query(rows, text)).fetchall() if text else []
    return found[0] if found else None


#: CSVW datatypes of the DuckDB types the published tables use (csv/csv-metadata.json).
CSVW_DATATYPES = {"VARCHAR": "string", "BIGINT": "long", "INTEGER": "int", "SMALLINT": "short",
                  "DOUBLE": "double", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "datetime",
                  "TIMESTAMP WITH TIME ZONE": "datetime", "HUGEINT": "integer"}

@dataclass(frozen=True)
class PublishResult:
    path: Path
    changed: bool
    checksum: str
    tables: dict[str, int]
    years: list[int]
    publication: Publication
    pruned: list[str]


def _frames() -> dict[str, pd.DataFrame]:
    """Tables that come from the package rather than the warehouse."""
    return {"territories": territories_frame(), "territory_insee_codes": insee_codes_frame(),
            "territoires_industrie": territoires_industrie.shares_frame(),
            "territoires_industrie_groupements": territoires_industrie.groupements_frame()}


def part_fingerprints(connection: duckdb.DuckDBPyConnection, queries: Mapping[str, PublishedQuery]
                      ) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """A fingerprint of every table-year (order-independent) and the row count of every table."""
    raw = dict(connection.execute("SELECT year::VARCHAR, raw_version FROM ingestions").fetchall())
    parts: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = {}
    for name in sorted(queries):
        aggregate = _CHEAP_FINGERPRINTS.get(name, "count(*), coalesce(sum(hash(t)), 0)::VARCHAR")
        by_year = "year" in _columns(connection, queries[name].rows)
        key = "year::VARCHAR" if by_year else f"'{WHOLE}'"
        rows = connection.execute(f"SELECT {key}, {aggregate} FROM ({queries[name].rows}) t GROUP BY ALL").fetchall()
        # The cheap fingerprints only hold with the raw version of the year beside them.
        parts[name] = {part: f"{count}:{total}" + (f":{raw.get(part)}" if name in _CHEAP_FINGERPRINTS else "")
                       for part, count, total in rows}
        counts[name] = sum(int(count) for _, count, _ in rows)
    return parts, counts


def content_checksum(parts: Mapping[str, Mapping[str, str]]) -> str:
    """The checksum of a publication's content: of every table-year's fingerprint."""
    digest = hashlib.sha256()
    for name in sorted(parts):
        for part in sorted(parts[name]):
            digest.update(f"{name}/{part}:{parts[name][part]}\n".encode())
    return digest.hexdigest()


def _columns(connection: duckdb.DuckDBPyConnection, query: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in connection.execute(f"DESCRIBE ({query})").fetchall()}


def publish(connection: duckdb.DuckDBPyConnection, published_dir: Path, kept: int = 10,
            tables: Mapping[str, PublishedQuery] | None = None, now: datetime | None = None,
            cited: Set[str] = frozenset()) -> PublishResult:
    """Publish the open warehouse as a new snapshot in published/history/ and make it current
    (one atomic swap); keep the `kept` newest snapshots, and those in `cited` (the fiches name
    them). Unchanged content (same checksum) makes a snapshot of its own too — its own date —
    whose files are links to the previous one's."""
    queries: dict[str, PublishedQuery] = {}
    for name, frame in _frames().items():
        connection.register(f"package_{name}", frame)
        queries[name] = PublishedQuery(f"SELECT * FROM package_{name}")
    queries.update(PUBLISHED_TABLES if tables is None else tables)
    for name, query in queries.items():
        if (found := formula_cell(connection, name, query.rows)) is not None:
            raise PublicationRefused(f"{name}.{found[0]} holds {found[1][:60]!r}, which a spreadsheet would run as a "
                                     "formula in the published CSV: nothing was published (correct the source file, "
                                     "then build again)")
    parts, counts = part_fingerprints(connection, queries)
    checksum = content_checksum(parts)
    years = [row[0] for row in connection.execute("SELECT year FROM ingestions ORDER BY year").fetchall()]
    raw_versions = {str(y): v for y, v in connection.execute("SELECT year, raw_version FROM ingestions").fetchall()}
    previous = current_publication(published_dir)
    now = now or datetime.now(UTC)

    history = published_dir / HISTORY
    history.mkdir(parents=True, exist_ok=True)
    remove_unfinished(published_dir)
    publication_id = new_id(history, now)
    staging = history / f".staging-{publication_id}"
    staging.mkdir()
    same = previous is not None and previous.checksum == checksum
    publication = Publication(publication_id, now.isoformat(timespec="milliseconds"), checksum, years, raw_versions,
                              counts, parts, previous.id if same else None)
    try:
        if same:
            _link(previous.duckdb_path, staging / "trade.duckdb")
        else:
            _write_duckdb(connection, staging / "trade.duckdb", queries, checksum, years, now)
        _write_open_formats(staging, parts, previous)
        write_atomically(staging / MANIFEST, manifest_bytes(publication))
        for path in staging.rglob("*"):
            if path.is_file():
                fsync_path(path)
        failpoint(PUBLISH_SWAP)
        folder = history / publication_id
        # A snapshot renamed into history/ but not yet current is unfinished: the marker says so
        # to the next publication, should this process die between the two renames.
        pending = history / f".pending-{publication_id}"
        pending.touch()
        os.rename(staging, folder)
        fsync_path(history)
        make_current(published_dir, folder)
        pending.unlink()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pruned = prune(published_dir, kept, cited)
    return PublishResult(published_dir / "trade.duckdb", not same, checksum, counts, years,
                         read_publication(folder) or publication, pruned)


def _link(source: Path, target: Path) -> None:
    """An unchanged file of the previous snapshot, linked (not copied) into the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    link_or_copy(source, target)


def _write_duckdb(connection: duckdb.DuckDBPyConnection, path: Path, queries: Mapping[str, PublishedQuery], checksum: str,
                  years: list[int], now: datetime) -> None:
    synthetic = bool(connection.execute("SELECT coalesce(bool_or(synthetic), false) FROM ingestions").fetchall()[0][0])
    metadata = pd.DataFrame({"key": ["content_checksum", "published_at", "years", "synthetic", "notice", "attribution"],
                             "value": [checksum, now.isoformat(timespec="seconds"),
                                       ",".join(map(str, years)), str(synthetic).lower(),
                                       SYNTHETIC_LABEL if synthetic else "", ATTRIBUTION]})
    connection.register("publication_metadata", metadata)
    try:
        connection.execute(f"ATTACH '{sql_path(path)}' AS pub")
        try:
            for index, (name, query) in enumerate(queries.items()):
                if index == len(queries) // 2:
                    failpoint(PUBLISH_WRITE)
                connection.execute(f"CREATE TABLE pub.main.{name} AS {query.sql}")
            connection.execute("CREATE TABLE pub.main.metadata AS SELECT * FROM publication_metadata")
        finally:
            with contextlib.suppress(duckdb.Error):  # a full disk: the error above is the one to show
                connection.execute("DETACH pub")
    finally:
        connection.unregister("publication_metadata")


#: Table-years written at once. Each part's gzip runs in one thread, and it is most of a
#: publication's time (docs/benchmarks.md): two parts at a time use both cores of the machine
#: the benchmarks run on, and keep the memory of two writes, not more.
PARALLEL_PARTS = 2


#: The CSV parts' gzip level. DuckDB writes the CSV, zlib-ng compresses it (the same gzip format
#: as zlib's, in 60 % of its CPU and 2 % smaller at the same level): a year of `trade_flows` at
#: `--scale 14` costs 1.7 + 2.0 s of CPU for 39.2 MB, against 16.4 s and 39.3 MB with DuckDB's
#: own gzip writer (docs/benchmarks.md).
CSV_GZIP_LEVEL = 4


def _write_part(store: duckdb.DuckDBPyConnection, rows: str, parquet: Path, csv: Path, fingerprint: str) -> None:
    """One table-year as Parquet and as gzipped CSV, on a cursor of its own (one per thread)."""
    plain = csv.with_name(csv.name.removesuffix(".gz") + ".part")
    with store.cursor() as cursor:
        # The fingerprint in the file: a consumer can tell which publication's part it is.
        cursor.execute(f"COPY ({rows}) TO '{sql_path(parquet)}' (FORMAT parquet, COMPRESSION zstd, "
                       f"KV_METADATA {{trade_pipeline_fingerprint: '{fingerprint}'}})")
        try:
            cursor.execute(f"COPY ({rows}) TO '{sql_path(plain)}' (FORMAT csv, HEADER true)")
            # No name and no time in the header: the same rows give the same bytes.
            with plain.open("rb") as source, csv.open("wb") as target, \
                    gzip_ng.GzipNGFile(filename="", mode="wb", fileobj=target, compresslevel=CSV_GZIP_LEVEL,
                                       mtime=0) as packed:
                shutil.copyfileobj(source, packed, 1 << 20)
        finally:
            plain.unlink(missing_ok=True)


def _write_open_formats(staging: Path, parts: Mapping[str, Mapping[str, str]], previous: Publication | None) -> None:
    """Every table of the snapshot's trade.duckdb as Parquet and CSV, one file per year; the
    table-years whose fingerprint is the previous snapshot's are links to its files."""
    tables: list[dict] = []
    with duckdb.connect(str(staging / "trade.duckdb"), read_only=True,
                         config={"memory_limit": DUCKDB_MEMORY_LIMIT}) as store, \
            ThreadPoolExecutor(PARALLEL_PARTS, thread_name_prefix="publish") as writers:
        written = []
        for name in sorted(parts):
            columns = _columns(store, f"SELECT * FROM {name}")
            for part, fingerprint in sorted(parts[name].items()):
                parquet, csv = part_files(staging, name, part)
                reused = (previous is not None and previous.parts.get(name, {}).get(part) == fingerprint
                          and all(p.exists() for p in part_files(previous.folder, name, part)))
                if reused:
                    for new, old in zip((parquet, csv), part_files(previous.folder, name, part), strict=True):
                        _link(old, new)
                else:
                    parquet.parent.mkdir(parents=True, exist_ok=True)
                    csv.parent.mkdir(parents=True, exist_ok=True)
                    rows = f"SELECT * FROM {name}" + ("" if part == WHOLE else f" WHERE year = {int(part)}")
                    written.append(writers.submit(_write_part, store, rows, parquet, csv, fingerprint))
                tables.append({"url": str(csv.relative_to(staging / "csv")), "dc:title": name,
                               "trade:part": part, "tableSchema": {"columns": [
                                   {"name": column, "titles": column,
                                    "datatype": CSVW_DATATYPES.get(kind, "string"), "trade:duckdb_type": kind}
                                   for column, kind in columns.items()]}})
        # Every write ends before the store closes; the first that failed (a full disk) is raised.
        wait(written)
        for future in written:
            future.result()
    checksum = content_checksum(parts)
    csvw = {"@context": ["http://www.w3.org/ns/csvw", {"trade": "urn:trade-pipeline:"}],
            "dc:identifier": checksum, "dc:description": "trade_pipeline publication: every table as CSV, "
            "one file per year; the types of each column", "tables": tables}
    (staging / "csv").mkdir(exist_ok=True)
    write_atomically(staging / "csv" / "csv-metadata.json",
                     (json.dumps(csvw, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


