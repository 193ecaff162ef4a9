"""The SQL of the eight marts — territory totals, partners, products, Sankey links, growth,
exposure, exports to and imports from the United States — and of what is derived from them when read (the shares
of the région and of France, the comparison with France and the ranks).

Each mart's query reads the scope opened by `marts.open_scope` (`cells`: the year's cells of the
territories computed, with `level` and `territory_code`; `labels_of_year`) and returns the rows
of its table in the registry (tables/). Codes are constants of ours, never user input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from trade_pipeline.lib.nomenclature import ENERGY_A129_CODES, NON_COUNTRY_CODES
from trade_pipeline.lib.territories import territories
from trade_pipeline.tables import EXPOSURE, MART_TERRITORY_TOTALS, RANKED_INDICATORS, mart_table_name

#: EU member states (the EU27 since Brexit, 1 February 2020), for the exposure indicators.
EU27 = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
        "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
#: Partner code of the whole EU when the member state is not known.
EU_AS_A_WHOLE = "EU"
OTHERS = "AUTRES"
TOP_PRODUCTS = 10
TOP_COUNTRIES = 10
TOP_LINKS = 5

def sql_list(values: Iterable[str]) -> str:
    """A SQL list of constant codes (ours, never user input)."""
    return ", ".join(f"'{v}'" for v in sorted(values))


ENERGY = sql_list(ENERGY_A129_CODES)
_TOTALS = mart_table_name(MART_TERRITORY_TOTALS)
NON_COUNTRIES = sql_list(NON_COUNTRY_CODES)



@dataclass(frozen=True)
class MartSettings:
    #: Product level of the Sankey links: 'a129' or 'cpf4'.
    product_level: str = "a129"


# --------------------------------------------------------------------------------------------
# The marts (SELECTs over the scope views; `year` is bound as $year)
# --------------------------------------------------------------------------------------------

_COUNTRY_NAME = "coalesce((SELECT label FROM labels_of_year l WHERE l.nomenclature = 'pays' AND l.code = {col}), 'Pays ' || {col})"


def _country_name(column: str) -> str:
    return _COUNTRY_NAME.format(col=column)


def _product_name(level_column: str, code_column: str) -> str:
    return (f"coalesce((SELECT label FROM labels_of_year l WHERE l.nomenclature = {level_column} "
            f"AND l.code = {code_column}), upper({level_column}) || ' ' || {code_column})")


def territory_totals_sql(settings: MartSettings) -> str:
    return f"""
        SELECT $year AS year, s.level, s.territory_code,
            coalesce(sum(value_eur) FILTER (flow = 'E'), 0)::BIGINT AS exports_eur,
            coalesce(sum(value_eur) FILTER (flow = 'I'), 0)::BIGINT AS imports_eur,
            coalesce(sum(value_eur) FILTER (flow = 'E' AND a129_code NOT IN ({ENERGY})), 0)::BIGINT AS exports_excl_energy_eur,
            coalesce(sum(value_eur) FILTER (flow = 'I' AND a129_code NOT IN ({ENERGY})), 0)::BIGINT AS imports_excl_energy_eur,
            coalesce(sum(value_eur) FILTER (flow = 'E' AND a129_code IN ({ENERGY})), 0)::BIGINT AS exports_energy_eur,
            coalesce(sum(value_eur) FILTER (flow = 'I' AND a129_code IN ({ENERGY})), 0)::BIGINT AS imports_energy_eur,
            count(DISTINCT cpf4_code) FILTER (flow = 'E')::INTEGER AS exported_products,
            count(DISTINCT country_code) FILTER (flow = 'E')::INTEGER AS export_destinations
        FROM scope s LEFT JOIN cells c USING (level, territory_code)
        GROUP BY s.level, s.territory_code"""


def partner_balance_sql(settings: MartSettings) -> str:
    return f"""
        WITH partners AS (
            SELECT level, territory_code, country_code,
                coalesce(sum(value_eur) FILTER (flow = 'E'), 0)::BIGINT AS exports_eur,
                coalesce(sum(value_eur) FILTER (flow = 'I'), 0)::BIGINT AS imports_eur
            FROM cells GROUP BY ALL)
        SELECT $year AS year, p.level, p.territory_code, p.country_code, {_country_name('p.country_code')} AS country_name,
               p.country_code NOT IN ({NON_COUNTRIES}) AS is_country, p.exports_eur, p.imports_eur,
               (p.exports_eur - p.imports_eur)::BIGINT AS balance_eur
        FROM partners p"""


def product_breakdown_sql(settings: MartSettings) -> str:
    return f"""
        WITH products AS (
            SELECT level, territory_code, flow, 'a129' AS product_level, a129_code AS product_code,
                   sum(value_eur)::BIGINT AS value_eur FROM cells GROUP BY ALL
            UNION ALL
            SELECT level, territory_code, flow, 'cpf4', cpf4_code, sum(value_eur)::BIGINT FROM cells GROUP BY ALL)
        SELECT $year AS year, p.level, p.territory_code, p.flow, p.product_level, p.product_code,
               {_product_name('p.product_level', 'p.product_code')} AS product_name, p.value_eur,
               p.value_eur / nullif(sum(p.value_eur) OVER (PARTITION BY p.level, p.territory_code, p.flow, p.product_level), 0)
                   AS share_of_flow
        FROM products p"""


def flow_links_sql(settings: MartSettings) -> str:
    """Top products × top partner countries, with « AUTRES » = total − listed (sums exactly)."""
    product = f"{settings.product_level}_code"
    return f"""
        WITH base AS (
            SELECT level, territory_code, flow, {product} AS product_code, country_code, value_eur FROM cells),
        product_totals AS (
            SELECT level, territory_code, flow, product_code, sum(value_eur) AS value FROM base GROUP BY ALL),
        country_totals AS (
            SELECT level, territory_code, flow, country_code, sum(value_eur) AS value FROM base
            WHERE country_code NOT IN ({NON_COUNTRIES}) GROUP BY ALL),
        top_products AS (
            SELECT *, row_number() OVER (PARTITION BY level, territory_code, flow ORDER BY value DESC, product_code) AS product_rank
            FROM product_totals WHERE value > 0 QUALIFY product_rank <= {TOP_PRODUCTS}),
        top_countries AS (
            SELECT *, row_number() OVER (PARTITION BY level, territory_code, flow ORDER BY value DESC, country_code) AS country_rank
            FROM country_totals WHERE value > 0 QUALIFY country_rank <= {TOP_COUNTRIES}),
        listed AS (  -- listed product × listed country
            SELECT b.level, b.territory_code, b.flow, b.product_code, b.country_code, sum(b.value_eur) AS value,
                   any_value(p.product_rank) AS product_rank, any_value(c.country_rank) AS country_rank
            FROM base b
            JOIN top_products p USING (level, territory_code, flow, product_code)
            JOIN top_countries c USING (level, territory_code, flow, country_code)
            GROUP BY ALL),
        flow_totals AS (
            SELECT level, territory_code, flow, sum(value_eur) AS value FROM base GROUP BY ALL),
        product_others AS (  -- listed product → every other partner
            SELECT p.level, p.territory_code, p.flow, p.product_code, '{OTHERS}' AS country_code,
                   p.value - coalesce(sum(l.value), 0) AS value, p.product_rank, NULL::BIGINT AS country_rank
            FROM top_products p LEFT JOIN listed l USING (level, territory_code, flow, product_code)
            GROUP BY p.level, p.territory_code, p.flow, p.product_code, p.value, p.product_rank),
        country_others AS (  -- every other product → listed country
            SELECT c.level, c.territory_code, c.flow, '{OTHERS}' AS product_code, c.country_code,
                   c.value - coalesce(sum(l.value), 0) AS value, NULL::BIGINT AS product_rank, c.country_rank
            FROM top_countries c LEFT JOIN listed l USING (level, territory_code, flow, country_code)
            GROUP BY c.level, c.territory_code, c.flow, c.country_code, c.value, c.country_rank),
        links AS (
            SELECT * FROM listed
            UNION ALL SELECT * FROM product_others
            UNION ALL SELECT * FROM country_others),
        rest AS (  -- others → others: the total minus everything above, so links sum to the total
            SELECT t.level, t.territory_code, t.flow, '{OTHERS}' AS product_code, '{OTHERS}' AS country_code,
                   t.value - coalesce((SELECT sum(k.value) FROM links k WHERE k.level = t.level
                       AND k.territory_code = t.territory_code AND k.flow = t.flow), 0) AS value,
                   NULL::BIGINT AS product_rank, NULL::BIGINT AS country_rank
            FROM flow_totals t),
        all_links AS (
            SELECT * FROM links UNION ALL SELECT * FROM rest),
        ranked AS (
            SELECT *, CASE WHEN product_code <> '{OTHERS}' AND country_code <> '{OTHERS}' THEN
                       row_number() OVER (PARTITION BY level, territory_code, flow,
                                          (product_code <> '{OTHERS}' AND country_code <> '{OTHERS}')
                                          ORDER BY value DESC, product_code, country_code) END AS link_rank
            FROM all_links WHERE value > 0)
        SELECT $year AS year, r.level, r.territory_code, r.flow, '{settings.product_level}' AS product_level,
               r.product_code,
               CASE WHEN r.product_code = '{OTHERS}' THEN 'Autres produits'
                    ELSE {_product_name(f"'{settings.product_level}'", 'r.product_code')} END AS product_name,
               r.country_code,
               CASE WHEN r.country_code = '{OTHERS}' THEN 'Autres pays' ELSE {_country_name('r.country_code')} END
                   AS country_name,
               r.value::BIGINT AS value_eur, coalesce(r.link_rank <= {TOP_LINKS}, false) AS is_top5,
               r.product_rank::INTEGER AS product_rank, r.country_rank::INTEGER AS country_rank,
               r.link_rank::INTEGER AS link_rank
        FROM ranked r"""


def growth_contributions_sql(settings: MartSettings) -> str:
    """Year-on-year change by flow, partner and A129 product, in points of the previous total.

    Rows exist only when the previous year is in the warehouse (`previous_cells` not empty).
    """
    return f"""
        WITH previous_available AS (
            SELECT DISTINCT level, territory_code FROM previous_cells),
        now AS (
            SELECT level, territory_code, flow, 'total' AS dimension, 'TOTAL' AS code, sum(value_eur) AS value FROM cells GROUP BY ALL
            UNION ALL SELECT level, territory_code, flow, 'country', country_code, sum(value_eur) FROM cells GROUP BY ALL
            UNION ALL SELECT level, territory_code, flow, 'product', a129_code, sum(value_eur) FROM cells GROUP BY ALL),
        before AS (
            SELECT level, territory_code, flow, 'total' AS dimension, 'TOTAL' AS code, sum(value_eur) AS value FROM previous_cells GROUP BY ALL
            UNION ALL SELECT level, territory_code, flow, 'country', country_code, sum(value_eur) FROM previous_cells GROUP BY ALL
            UNION ALL SELECT level, territory_code, flow, 'product', a129_code, sum(value_eur) FROM previous_cells GROUP BY ALL),
        joined AS (
            SELECT level, territory_code, flow, dimension, code,
                   coalesce(n.value, 0) AS value, coalesce(b.value, 0) AS previous
            FROM now n FULL OUTER JOIN before b USING (level, territory_code, flow, dimension, code)
            SEMI JOIN previous_available USING (level, territory_code)),
        with_totals AS (
            SELECT j.*, t.previous AS previous_total FROM joined j
            JOIN joined t ON t.level = j.level AND t.territory_code = j.territory_code AND t.flow = j.flow
                         AND t.dimension = 'total')
        SELECT $year AS year, w.level, w.territory_code, w.flow, w.dimension, w.code,
               CASE w.dimension WHEN 'total' THEN CASE w.flow WHEN 'E' THEN 'Exportations' ELSE 'Importations' END
                                WHEN 'country' THEN {_country_name('w.code')}
                                ELSE {_product_name("'a129'", 'w.code')} END AS name,
               w.value::BIGINT AS value_eur, w.previous::BIGINT AS previous_value_eur,
               (w.value - w.previous)::BIGINT AS change_eur,
               CASE WHEN w.previous > 0 THEN 100.0 * (w.value - w.previous) / w.previous END AS change_pct,
               CASE WHEN w.previous_total > 0 THEN 100.0 * (w.value - w.previous) / w.previous_total END
                   AS contribution_pct_points
        FROM with_totals w"""


#: Herfindahl index Σ(value/total)² computed as Σvalue² / total² in exact integers (HUGEINT):
#: a parallel sum of floats depends on the order of its terms, and the same data must always
#: give the same bytes (content checksums, identical refreshes).
_HHI = "sum(p.value::HUGEINT * p.value) / nullif(any_value(t.total)::HUGEINT * any_value(t.total), 0)"


def exposure_sql(settings: MartSettings) -> str:
    eu = sql_list((*EU27, EU_AS_A_WHOLE))
    return f"""
        WITH flows AS (
            SELECT s.level, s.territory_code, f.flow FROM scope s CROSS JOIN (VALUES ('E'), ('I')) f(flow)),
        totals AS (
            SELECT f.level, f.territory_code, f.flow, coalesce(sum(c.value_eur), 0) AS total,
                   coalesce(sum(c.value_eur) FILTER (c.country_code = 'US'), 0) AS us,
                   coalesce(sum(c.value_eur) FILTER (c.country_code IN ({eu})), 0) AS eu,
                   coalesce(sum(c.value_eur) FILTER (c.country_code = 'CN'), 0) AS cn,
                   coalesce(sum(c.value_eur) FILTER (c.a129_code IN ({ENERGY})), 0) AS energy
            FROM flows f LEFT JOIN cells c USING (level, territory_code, flow) GROUP BY ALL),
        partners AS (
            SELECT level, territory_code, flow, country_code AS code, sum(value_eur) AS value FROM cells GROUP BY ALL),
        products AS (
            SELECT level, territory_code, flow, a129_code AS code, sum(value_eur) AS value FROM cells GROUP BY ALL),
        partner_stats AS (
            SELECT p.level, p.territory_code, p.flow, arg_max(p.code, p.value) AS first_code,
                   max(p.value) / nullif(any_value(t.total), 0) AS first_share,
                   {_HHI} AS hhi
            FROM partners p JOIN totals t USING (level, territory_code, flow) GROUP BY ALL),
        product_stats AS (
            SELECT p.level, p.territory_code, p.flow, arg_max(p.code, p.value) AS first_code,
                   max(p.value) / nullif(any_value(t.total), 0) AS first_share,
                   {_HHI} AS hhi
            FROM products p JOIN totals t USING (level, territory_code, flow) GROUP BY ALL)
        SELECT $year AS year, s.level, s.territory_code,
               e.total::BIGINT AS exports_eur, i.total::BIGINT AS imports_eur,
               e.us / nullif(e.total, 0) AS exports_share_united_states,
               e.eu / nullif(e.total, 0) AS exports_share_eu,
               e.cn / nullif(e.total, 0) AS exports_share_china,
               i.us / nullif(i.total, 0) AS imports_share_united_states,
               i.eu / nullif(i.total, 0) AS imports_share_eu,
               i.cn / nullif(i.total, 0) AS imports_share_china,
               ep.first_code AS exports_first_partner_code, ep.first_share AS exports_first_partner_share,
               eq.first_code AS exports_first_product_code, eq.first_share AS exports_first_product_share,
               ip.first_code AS imports_first_partner_code, ip.first_share AS imports_first_partner_share,
               iq.first_code AS imports_first_product_code, iq.first_share AS imports_first_product_share,
               ep.hhi AS exports_partner_hhi, ip.hhi AS imports_partner_hhi,
               eq.hhi AS exports_product_hhi, iq.hhi AS imports_product_hhi,
               i.energy / nullif(i.total, 0) AS energy_share_of_imports
        FROM scope s
        JOIN totals e ON e.level = s.level AND e.territory_code = s.territory_code AND e.flow = 'E'
        JOIN totals i ON i.level = s.level AND i.territory_code = s.territory_code AND i.flow = 'I'
        LEFT JOIN partner_stats ep ON ep.level = s.level AND ep.territory_code = s.territory_code AND ep.flow = 'E'
        LEFT JOIN partner_stats ip ON ip.level = s.level AND ip.territory_code = s.territory_code AND ip.flow = 'I'
        LEFT JOIN product_stats eq ON eq.level = s.level AND eq.territory_code = s.territory_code AND eq.flow = 'E'
        LEFT JOIN product_stats iq ON iq.level = s.level AND iq.territory_code = s.territory_code AND iq.flow = 'I'"""


#: Territory totals with the shares of the région and of France and their denominators. Shares
#: are ratios of stored totals, taken when read (the fiche, the published store) so that a
#: territory's own marts depend only on its own rows. Reads the view `package_territories`.
TERRITORY_TOTALS_WITH_SHARES = f"""
        SELECT t.year, t.level, t.territory_code, n.name AS territory_name,
               t.exports_eur, t.imports_eur, (t.exports_eur - t.imports_eur)::BIGINT AS balance_eur,
               CASE WHEN t.level = 'departement' THEN t.exports_eur / nullif(r.exports_eur, 0) END AS exports_share_of_region,
               CASE WHEN t.level = 'departement' THEN t.imports_eur / nullif(r.imports_eur, 0) END AS imports_share_of_region,
               CASE WHEN t.level <> 'france' THEN t.exports_eur / nullif(f.exports_eur, 0) END AS exports_share_of_france,
               CASE WHEN t.level <> 'france' THEN t.imports_eur / nullif(f.imports_eur, 0) END AS imports_share_of_france,
               t.exports_excl_energy_eur, t.imports_excl_energy_eur,
               (t.exports_excl_energy_eur - t.imports_excl_energy_eur)::BIGINT AS balance_excl_energy_eur,
               t.exports_energy_eur, t.imports_energy_eur, t.exported_products, t.export_destinations,
               n.parent_region_code,
               CASE WHEN t.level = 'departement' THEN r.exports_eur END AS region_exports_eur,
               CASE WHEN t.level = 'departement' THEN r.imports_eur END AS region_imports_eur,
               CASE WHEN t.level <> 'france' THEN f.exports_eur END AS france_exports_eur,
               CASE WHEN t.level <> 'france' THEN f.imports_eur END AS france_imports_eur
        FROM {_TOTALS} t
        JOIN package_territories n ON n.level = t.level AND n.code = t.territory_code
        LEFT JOIN {_TOTALS} r
               ON r.year = t.year AND r.level = 'region' AND r.territory_code = n.parent_region_code
        LEFT JOIN {_TOTALS} f ON f.year = t.year AND f.level = 'france'
        ORDER BY t.year, t.level, t.territory_code"""


_INDICATORS = ", ".join(RANKED_INDICATORS)

def _united_states_sql(flow: str, with_us: str, everywhere: str, share_of_product: str, share_of_us: str) -> str:
    """A flow with the United States per A129 product, beside the product's flow with every partner."""
    return f"""
        WITH products AS (
            SELECT level, territory_code, a129_code AS product_code,
                   sum(value_eur) FILTER (country_code = 'US') AS with_us, sum(value_eur) AS everywhere
            FROM cells WHERE flow = '{flow}' GROUP BY ALL)
        SELECT $year AS year, p.level, p.territory_code, p.product_code,
               {_product_name("'a129'", 'p.product_code')} AS product_name,
               p.with_us::BIGINT AS {with_us}, p.everywhere::BIGINT AS {everywhere},
               p.with_us / nullif(p.everywhere, 0) AS {share_of_product},
               p.with_us / nullif(sum(p.with_us) OVER (PARTITION BY p.level, p.territory_code), 0) AS {share_of_us},
               row_number() OVER (PARTITION BY p.level, p.territory_code ORDER BY p.with_us DESC, p.product_code)::INTEGER
                   AS product_rank
        FROM products p WHERE p.with_us > 0"""


def united_states_exports_sql(settings: MartSettings) -> str:
    """Exports to the United States per A129 product, beside the product's exports to all."""
    return _united_states_sql("E", "exports_to_united_states_eur", "product_exports_eur", "share_of_product_exports",
                              "share_of_exports_to_united_states")


def united_states_imports_sql(settings: MartSettings) -> str:
    """Imports from the United States per A129 product, beside the product's imports from all."""
    return _united_states_sql("I", "imports_from_united_states_eur", "product_imports_eur", "share_of_product_imports",
                              "share_of_imports_from_united_states")


#: The territories never ranked among their level's: Monaco (lib/territories.py).
_UNRANKED = ", ".join(f"'{t.key}'" for t in territories() if not t.ranked and t.level != "france")

#: Each exposure indicator with France's value and the rank among the territories of the level
#: (Monaco has its values, no rank, and is not counted in `ranked_among`).
#: Like the shares, taken when read (fiche, published store): a territory's marts depend on its
#: own rows only. Ranks are computed over the whole year before any territory is picked.
EXPOSURE_COMPARISON = f"""
        WITH long AS (
            UNPIVOT (SELECT year, level, territory_code, {_INDICATORS} FROM {mart_table_name(EXPOSURE)})
            ON {_INDICATORS} INTO NAME indicator VALUE value)
        , ranked AS (SELECT *, level <> 'france' AND (level || '-' || territory_code) NOT IN ({_UNRANKED}) AS ranked
                     FROM long)
        SELECT l.year, l.level, l.territory_code, l.indicator, l.value, f.value AS france_value,
               CASE WHEN l.ranked THEN
                   rank() OVER (PARTITION BY l.year, l.level, l.indicator, l.ranked ORDER BY l.value DESC) END::INTEGER
                   AS rank,
               CASE WHEN l.ranked THEN
                   count(*) OVER (PARTITION BY l.year, l.level, l.indicator, l.ranked) END::INTEGER AS ranked_among
        FROM ranked l
        LEFT JOIN long f ON f.year = l.year AND f.level = 'france' AND f.indicator = l.indicator
        ORDER BY l.year, l.level, l.territory_code, l.indicator"""
