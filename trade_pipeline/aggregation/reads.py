"""Every read of the warehouse by the charts, the fiches and the publication's wiring: what a fiche
shows about one territory and year (`load` → `TerritoryData`, from which the charts and the page
are drawn), the totals and map values of a year's index, and the years and raw versions stored.

The charts and fiches run no SQL of their own (a test checks it): a new section of the fiche reads
its data here, from the marts named in the registry (`tables/`)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from trade_pipeline.aggregation.mart_sql import EXPOSURE_COMPARISON, TERRITORY_TOTALS_WITH_SHARES
from trade_pipeline.aggregation.quarters import EUROPEAN_UNION
from trade_pipeline.lib.nomenclature import short_label
from trade_pipeline.lib.territories import Territory, parse_territory_key, territories_frame, territory, territory_key
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
    QUARTERLY_CHANGES,
    QUARTERLY_SERIES,
    QUARTERLY_SUMMARY,
    QUARTERS,
    UNITED_STATES_EXPORTS,
    UNITED_STATES_IMPORTS,
    mart_table_name,
)

_TOTALS, _PARTNERS, _PRODUCTS, _LINKS, _GROWTH, _EXPOSURE, _UNITED_STATES, _FROM_UNITED_STATES = (
    mart_table_name(mart) for mart in (MART_TERRITORY_TOTALS, PARTNER_BALANCE, PRODUCT_BREAKDOWN, FLOW_LINKS,
                                       GROWTH_CONTRIBUTIONS, EXPOSURE, UNITED_STATES_EXPORTS, UNITED_STATES_IMPORTS))


@dataclass
class TerritoryData:
    year: int
    key: str
    territory: Territory
    totals: dict  # a row of the published territory_totals (with shares and denominators)
    previous: dict | None  # exports/imports of the previous year, when known
    partners: pd.DataFrame  # country_code, name, short, is_country, exports_eur, imports_eur, balance_eur
    products: pd.DataFrame  # flow, product_code, name, short, value_eur, share_of_flow (A129)
    links: pd.DataFrame  # flow_links rows with short names
    exposure: dict
    synthetic: bool
    #: One row per year from the store's first year to `year` (year, exports_eur, imports_eur,
    #: balance_eur, balance_excl_energy_eur, exports/imports_share_of_france); a year missing
    #: from the store is a row of NaN — a gap, never a zero.
    series: pd.DataFrame | None = None
    #: growth_contributions rows of the year (flow, dimension, code, name, short, change_eur,
    #: change_pct, contribution_pct_points…); empty when the previous year is not in the store.
    contributions: pd.DataFrame | None = None
    #: united_states_exports rows (product_code, product_name, short, exports_to_united_states_eur, …).
    united_states: pd.DataFrame | None = None
    #: exposure_comparison rows (indicator → value, france_value, rank, ranked_among).
    comparison: pd.DataFrame | None = None
    #: united_states_imports rows (product_code, product_name, short, imports_from_united_states_eur, …).
    united_states_imports: pd.DataFrame | None = None
    #: France's exposure row of the year, with the short names of its first partners and product
    #: (`exports_first_partner_short`, `imports_first_partner_short`, `exports_first_product_short`).
    france: dict | None = None
    #: The territories a région or France is made of, for its fiche: a région's départements, or
    #: France's régions and départements (key, level, name, exports_eur, imports_eur, balance_eur,
    #: exports_share, imports_share — shares of the territory's own totals); empty for a département.
    members: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        return self.territory.name

    def total(self, flow: str) -> int:
        return int(self.totals["exports_eur" if flow == "E" else "imports_eur"])


def load(connection: duckdb.DuckDBPyConnection, year: int, keys: list[str]) -> dict[str, TerritoryData]:
    """The data of these territories of `year` (one query per mart, split in Python)."""
    scope = pd.DataFrame([parse_territory_key(k) for k in keys], columns=["level", "territory_code"])
    connection.register("chart_scope", scope)
    connection.register("package_territories", territories_frame())
    params = {"year": year}

    def of_scope(sql: str) -> pd.DataFrame:
        return connection.execute(f"SELECT * FROM ({sql}) t SEMI JOIN chart_scope USING (level, territory_code)",
                                  params).df()

    # The shares come from the same query as the published table: one place for that logic.
    totals = of_scope(f"SELECT * FROM ({TERRITORY_TOTALS_WITH_SHARES}) x WHERE x.year = $year")
    partners = of_scope(f"SELECT * FROM {_PARTNERS} WHERE year = $year")
    products = of_scope(f"SELECT * FROM {_PRODUCTS} WHERE year = $year AND product_level = 'a129'")
    links = of_scope(f"SELECT * FROM {_LINKS} WHERE year = $year")
    exposure = of_scope(f"SELECT * FROM {_EXPOSURE} WHERE year = $year")
    previous = of_scope(f"""SELECT level, territory_code, flow, previous_value_eur FROM {_GROWTH}
                            WHERE year = $year AND dimension = 'total'""")
    synthetic = is_synthetic(connection, year)
    contributions = of_scope(f"SELECT * FROM {_GROWTH} WHERE year = $year")
    united_states = of_scope(f"SELECT * FROM {_UNITED_STATES} WHERE year = $year ORDER BY product_rank")
    united_states_imports = of_scope(f"SELECT * FROM {_FROM_UNITED_STATES} WHERE year = $year ORDER BY product_rank")
    everyone = connection.execute(f"SELECT * FROM ({TERRITORY_TOTALS_WITH_SHARES}) x WHERE x.year = $year",
                                  params).df()
    france = _france(connection, year)
    comparison = of_scope(f"SELECT * FROM ({EXPOSURE_COMPARISON}) x WHERE x.year = $year")
    history = of_scope(f"SELECT * FROM ({TERRITORY_TOTALS_WITH_SHARES}) x WHERE x.year <= $year")
    (first_year,) = connection.execute(f"SELECT coalesce(min(year), $year) FROM {_TOTALS}", params).fetchall()[0]
    connection.unregister("chart_scope")

    partners["short"] = [short_label("pays", c, n) for c, n in zip(partners["country_code"], partners["country_name"],
                                                                    strict=True)]
    products["short"] = [short_label("a129", c, n) for c, n in zip(products["product_code"], products["product_name"],
                                                                    strict=True)]
    links["product_short"] = [short_label(level, c, n) for level, c, n in
                              zip(links["product_level"], links["product_code"], links["product_name"], strict=True)]
    contributions["short"] = [short_label("pays" if d == "country" else "a129", c, n) if d != "total" else n
                              for d, c, n in zip(contributions["dimension"], contributions["code"],
                                                 contributions["name"], strict=True)]
    for frame in (united_states, united_states_imports):
        frame["short"] = [short_label("a129", c, n) for c, n in zip(frame["product_code"], frame["product_name"],
                                                                    strict=True)]
    links["country_short"] = [short_label("pays", c, n) for c, n in zip(links["country_code"], links["country_name"],
                                                                         strict=True)]
    split = {id(frame): _rows_by_territory(frame) for frame in
             (totals, previous, partners, products, links, exposure, history, contributions, comparison, united_states,
              united_states_imports)}
    history_years = history["year"].to_numpy(dtype="int64")
    history_values = history[SERIES_COLUMNS].to_numpy(dtype="float64", na_value=np.nan)
    result = {}
    for key in keys:
        territory_of_key = parse_territory_key(key)
        own_history = split[id(history)].get(territory_of_key, [])

        def pick(frame: pd.DataFrame, territory_of_key: tuple[str, str] = territory_of_key) -> pd.DataFrame:
            rows = split[id(frame)].get(territory_of_key)
            return (frame.iloc[rows] if rows is not None else frame.iloc[0:0]).reset_index(drop=True)

        own_totals = pick(totals)
        if own_totals.empty:
            raise LookupError(f"no marts for {key} in {year}: materialize territory_marts first")
        before = pick(previous)
        result[key] = TerritoryData(
            year=year, key=key, territory=territory(key),
            totals=own_totals.iloc[0].to_dict(),
            previous=None if before.empty else dict(zip(before["flow"], before["previous_value_eur"], strict=True)),
            partners=pick(partners), products=pick(products), links=pick(links),
            exposure=pick(exposure).iloc[0].to_dict(), synthetic=synthetic,
            series=_series(history_years[own_history], history_values[own_history], int(first_year), year),
            contributions=pick(contributions),
            comparison=pick(comparison).set_index("indicator"), united_states=pick(united_states),
            united_states_imports=pick(united_states_imports), france=france, members=_members(everyone, key),
        )
    return result


def _france(connection: duckdb.DuckDBPyConnection, year: int) -> dict | None:
    """France's exposure row of `year` with the short names of its first partners and product."""
    rows = connection.execute(f"""
        SELECT e.*, pe.country_name AS exports_first_partner_name, pi.country_name AS imports_first_partner_name,
               pr.product_name AS exports_first_product_name
        FROM {_EXPOSURE} e
        LEFT JOIN {_PARTNERS} pe ON pe.year = e.year AND pe.level = 'france' AND pe.country_code = e.exports_first_partner_code
        LEFT JOIN {_PARTNERS} pi ON pi.year = e.year AND pi.level = 'france' AND pi.country_code = e.imports_first_partner_code
        LEFT JOIN {_PRODUCTS} pr ON pr.year = e.year AND pr.level = 'france' AND pr.flow = 'E'
              AND pr.product_level = 'a129' AND pr.product_code = e.exports_first_product_code
        WHERE e.year = ? AND e.level = 'france'""", [year]).df()
    if rows.empty:
        return None
    row = rows.iloc[0].to_dict()
    for what, nomenclature in (("exports_first_partner", "pays"), ("imports_first_partner", "pays"),
                               ("exports_first_product", "a129")):
        code, name = row[f"{what}_code"], row[f"{what}_name"]
        row[f"{what}_short"] = short_label(nomenclature, code, name) if isinstance(code, str) and isinstance(name, str) \
            else code
    return row


def _members(everyone: pd.DataFrame, key: str) -> pd.DataFrame:
    """A région's départements, or France's régions and départements, with their shares of its totals."""
    level, code = parse_territory_key(key)
    if level == "region":
        rows = everyone[(everyone["level"] == "departement") & (everyone["parent_region_code"] == code)]
        shares = ("exports_share_of_region", "imports_share_of_region")
    elif level == "france":
        rows = everyone[everyone["level"] != "france"]
        shares = ("exports_share_of_france", "imports_share_of_france")
    else:
        rows, shares = everyone.iloc[0:0], ("exports_share_of_france", "imports_share_of_france")
    return pd.DataFrame({
        "key": [territory_key(lv, c) for lv, c in zip(rows["level"], rows["territory_code"], strict=True)],
        "level": list(rows["level"]), "name": list(rows["territory_name"]), "exports_eur": list(rows["exports_eur"]),
        "imports_eur": list(rows["imports_eur"]), "balance_eur": list(rows["balance_eur"]),
        "exports_share": list(rows[shares[0]]), "imports_share": list(rows[shares[1]]),
    })


def _rows_by_territory(frame: pd.DataFrame) -> dict[tuple[str, str], object]:
    """(level, territory code) → the positions of its rows, in order (one pass over the frame,
    instead of one comparison of every row per territory)."""
    return frame.groupby(["level", "territory_code"], sort=False).indices if len(frame) else {}


SERIES_COLUMNS = ["exports_eur", "imports_eur", "balance_eur", "balance_excl_energy_eur",
                  "exports_share_of_france", "imports_share_of_france"]


def _series(years: np.ndarray, values: np.ndarray, first_year: int, year: int) -> pd.DataFrame:
    """Every year from `first_year` to `year` (a territory's `years`, one row of `values` each, in
    SERIES_COLUMNS' order); the years the store lacks are NaN (gaps). Placed by position, not
    merged: a pandas merge per territory cost more than the rows (232 loads in a build)."""
    frame = np.full((year - first_year + 1, len(SERIES_COLUMNS)), np.nan)
    frame[years - first_year] = values
    return pd.DataFrame({"year": np.arange(first_year, year + 1, dtype="int64"),
                         **{column: frame[:, index] for index, column in enumerate(SERIES_COLUMNS)}})


def top_flows(links: pd.DataFrame, flow: str) -> list[tuple[int, str, str, int]]:
    """The highlighted flows: (rank, origin, destination, value)."""
    columns = ("flow", "is_top5", "link_rank", "product_short", "country_short", "value_eur")
    top = sorted((row for row in zip(*(links[column].tolist() for column in columns), strict=True)
                  if row[0] == flow and row[1]), key=lambda row: row[2])
    return [(int(rank), *((product, country) if flow == "E" else (country, product)), int(value))
            for _, _, rank, product, country, value in top]


# --------------------------------------------------------------------------------------------
# A year as a whole: its index, its maps; the years and raw versions stored
# --------------------------------------------------------------------------------------------


def is_synthetic(connection: duckdb.DuckDBPyConnection, year: int | None = None, latest: bool = False) -> bool:
    """Whether the rows of `year` (of any year, without one) come from the synthetic sample —
    or, with `latest`, those of any latest publication stored."""
    where = "" if year is None else f" WHERE year = {int(year)}"
    rows = f"SELECT synthetic FROM {INGESTIONS.name}{where}"
    if latest:
        rows += f" UNION ALL SELECT synthetic FROM {LATEST_PUBLICATIONS.name}"
    return bool(connection.execute(f"SELECT coalesce(bool_or(synthetic), false) FROM ({rows})").fetchall()[0][0])


def raw_versions(connection: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """The raw version of each year stored: what the published store holds."""
    return dict(connection.execute(f"SELECT year, raw_version FROM {INGESTIONS.name} ORDER BY year").fetchall())


def years_with_marts(connection: duckdb.DuckDBPyConnection) -> list[int]:
    return [y for (y,) in connection.execute(f"SELECT DISTINCT year FROM {_TOTALS} ORDER BY 1").fetchall()]


def year_totals(connection: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """Exports and imports of every territory of a year (the index of the fiches)."""
    return connection.execute(f"SELECT level, territory_code, exports_eur, imports_eur FROM {_TOTALS} WHERE year = ?",
                              [year]).df()


def department_values(connection: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """What the maps of a year show, per département: exports, balance, share of exports to the US."""
    return connection.execute(f"""
        SELECT t.territory_code AS department_code, t.exports_eur, (t.exports_eur - t.imports_eur) AS balance_eur,
               e.exports_share_united_states
        FROM {_TOTALS} t JOIN {_EXPOSURE} e USING (year, level, territory_code)
        WHERE t.year = ? AND t.level = 'departement' ORDER BY t.territory_code""", [year]).df()


def departement_key_figures(connection: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """The key figures of every département of a year, side by side (the Territoires d'industrie's
    pages): totals, first client and first product exported with their shares and short names, the
    share of exports to the United States, and the rank of the exports among the ranked
    départements (Monaco has no rank)."""
    frame = connection.execute(f"""
        SELECT t.territory_code AS departement, t.exports_eur, t.imports_eur, t.exports_eur - t.imports_eur AS balance_eur,
               e.exports_first_partner_code, e.exports_first_partner_share, pe.country_name AS exports_first_partner_name,
               e.exports_first_product_code, e.exports_first_product_share, pr.product_name AS exports_first_product_name,
               e.exports_share_united_states
        FROM {_TOTALS} t
        JOIN {_EXPOSURE} e USING (year, level, territory_code)
        LEFT JOIN {_PARTNERS} pe ON pe.year = t.year AND pe.level = t.level AND pe.territory_code = t.territory_code
             AND pe.country_code = e.exports_first_partner_code
        LEFT JOIN {_PRODUCTS} pr ON pr.year = t.year AND pr.level = t.level AND pr.territory_code = t.territory_code
             AND pr.flow = 'E' AND pr.product_level = 'a129' AND pr.product_code = e.exports_first_product_code
        WHERE t.year = ? AND t.level = 'departement' ORDER BY t.territory_code""", [year]).df()
    for what, nomenclature in (("exports_first_partner", "pays"), ("exports_first_product", "a129")):
        frame[f"{what}_short"] = [short_label(nomenclature, code, name) if isinstance(code, str) and isinstance(name, str)
                                  else None for code, name in zip(frame[f"{what}_code"], frame[f"{what}_name"],
                                                                  strict=True)]
    ranked = frame["departement"].map(lambda code: territory(territory_key("departement", code)).ranked)
    frame["exports_rank"] = frame["exports_eur"].where(ranked).rank(ascending=False, method="min").astype("Int64")
    frame["ranked_among"] = int(ranked.sum())
    return frame


@dataclass(frozen=True)
class QuarterlyData:
    """The latest quarters of every territory, as the « Conjoncture » pages show them."""

    summary: pd.DataFrame  # quarterly_summary rows
    changes: pd.DataFrame  # quarterly_changes rows, with `name` and `short` of each member
    series: pd.DataFrame  # quarterly_united_states rows
    quarters: pd.DataFrame  # quarters rows
    synthetic: bool

    def by_territory(self, keys: list[str]) -> dict[str, QuarterlyData]:
        """The rows of each of `keys`, every frame split in one pass (filtering each frame for
        each territory took seconds over the 116). Rows keep their order and index."""
        def split(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
            return {territory_key(level, code): part
                    for (level, code), part in frame.groupby(["level", "territory_code"], sort=False)}

        parts = [split(frame) for frame in (self.summary, self.changes, self.series)]
        empty = [frame.iloc[0:0] for frame in (self.summary, self.changes, self.series)]
        return {key: QuarterlyData(*(part.get(key, none) for part, none in zip(parts, empty, strict=True)),
                                   self.quarters, self.synthetic) for key in keys}


def quarterly_data(connection: duckdb.DuckDBPyConnection) -> QuarterlyData:
    """Every territory's quarterly marts; partners and activities with the labels of the latest year."""
    summary = connection.execute(f"SELECT * FROM {mart_table_name(QUARTERLY_SUMMARY)}").df()
    changes = connection.execute(f"""
        WITH latest AS (SELECT max(year) AS year FROM {LABELS.name})
        SELECT c.*, l.label AS name
        FROM {mart_table_name(QUARTERLY_CHANGES)} c
        LEFT JOIN {LABELS.name} l ON l.year = (SELECT year FROM latest)
             AND l.nomenclature = CASE c.dimension WHEN 'partner' THEN 'pays' ELSE 'a129' END AND l.code = c.member
             AND l.valid_to = (SELECT max(valid_to) FROM {LABELS.name} m WHERE m.year = l.year
                               AND m.nomenclature = l.nomenclature AND m.code = l.code)""").df()
    nomenclature = changes["dimension"].map({"partner": "pays", "activity": "a129"})
    changes["name"] = [EU_NAME if code == EUROPEAN_UNION else (name if isinstance(name, str) else code)
                       for code, name in zip(changes["member"], changes["name"], strict=True)]
    changes["short"] = [short_label(n, code, name) for n, code, name in
                        zip(nomenclature, changes["member"], changes["name"], strict=True)]
    series = connection.execute(f"SELECT * FROM {mart_table_name(QUARTERLY_SERIES)} ORDER BY year, quarter").df()
    quarters = connection.execute(f"SELECT * FROM {mart_table_name(QUARTERS)} ORDER BY year, quarter").df()
    return QuarterlyData(summary, changes, series, quarters, is_synthetic(connection, latest=True))


#: How the EU27 as a whole (aggregation/quarters.py) is named on the pages.
EU_NAME = "Union européenne (27)"
