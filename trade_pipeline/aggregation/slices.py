"""Per-territory slices of a year and their content hashes (the data versions of territory assets).

A territory's version changes exactly when one of its rows changes (or the year's labels, which
the marts print): a département's when its own rows change, a région's when one of its
départements' rows change, France's when anything changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import duckdb
import pandas as pd

from trade_pipeline.aggregation.marts import open_scope
from trade_pipeline.lib.territories import territory_key


def labels_digest(connection: duckdb.DuckDBPyConnection, year: int) -> str:
    count, total = connection.execute(
        "SELECT count(*), coalesce(sum(hash(nomenclature, code, label, valid_from, valid_to)), 0)::VARCHAR "
        "FROM labels WHERE year = ?", [year]).fetchall()[0]
    return f"{count}:{total}"


def territory_versions(connection: duckdb.DuckDBPyConnection, year: int, territory_keys: Iterable[str]) -> pd.DataFrame:
    """territory_key, version, rows, exports_eur, imports_eur for the given territories of `year`."""
    keys = list(territory_keys)
    open_scope(connection, year, keys)
    frame = connection.execute("""
        WITH groups AS (  -- one group per (département, région) pair of the year's rows
            SELECT department_code, region_code, count(*) AS rows,
                   sum(hash(quarter, flow, department_code, region_code, a129_code, cpf4_code, country_code,
                            value_eur, mass_kg))::HUGEINT AS content,
                   coalesce(sum(value_eur) FILTER (flow = 'E'), 0)::BIGINT AS exports_eur,
                   coalesce(sum(value_eur) FILTER (flow = 'I'), 0)::BIGINT AS imports_eur
            FROM trade_flows WHERE year = $year GROUP BY ALL)
        SELECT s.level, s.territory_code, coalesce(sum(g.rows), 0)::BIGINT AS rows,
               coalesce(sum(g.content), 0)::VARCHAR AS content,
               coalesce(sum(g.exports_eur), 0)::BIGINT AS exports_eur,
               coalesce(sum(g.imports_eur), 0)::BIGINT AS imports_eur
        FROM scope s LEFT JOIN groups g
          ON (s.level = 'departement' AND g.department_code = s.territory_code)
          OR (s.level = 'region' AND g.region_code = s.territory_code)
          OR s.level = 'france'
        GROUP BY s.level, s.territory_code""", {"year": year}).df()
    digest = labels_digest(connection, year)
    frame["territory_key"] = [territory_key(level, code)
                              for level, code in zip(frame["level"], frame["territory_code"], strict=True)]
    frame["version"] = [
        hashlib.sha256(f"{year}|{key}|{rows}|{content}|{digest}".encode()).hexdigest()
        for key, rows, content in zip(frame["territory_key"], frame["rows"], frame["content"], strict=True)
    ]
    return frame.drop(columns=["content"])


def store_versions(connection: duckdb.DuckDBPyConnection, year: int, versions: pd.DataFrame) -> None:
    connection.register("incoming_versions", versions)
    connection.execute("""DELETE FROM territory_versions WHERE year = $year
                          AND (level, territory_code) IN (SELECT level, territory_code FROM incoming_versions)""",
                       {"year": year})
    connection.execute("""INSERT INTO territory_versions
                          SELECT $year, level, territory_code, version, rows, exports_eur, imports_eur
                          FROM incoming_versions""", {"year": year})
    connection.unregister("incoming_versions")
