"""The marts: computing them for a scope of territories of a year (their SQL: mart_sql.py), and
the data version of each territory's marts.

Every mart is computed for a set of territories of one year at once, from `year_cells` (the
year's rows summed over quarters, kept by `territory_flows`). A territory's rows are:

* a département: the rows with that `department_code`;
* a région: the rows carrying that `region_code` (never a sum of reference-table members);
* France: all the rows (same CAF/FAB basis — never the headline national figure).

Shares between territories (of the région, of France) are not stored per territory: they are
ratios of stored totals, computed when the store is published, so that a change in one
département does not make every other département's marts stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from trade_pipeline.aggregation.mart_sql import (
    MartSettings,
    exposure_sql,
    flow_links_sql,
    growth_contributions_sql,
    partner_balance_sql,
    product_breakdown_sql,
    territory_totals_sql,
    united_states_exports_sql,
    united_states_imports_sql,
)
from trade_pipeline.lib.territories import parse_territory_key, territory_key
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.tables import MART_INPUTS, MART_TABLES, TERRITORY_VERSIONS, Table, mart_table_name

# --------------------------------------------------------------------------------------------
# Scope: the territories of one computation, and their rows
# --------------------------------------------------------------------------------------------


def scope_frame(territory_keys: Iterable[str]) -> pd.DataFrame:
    pairs = [parse_territory_key(key) for key in territory_keys]
    return pd.DataFrame(pairs, columns=["level", "territory_code"])


def refresh_year_cells(connection: duckdb.DuckDBPyConnection, year: int) -> int:
    """Sum the year's rows over quarters once; every mart of the year starts from these cells."""
    connection.execute("DELETE FROM year_cells WHERE year = ?", [year])
    connection.execute("""
        INSERT INTO year_cells
        SELECT year, department_code, region_code, flow, a129_code, cpf4_code, country_code,
               sum(value_eur)::BIGINT, sum(mass_kg)::BIGINT
        FROM trade_flows WHERE year = ?
        GROUP BY ALL
        ORDER BY region_code, department_code, flow, a129_code, cpf4_code, country_code""", [year])
    return connection.execute("SELECT count(*) FROM year_cells WHERE year = ?", [year]).fetchall()[0][0]


def territory_cells_sql(year: int) -> str:
    """The cells of each territory of `scope` for `year`: a département's, a région's (by the
    rows' région code) and France's (all rows)."""
    return f"""
        SELECT s.level, s.territory_code, c.* FROM year_cells c
            JOIN scope s ON s.level = 'departement' AND c.department_code = s.territory_code WHERE c.year = {year}
        UNION ALL
        SELECT s.level, s.territory_code, c.* FROM year_cells c
            JOIN scope s ON s.level = 'region' AND c.region_code = s.territory_code WHERE c.year = {year}
        UNION ALL
        SELECT s.level, s.territory_code, c.* FROM year_cells c
            JOIN scope s ON s.level = 'france' WHERE c.year = {year}"""


def open_scope(connection: duckdb.DuckDBPyConnection, year: int, territory_keys: Iterable[str]) -> None:
    """Temporary views for one year and set of territories: `scope`, `cells`, `labels_of_year`.

    `cells` has one row per territory and year cell: (level, territory_code, department_code, …).
    """
    connection.register("scope_input", scope_frame(territory_keys))
    connection.execute("CREATE OR REPLACE TEMP TABLE scope AS SELECT DISTINCT level, territory_code FROM scope_input")
    connection.unregister("scope_input")
    connection.execute(f"CREATE OR REPLACE TEMP VIEW cells AS {territory_cells_sql(int(year))}")
    connection.execute(f"CREATE OR REPLACE TEMP VIEW previous_cells AS {territory_cells_sql(int(year) - 1)}")
    # Labels valid during the year; when a code has two rows in the year, the later one wins.
    connection.execute(f"""
        CREATE OR REPLACE TEMP VIEW labels_of_year AS
        SELECT nomenclature, code, arg_max(label, valid_from) AS label FROM labels
        WHERE year = {int(year)} AND valid_from <= {int(year) * 100 + 12} AND valid_to >= {int(year) * 100 + 1}
        GROUP BY nomenclature, code""")


# --------------------------------------------------------------------------------------------
# Running a mart
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mart:
    """A mart: its table in the registry and the SQL that computes it for a scope."""

    schema: Table
    sql: Callable[[MartSettings], str]

    @property
    def name(self) -> str:  # published name
        return self.schema.name

    @property
    def table(self) -> str:  # warehouse name
        return mart_table_name(self.schema)

    @property
    def description(self) -> str:
        return self.schema.meaning


_SQL = {"territory_totals": territory_totals_sql, "partner_balance": partner_balance_sql,
        "product_breakdown": product_breakdown_sql, "flow_links": flow_links_sql,
        "growth_contributions": growth_contributions_sql, "exposure": exposure_sql,
        "united_states_exports": united_states_exports_sql, "united_states_imports": united_states_imports_sql}
MART_QUERIES = {table.name: Mart(table, _SQL[table.name]) for table in MART_TABLES}


def compute(connection: duckdb.DuckDBPyConnection, mart: Mart, year: int, settings: MartSettings) -> pd.DataFrame:
    """The mart's rows for the scope opened with :func:`open_scope` (for tests and previews)."""
    return connection.execute(mart.sql(settings), {"year": year}).df()


def refresh(connection: duckdb.DuckDBPyConnection, mart: Mart, year: int, territory_keys: list[str],
            settings: MartSettings) -> int:
    """Replace the mart's rows of these territories for `year` (inside the caller's transaction)."""
    open_scope(connection, year, territory_keys)
    connection.execute(f"""DELETE FROM {mart.table} WHERE year = $year
                           AND (level, territory_code) IN (SELECT level, territory_code FROM scope)""",
                       {"year": year})
    connection.execute(f"INSERT INTO {mart.table} BY NAME {mart.sql(settings)}", {"year": year})
    return connection.execute(f"""SELECT count(*) FROM {mart.table} WHERE year = $year
                                  AND (level, territory_code) IN (SELECT level, territory_code FROM scope)""",
                              {"year": year}).fetchall()[0][0]


def refresh_marts(connection: duckdb.DuckDBPyConnection, year: int, territory_keys: list[str],
                  settings: MartSettings) -> dict[str, int]:
    """Replace the marts of these territories for `year`, in one transaction: rows per mart."""
    with transaction(connection):
        return {mart.name: refresh(connection, mart, year, territory_keys, settings) for mart in MART_QUERIES.values()}


@dataclass(frozen=True)
class MartsFingerprint:
    """What the marts hold for one territory and year: its data version and its rows per mart."""

    version: str
    rows: dict[str, int]


def fingerprints(connection: duckdb.DuckDBPyConnection, year: int, territory_keys: list[str]
                 ) -> dict[str, MartsFingerprint]:
    """For each territory of `year`, a hash of its rows in the marts — the data version of its
    marts, which changes only when one of those rows does, not when they are merely recomputed."""
    open_scope(connection, year, territory_keys)
    parts: dict[str, list[str]] = {}
    rows: dict[str, dict[str, int]] = {key: {} for key in territory_keys}
    for mart in MART_QUERIES.values():
        for level, code, count, digest in connection.execute(f"""
                SELECT level, territory_code, count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {mart.table} t
                WHERE year = $year AND (level, territory_code) IN (SELECT level, territory_code FROM scope)
                GROUP BY ALL""", {"year": year}).fetchall():
            key = territory_key(level, code)
            parts.setdefault(key, []).append(f"{mart.name}:{count}:{digest}")
            rows[key][mart.name] = int(count)
    return {key: MartsFingerprint(
        hashlib.sha256("|".join([str(year), key, *sorted(parts.get(key, []))]).encode()).hexdigest(), rows[key])
        for key in territory_keys}


def input_signatures(connection: duckdb.DuckDBPyConnection, year: int, territory_keys: list[str],
                     settings: MartSettings, code_version: str) -> dict[str, str]:
    """For each territory of `year`, a hash of everything its marts are computed from: its slice
    versions of the year and of the year before (growth), the mart settings and the marts' code."""
    open_scope(connection, year, territory_keys)
    rows = connection.execute(f"""
        SELECT s.level, s.territory_code, coalesce(v.version, ''), coalesce(p.version, '') FROM scope s
        LEFT JOIN {TERRITORY_VERSIONS.name} v
          ON v.year = $year AND v.level = s.level AND v.territory_code = s.territory_code
        LEFT JOIN {TERRITORY_VERSIONS.name} p
          ON p.year = $year - 1 AND p.level = s.level AND p.territory_code = s.territory_code""",
                              {"year": year}).fetchall()
    return {territory_key(level, code): hashlib.sha256(
                "|".join([str(year), current, previous, repr(settings), code_version]).encode()).hexdigest()
            for level, code, current, previous in rows}


def unchanged_marts(connection: duckdb.DuckDBPyConnection, year: int, signatures: dict[str, str]) -> dict[str, str]:
    """The territories whose marts were last computed from exactly these inputs: their version."""
    stored = connection.execute(f"SELECT level, territory_code, inputs, version FROM {MART_INPUTS.name} "
                                "WHERE year = ?", [year]).fetchall()
    return {key: version for level, code, inputs, version in stored
            if signatures.get(key := territory_key(level, code)) == inputs}


def store_mart_inputs(connection: duckdb.DuckDBPyConnection, year: int, computed: dict[str, tuple[str, str]]) -> None:
    """Record what the marts of these territories were computed from: key → (inputs, version).
    Written after the marts: a crash in between only makes the next run compute them again."""
    frame = pd.DataFrame([(*parse_territory_key(key), inputs, version) for key, (inputs, version) in computed.items()],
                         columns=["level", "territory_code", "inputs", "version"])
    connection.register("computed_inputs", frame)
    with transaction(connection):
        connection.execute(f"""DELETE FROM {MART_INPUTS.name} WHERE year = $year
                               AND (level, territory_code) IN (SELECT level, territory_code FROM computed_inputs)""",
                           {"year": year})
        connection.execute(f"INSERT INTO {MART_INPUTS.name} SELECT $year, level, territory_code, inputs, version "
                           "FROM computed_inputs", {"year": year})
    connection.unregister("computed_inputs")
