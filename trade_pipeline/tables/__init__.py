"""Every table the pipeline stores, declared once: name, columns, types, meaning.

From this registry come the warehouse DDL (`Table.ddl`), the column order of the DGDDI files
and of the pandera contract, the `dagster/column_schema` of every asset (the UI's « Columns »),
the queries that publish the store, and the data dictionary (docs/data-dictionary.md, kept in
step by a test: `python -m trade_pipeline.publication.dictionary` prints it). The building blocks
and the validated rows are in base.py, the latest quarters' tables in quarterly.py; every table is
read from here.

Warehouse tables are the pipeline's working state (`warehouse/warehouse.duckdb`); published
tables are the consumers' contract (`published/trade.duckdb`): their columns may be added to,
never renamed or retyped.
"""

from __future__ import annotations

from trade_pipeline.tables.base import (
    DGDDI_FILE,
    FILE_COLUMNS,
    FLOW,
    INGESTIONS,
    LABELS,
    LEVEL,
    METADATA,
    SOURCE_FIELDS,
    TERRITOIRE_INDUSTRIE_KEY,
    TERRITOIRES_INDUSTRIE,
    TERRITOIRES_INDUSTRIE_GROUPEMENTS,
    TERRITORIES,
    TERRITORY_CODE,
    TERRITORY_COLUMNS,
    TERRITORY_INSEE_CODES,
    TRADE_FLOWS,
    VALUE,
    YEAR_COLUMN,
    Column,
    Table,
    _eur,
    _share,
)
from trade_pipeline.tables.quarterly import (
    LATEST_PUBLICATIONS,
    PROVISIONAL_FLOWS,
    QUARTERLY_CHANGES,
    QUARTERLY_SERIES,
    QUARTERLY_SUMMARY,
    QUARTERLY_TABLES,
    QUARTERS,
    VINTAGE,
)

#: Defined in base.py and quarterly.py, read from here like every other table.
__all__ = [
    "Column", "DGDDI_FILE", "FILE_COLUMNS", "FLOW", "INGESTIONS", "LABELS", "LEVEL", "METADATA",
    "SOURCE_FIELDS", "TERRITOIRES_INDUSTRIE", "TERRITOIRES_INDUSTRIE_GROUPEMENTS", "TERRITOIRE_INDUSTRIE_KEY",
    "TERRITORIES", "TERRITORY_CODE", "TERRITORY_COLUMNS", "TERRITORY_INSEE_CODES", "TRADE_FLOWS", "Table",
    "VALUE", "YEAR_COLUMN", "LATEST_PUBLICATIONS", "PROVISIONAL_FLOWS", "QUARTERLY_CHANGES",
    "QUARTERLY_SERIES", "QUARTERLY_SUMMARY", "QUARTERLY_TABLES", "QUARTERS", "VINTAGE",
]

# --------------------------------------------------------------------------------------------
# Working tables of the aggregation
# --------------------------------------------------------------------------------------------

YEAR_CELLS = Table("year_cells", "the year's rows summed over quarters: every mart starts from them", (
    YEAR_COLUMN,
    *(TRADE_FLOWS.column(name) for name in ("department_code", "region_code", "flow", "a129_code", "cpf4_code",
                                             "country_code", "value_eur", "mass_kg")),
))

TERRITORY_VERSIONS = Table("territory_versions", "content hash of each territory's rows: its data version", (
    *TERRITORY_COLUMNS,
    Column("version", "VARCHAR", "sha256 of the territory's rows and the year's labels"),
    Column("rows", "BIGINT", "rows of the territory"),
    _eur("exports_eur", "exports"),
    _eur("imports_eur", "imports"),
))

MART_INPUTS = Table("mart_inputs", "what each territory's marts were last computed from (recomputed only when "
                                   "it changes)", (
    *TERRITORY_COLUMNS,
    Column("inputs", "VARCHAR", "sha256 of the territory's slice versions of the year and of the year before, "
                                "the mart settings and the marts' code version"),
    Column("version", "VARCHAR", "the data version of the territory's marts computed from them"),
))

# --------------------------------------------------------------------------------------------
# The marts (warehouse: mart_<name>; published: <name>)
# --------------------------------------------------------------------------------------------

MART_TERRITORY_TOTALS = Table("territory_totals", "exports, imports and their « hors énergie » parts per territory", (
    *TERRITORY_COLUMNS,
    _eur("exports_eur", "exports"), _eur("imports_eur", "imports"),
    _eur("exports_excl_energy_eur", "exports « hors énergie »"), _eur("imports_excl_energy_eur", "imports « hors énergie »"),
    _eur("exports_energy_eur", "energy part of exports"), _eur("imports_energy_eur", "energy part of imports"),
    Column("exported_products", "INTEGER", "distinct CPF4 products exported"),
    Column("export_destinations", "INTEGER", "distinct destinations of exports"),
))

PARTNER_BALANCE = Table("partner_balance", "exports, imports and balance per partner", (
    *TERRITORY_COLUMNS,
    Column("country_code", "VARCHAR", "partner code"),
    Column("country_name", "VARCHAR", "partner name (labels of the year)"),
    Column("is_country", "BOOLEAN", "false for `EU`, `Q*` (not `QA`, Qatar), `XC`, `XL` and the old regional codes: "
                                    "« principaux pays » leave them out"),
    _eur("exports_eur", "exports"), _eur("imports_eur", "imports"), _eur("balance_eur", "exports − imports"),
))

PRODUCT_BREAKDOWN = Table("product_breakdown", "value per flow and product, at A129 and CPF4 levels", (
    *TERRITORY_COLUMNS, FLOW,
    Column("product_level", "VARCHAR", "`a129` | `cpf4`"),
    Column("product_code", "VARCHAR", "product code"),
    Column("product_name", "VARCHAR", "product name (labels of the year)"),
    VALUE,
    _share("share_of_flow", "share of the territory's flow (0–1)"),
))

FLOW_LINKS = Table("flow_links", "the Sankey data: the 10 largest products × the 10 largest partner countries per flow, "
                                 "plus `AUTRES` on either side (« autres » = total − listed, so a territory's links of a "
                                 "flow sum exactly to its total)", (
    *TERRITORY_COLUMNS, FLOW,
    Column("product_level", "VARCHAR", "`a129` (or `cpf4` with TRADE_PIPELINE_FLOW_LINKS_LEVEL=cpf4)"),
    Column("product_code", "VARCHAR", "product code, or `AUTRES`"),
    Column("product_name", "VARCHAR", "product name, or « Autres produits »"),
    Column("country_code", "VARCHAR", "partner country code, or `AUTRES` (non-countries included)"),
    Column("country_name", "VARCHAR", "country name, or « Autres pays »"),
    VALUE,
    Column("is_top5", "BOOLEAN", "one of the 5 largest links between a listed product and a listed country "
                                 "(ties: lower codes first)"),
    Column("product_rank", "INTEGER", "rank of the product (1–10; NULL for « autres »)", nullable=True),
    Column("country_rank", "INTEGER", "rank of the country (1–10; NULL for « autres »)", nullable=True),
    Column("link_rank", "INTEGER", "rank of the link among listed × listed (NULL otherwise)", nullable=True),
))

GROWTH_CONTRIBUTIONS = Table("growth_contributions", "year-on-year change and contributions, when the previous year "
                                                     "is in the store; products are A129", (
    *TERRITORY_COLUMNS, FLOW,
    Column("dimension", "VARCHAR", "`total` | `country` | `product`"),
    Column("code", "VARCHAR", "country or product code (`TOTAL` for the total)"),
    Column("name", "VARCHAR", "its name"),
    VALUE,
    _eur("previous_value_eur", "the previous year's value"),
    _eur("change_eur", "value − previous value"),
    _share("change_pct", "change in % of the previous value (NULL when it was 0)"),
    _share("contribution_pct_points", "change ÷ the previous total × 100: the contributions of a dimension add up "
                                      "to the total's `change_pct`"),
))

EXPOSURE = Table("exposure", "exposure and concentration indicators, one row per territory and year", (
    *TERRITORY_COLUMNS,
    _eur("exports_eur", "exports"), _eur("imports_eur", "imports"),
    _share("exports_share_united_states", "share of exports to the United States"),
    _share("exports_share_eu", "share of exports to the EU (EU27 and the code `EU`)"),
    _share("exports_share_china", "share of exports to China"),
    _share("imports_share_united_states", "share of imports from the United States"),
    _share("imports_share_eu", "share of imports from the EU"),
    _share("imports_share_china", "share of imports from China"),
    Column("exports_first_partner_code", "VARCHAR", "first client", nullable=True),
    _share("exports_first_partner_share", "its share of exports"),
    Column("exports_first_product_code", "VARCHAR", "first product exported (A129)", nullable=True),
    _share("exports_first_product_share", "its share of exports"),
    Column("imports_first_partner_code", "VARCHAR", "first supplier", nullable=True),
    _share("imports_first_partner_share", "its share of imports"),
    Column("imports_first_product_code", "VARCHAR", "first product imported (A129)", nullable=True),
    _share("imports_first_product_share", "its share of imports"),
    _share("exports_partner_hhi", "Herfindahl index of the clients (0–1)"),
    _share("imports_partner_hhi", "Herfindahl index of the suppliers"),
    _share("exports_product_hhi", "Herfindahl index of the products exported"),
    _share("imports_product_hhi", "Herfindahl index of the products imported"),
    _share("energy_share_of_imports", "share of energy in imports"),
))

UNITED_STATES_EXPORTS = Table("united_states_exports", "exports to the United States per A129 product, with the "
                                                       "product's exports to every destination", (
    *TERRITORY_COLUMNS,
    Column("product_code", "VARCHAR", "A129 code"), Column("product_name", "VARCHAR", "label of the year"),
    _eur("exports_to_united_states_eur", "exports of the product to the United States"),
    _eur("product_exports_eur", "exports of the product to every destination"),
    _share("share_of_product_exports", "the United States' share of the product's exports"),
    _share("share_of_exports_to_united_states", "the product's share of the exports to the United States"),
    Column("product_rank", "INTEGER", "1 = the product most exported to the United States"),
))

UNITED_STATES_IMPORTS = Table("united_states_imports", "imports from the United States per A129 product, with the "
                                                       "product's imports from every origin", (
    *TERRITORY_COLUMNS,
    Column("product_code", "VARCHAR", "A129 code"), Column("product_name", "VARCHAR", "label of the year"),
    _eur("imports_from_united_states_eur", "imports of the product from the United States"),
    _eur("product_imports_eur", "imports of the product from every origin"),
    _share("share_of_product_imports", "the United States' share of the product's imports"),
    _share("share_of_imports_from_united_states", "the product's share of the imports from the United States"),
    Column("product_rank", "INTEGER", "1 = the product most imported from the United States"),
))

#: The indicators of `exposure` compared with France and ranked (its shares and indices).
RANKED_INDICATORS = tuple(c.name for c in EXPOSURE.columns if c.type == "DOUBLE")

#: The marts, in the order the fiche uses them.
MART_TABLES = (MART_TERRITORY_TOTALS, PARTNER_BALANCE, PRODUCT_BREAKDOWN, FLOW_LINKS, GROWTH_CONTRIBUTIONS, EXPOSURE,
         UNITED_STATES_EXPORTS, UNITED_STATES_IMPORTS)


def mart_table_name(mart: Table) -> str:
    """Marts live in the warehouse as `mart_<name>` and are published as `<name>`."""
    return f"mart_{mart.name}"


#: The warehouse: name → table.
WAREHOUSE = {t.name: t for t in (TRADE_FLOWS, LABELS, INGESTIONS, YEAR_CELLS, TERRITORY_VERSIONS, MART_INPUTS,
                                  PROVISIONAL_FLOWS, LATEST_PUBLICATIONS)} | {
    mart_table_name(m): m.renamed(mart_table_name(m)) for m in (*MART_TABLES, *QUARTERLY_TABLES)}

# --------------------------------------------------------------------------------------------
# The published store
# --------------------------------------------------------------------------------------------

def _of(table: Table, *names: str) -> tuple[Column, ...]:
    return tuple(table.column(name) for name in names)


PUBLISHED_TERRITORY_TOTALS = Table("territory_totals", "one row per territory and year, with the shares of its région "
                                                       "and of France (ratios of these totals, taken at publication)", (
    *TERRITORY_COLUMNS,
    Column("territory_name", "VARCHAR", "name"),
    *_of(MART_TERRITORY_TOTALS, "exports_eur", "imports_eur"), _eur("balance_eur", "exports − imports"),
    _share("exports_share_of_region", "département ÷ its région (NULL for régions and France)"),
    _share("imports_share_of_region", "the same for imports"),
    _share("exports_share_of_france", "territory ÷ France (NULL for France)"),
    _share("imports_share_of_france", "the same for imports"),
    *_of(MART_TERRITORY_TOTALS, "exports_excl_energy_eur", "imports_excl_energy_eur"),
    _eur("balance_excl_energy_eur", "balance « hors énergie »"),
    *_of(MART_TERRITORY_TOTALS, "exports_energy_eur", "imports_energy_eur", "exported_products", "export_destinations"),
    TERRITORIES.column("parent_region_code"),
    _eur("region_exports_eur", "denominator of the région shares", nullable=True),
    _eur("region_imports_eur", "denominator of the région shares", nullable=True),
    _eur("france_exports_eur", "denominator of the France shares", nullable=True),
    _eur("france_imports_eur", "denominator of the France shares", nullable=True),
))

EXPOSURE_COMPARISON = Table("exposure_comparison", "each indicator of `exposure` with France's value and the "
                                                   "territory's rank among the territories of its level (taken at "
                                                   "publication, like the shares)", (
    *TERRITORY_COLUMNS,
    Column("indicator", "VARCHAR", "the `exposure` column: " + ", ".join(f"`{name}`" for name in RANKED_INDICATORS)),
    _share("value", "the territory's value"),
    _share("france_value", "France's value of the same year"),
    Column("rank", "INTEGER", "1 = the highest value among the départements (or the régions) of the year; ties share "
                              "a rank; NULL for France and Monaco", nullable=True),
    Column("ranked_among", "INTEGER", "how many départements (or régions) have a value that year; Monaco (`99`) "
                                      "is neither ranked nor counted", nullable=True),
))

#: The published store: name → table (in the data dictionary's order).
PUBLISHED = {t.name: t.nullable() for t in (
    TRADE_FLOWS, TERRITORIES, TERRITORY_INSEE_CODES, TERRITOIRES_INDUSTRIE, TERRITOIRES_INDUSTRIE_GROUPEMENTS,
    LABELS, INGESTIONS.renamed("sources"), METADATA, PUBLISHED_TERRITORY_TOTALS,
    PARTNER_BALANCE, PRODUCT_BREAKDOWN, FLOW_LINKS, GROWTH_CONTRIBUTIONS, EXPOSURE, EXPOSURE_COMPARISON,
    UNITED_STATES_EXPORTS, UNITED_STATES_IMPORTS, *QUARTERLY_TABLES, PROVISIONAL_FLOWS,
    LATEST_PUBLICATIONS.renamed("latest_sources", "provenance per vintage of the latest publication"))}
