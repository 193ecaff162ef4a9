"""The latest-quarter marts in the warehouse: the quarters table, the quarterly totals summed in
SQL from the file each quarter comes from, and the indicators of quarters.py.

Only the eight last quarters are summed for the comparisons (the rolling four quarters and the
four before cover the year to date too); the series of exports to the United States covers
every quarter in the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import pandas as pd

from trade_pipeline.aggregation.mart_sql import EU27, EU_AS_A_WHOLE, sql_list
from trade_pipeline.aggregation.marts import scope_frame
from trade_pipeline.aggregation.quarters import (
    ACTIVITY,
    EUROPEAN_UNION,
    PARTNER,
    TOTAL,
    TOTALS_COLUMNS,
    UNITED_STATES,
    QuarterlyIndicators,
    quarterly_indicators,
)
from trade_pipeline.lib.quarters import ANNUAL, LATEST, Quarter, QuarterSource, quarters_in_use, stored_sources
from trade_pipeline.lib.territories import territory_keys
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.tables import (
    QUARTERLY_CHANGES,
    QUARTERLY_SERIES,
    QUARTERLY_SUMMARY,
    QUARTERS,
    Table,
    mart_table_name,
)

#: Quarters summed for the comparisons: the rolling four quarters and the four before.
WINDOW = 8


def _chosen_rows(where: str) -> str:
    """The rows of the quarters in use (`chosen_quarters`): an annual year's from `trade_flows`,
    a provisional quarter's from the vintage it is taken from."""
    columns = "t.year, t.quarter, t.flow, t.department_code, t.region_code, t.a129_code, t.country_code, t.value_eur"
    return f"""
        SELECT {columns} FROM trade_flows t
        JOIN chosen_quarters c ON c.origin = '{ANNUAL}' AND t.year = c.year AND t.quarter = c.quarter
        WHERE {where}
        UNION ALL
        SELECT {columns} FROM provisional_flows t
        JOIN chosen_quarters c ON c.origin = '{LATEST}' AND t.vintage = c.vintage AND t.year = c.year
             AND t.quarter = c.quarter
        WHERE {where}"""


def _by_territory(cells: str, member: str, dimension: str) -> str:
    """Quarterly sums per territory of every level (a région: the rows carrying its code; France:
    all rows — as the yearly marts, aggregation/marts.py)."""
    parts = [f"SELECT '{level}' AS level, {code} AS territory_code, flow, '{dimension}' AS dimension, "
             f"{member} AS member, year, quarter, sum(value_eur)::BIGINT AS value_eur FROM {cells} GROUP BY ALL"
             for level, code in (("departement", "department_code"), ("region", "region_code"), ("france", "'FR'"))]
    return " UNION ALL ".join(parts)


def quarterly_totals(connection: duckdb.DuckDBPyConnection, first: Quarter) -> pd.DataFrame:
    """TOTALS_COLUMNS of the quarters in use from `first` on: totals, partners (countries and the
    EU27 as a whole) and activities (A129)."""
    window = f"t.year * 4 + t.quarter - 1 >= {first.index}"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE quarter_cells AS {_chosen_rows(window)}")
    eu = sql_list((*EU27, EU_AS_A_WHOLE))
    queries = [
        _by_territory("quarter_cells", "''", TOTAL),
        _by_territory("quarter_cells", "country_code", PARTNER),
        _by_territory(f"(SELECT * FROM quarter_cells WHERE country_code IN ({eu}))", f"'{EUROPEAN_UNION}'", PARTNER),
        _by_territory("quarter_cells", "a129_code", ACTIVITY),
    ]
    frame = connection.execute(" UNION ALL ".join(f"({q})" for q in queries)).df()
    connection.execute("DROP TABLE quarter_cells")
    return frame[list(TOTALS_COLUMNS)]


def united_states_totals(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The partner totals of the United States, every quarter in use (for the series)."""
    rows = _chosen_rows(f"t.country_code = '{UNITED_STATES}'")
    connection.execute(f"CREATE OR REPLACE TEMP TABLE us_cells AS {rows}")
    frame = connection.execute(_by_territory("us_cells", "country_code", PARTNER)).df()
    connection.execute("DROP TABLE us_cells")
    return frame[list(TOTALS_COLUMNS)]


def quarters_frame(connection: duckdb.DuckDBPyConnection, sources: list[QuarterSource]) -> pd.DataFrame:
    """The `quarters` table: every (quarter, file), with France's totals as that file gives them."""
    frame = pd.DataFrame([s.__dict__ for s in sources], columns=[c.name for c in QUARTERS.columns[:7]])
    annual = connection.execute("""
        SELECT year, quarter, '' AS vintage, sum(value_eur) FILTER (flow = 'E')::BIGINT AS exports_eur,
               sum(value_eur) FILTER (flow = 'I')::BIGINT AS imports_eur
        FROM trade_flows GROUP BY ALL""").df().assign(origin=ANNUAL).drop(columns="vintage")
    latest = connection.execute("""
        SELECT year, quarter, vintage, sum(value_eur) FILTER (flow = 'E')::BIGINT AS exports_eur,
               sum(value_eur) FILTER (flow = 'I')::BIGINT AS imports_eur
        FROM provisional_flows GROUP BY ALL""").df().assign(origin=LATEST)
    by_annual = frame[frame["origin"] == ANNUAL].merge(annual, on=["year", "quarter", "origin"], how="left")
    by_latest = frame[frame["origin"] == LATEST].merge(latest, on=["year", "quarter", "origin", "vintage"], how="left")
    out = pd.concat([by_annual, by_latest], ignore_index=True)
    for column in ("exports_eur", "imports_eur"):
        out[column] = out[column].fillna(0).astype("int64")
    return out.sort_values(["year", "quarter", "origin", "vintage"]).reset_index(drop=True)[list(QUARTERS.column_names)]


@dataclass(frozen=True)
class QuarterlyMarts:
    quarters: pd.DataFrame
    indicators: QuarterlyIndicators
    latest: Quarter | None

    def tables(self) -> dict[Table, pd.DataFrame]:
        return {QUARTERS: self.quarters, QUARTERLY_SUMMARY: self.indicators.summary,
                QUARTERLY_CHANGES: self.indicators.changes, QUARTERLY_SERIES: self.indicators.series}

    @property
    def version(self) -> str:
        """A digest of the marts' content: their data version (the same content, nothing downstream)."""
        digest = hashlib.sha256()
        for table, frame in self.tables().items():
            digest.update(table.name.encode())
            if len(frame):
                digest.update(pd.util.hash_pandas_object(frame[list(table.column_names)], index=False).to_numpy())
        return digest.hexdigest()


def compute_quarterly(connection: duckdb.DuckDBPyConnection) -> QuarterlyMarts:
    """The quarterly marts of every territory from what the warehouse holds."""
    sources = stored_sources(connection)
    held = quarters_in_use(sources)
    choice = pd.DataFrame([(s.year, s.quarter, s.origin, s.vintage) for s in held.values()],
                          columns=["year", "quarter", "origin", "vintage"])
    connection.register("chosen_quarters", choice)
    try:
        latest = max(held) if held else None
        totals = quarterly_totals(connection, latest.plus(1 - WINDOW)) if latest else pd.DataFrame(columns=TOTALS_COLUMNS)
        us = united_states_totals(connection) if latest else pd.DataFrame(columns=TOTALS_COLUMNS)
        quarters = quarters_frame(connection, sources)
    finally:
        connection.unregister("chosen_quarters")
    # The series reads the United States' every quarter; the comparisons the window's.
    in_window = totals[~((totals["dimension"] == PARTNER) & (totals["member"] == UNITED_STATES))]
    indicators = quarterly_indicators(pd.concat([in_window, us], ignore_index=True), sources,
                                      scope_frame(territory_keys()))
    return QuarterlyMarts(quarters, _typed(indicators), latest)


def _typed(indicators: QuarterlyIndicators) -> QuarterlyIndicators:
    """In the registry's column order (empty frames keep their columns)."""
    def ordered(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
        return frame[list(table.column_names)] if len(frame) else pd.DataFrame(columns=list(table.column_names))

    return QuarterlyIndicators(ordered(indicators.summary, QUARTERLY_SUMMARY),
                               ordered(indicators.changes, QUARTERLY_CHANGES),
                               ordered(indicators.series, QUARTERLY_SERIES))


def write_quarterly(connection: duckdb.DuckDBPyConnection, marts: QuarterlyMarts) -> dict[str, int]:
    """Replace the quarterly marts in one transaction; rows per table."""
    counts = {}
    with transaction(connection):
        for table, frame in marts.tables().items():
            name = mart_table_name(table)
            connection.execute(f"DELETE FROM {name}")
            if len(frame):
                connection.register("incoming_quarterly", frame)
                connection.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming_quarterly")
                connection.unregister("incoming_quarterly")
            counts[table.name] = len(frame)
    return counts
