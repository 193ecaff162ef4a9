"""The published store: `$TRADE_PIPELINE_DATA_DIR/published/trade.duckdb`, the consumers' contract.

It is rebuilt as a new file next to the old one and swapped in with `os.replace`, so a consumer
either sees the previous complete snapshot or the new one, never a mix, and a consumer holding
the file open (even for hours) never blocks the pipeline: it keeps reading the old inode. When
the content is unchanged (same checksum), nothing is written at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from trade_pipeline.aggregation.marts import EXPOSURE_COMPARISON, TERRITORY_TOTALS_WITH_SHARES
from trade_pipeline.atomic import fsync_path
from trade_pipeline.failpoints import PUBLISH_SWAP, PUBLISH_WRITE, failpoint
from trade_pipeline.provenance import ATTRIBUTION, SYNTHETIC_LABEL
from trade_pipeline.tables import PUBLISHED
from trade_pipeline.territories import territories_frame


def _select(name: str, source: str, order: str) -> str:
    """The published table `name` (its registry columns) from the warehouse table `source`."""
    return f"SELECT {', '.join(PUBLISHED[name].column_names)} FROM {source} ORDER BY {order}"


#: The published tables and the warehouse query of each (the public contract: tables.PUBLISHED).
#: `territories` and `metadata` come from the package and from the publication itself.
PUBLISHED_TABLES: dict[str, str] = {
    "trade_flows": _select("trade_flows", "trade_flows",
                           "year, flow, department_code, a129_code, cpf4_code, country_code, quarter"),
    "labels": _select("labels", "labels", "year, nomenclature, code, valid_from"),
    "sources": _select("sources", "ingestions", "year"),
    "territory_totals": TERRITORY_TOTALS_WITH_SHARES,
    "partner_balance": _select("partner_balance", "mart_partner_balance", "year, level, territory_code, country_code"),
    "product_breakdown": _select("product_breakdown", "mart_product_breakdown",
                                 "year, level, territory_code, flow, product_level, product_code"),
    "flow_links": _select("flow_links", "mart_flow_links",
                          "year, level, territory_code, flow, value_eur DESC, product_code, country_code"),
    "growth_contributions": _select("growth_contributions", "mart_growth_contributions",
                                    "year, level, territory_code, flow, dimension, code"),
    "exposure": _select("exposure", "mart_exposure", "year, level, territory_code"),
    "exposure_comparison": EXPOSURE_COMPARISON,
    "united_states_exports": _select("united_states_exports", "mart_united_states_exports",
                                     "year, level, territory_code, product_rank"),
}


@dataclass(frozen=True)
class PublishResult:
    path: Path
    changed: bool
    checksum: str
    tables: dict[str, int]
    years: list[int]


def _frames() -> dict[str, pd.DataFrame]:
    """Tables that come from the package rather than the warehouse."""
    return {"territories": territories_frame()}


#: Tables whose content is determined by the raw version of each year: a cheap aggregate plus
#: those versions fingerprints them, which saves hashing millions of rows at every publication.
_CHEAP_FINGERPRINTS = {
    "trade_flows": "count(*), sum(value_eur)::VARCHAR || '/' || sum(mass_kg)::VARCHAR",
    "labels": "count(*), count(DISTINCT label)::VARCHAR",
}


def content_checksum(connection: duckdb.DuckDBPyConnection, queries: Mapping[str, str]) -> tuple[str, dict[str, int]]:
    """A checksum of the rows of every table (order-independent) and their row counts."""
    digest = hashlib.sha256()
    counts = {}
    raw_versions = connection.execute("SELECT string_agg(year || ':' || raw_version, ',' ORDER BY year) "
                                      "FROM ingestions").fetchall()[0][0]
    digest.update(f"raw:{raw_versions}\n".encode())
    for name in sorted(queries):
        aggregate = _CHEAP_FINGERPRINTS.get(name, "count(*), coalesce(sum(hash(t)), 0)::VARCHAR")
        count, total = connection.execute(f"SELECT {aggregate} FROM ({queries[name]}) t").fetchall()[0]
        digest.update(f"{name}:{count}:{total}\n".encode())
        counts[name] = int(count)
    return digest.hexdigest(), counts


def published_checksum(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            rows = connection.execute("SELECT value FROM metadata WHERE key = 'content_checksum'").fetchall()
            return rows[0][0] if rows else None
    except duckdb.Error:
        return None  # unreadable or foreign file: rebuild


def publish(connection: duckdb.DuckDBPyConnection, path: Path, tables: Mapping[str, str] | None = None) -> PublishResult:
    """Write the published store from the open warehouse connection, atomically: a new file
    beside it, renamed over it. A reader that opened the old file keeps reading it whole."""
    queries = {}
    for name, frame in _frames().items():
        connection.register(f"package_{name}", frame)
        queries[name] = f"SELECT * FROM package_{name}"
    queries.update(PUBLISHED_TABLES if tables is None else tables)
    checksum, counts = content_checksum(connection, queries)
    years = [row[0] for row in connection.execute("SELECT year FROM ingestions ORDER BY year").fetchall()]
    if published_checksum(path) == checksum:
        return PublishResult(path, False, checksum, counts, years)

    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp*"):
        stale.unlink(missing_ok=True)  # left by a crashed run
    temp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    synthetic = bool(connection.execute("SELECT coalesce(bool_or(synthetic), false) FROM ingestions").fetchall()[0][0])
    metadata = pd.DataFrame({"key": ["content_checksum", "published_at", "years", "synthetic", "notice", "attribution"],
                             "value": [checksum, datetime.now(UTC).isoformat(timespec="seconds"),
                                       ",".join(map(str, years)), str(synthetic).lower(),
                                       SYNTHETIC_LABEL if synthetic else "", ATTRIBUTION]})
    connection.register("publication_metadata", metadata)
    try:
        connection.execute(f"ATTACH '{_sql_path(temp)}' AS pub")
        try:
            for index, (name, query) in enumerate(queries.items()):
                if index == len(queries) // 2:
                    failpoint(PUBLISH_WRITE)
                connection.execute(f"CREATE TABLE pub.main.{name} AS {query}")
            connection.execute("CREATE TABLE pub.main.metadata AS SELECT * FROM publication_metadata")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a full disk: the error above is the one to show
                connection.execute("DETACH pub")
            raise
        connection.execute("DETACH pub")
        fsync_path(temp)
        failpoint(PUBLISH_SWAP)
        os.replace(temp, path)
        fsync_path(path.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        Path(f"{temp}.wal").unlink(missing_ok=True)
        raise
    finally:
        connection.unregister("publication_metadata")
    return PublishResult(path, True, checksum, counts, years)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
