"""Every table the pipeline stores, declared once: name, columns, types, meaning.

From this registry come the warehouse DDL (`Table.ddl`), the column order of the DGDDI files
and of the pandera contract, the `dagster/column_schema` of every asset (the UI's « Columns »),
the queries that publish the store, and the data dictionary (docs/data-dictionary.md, kept in
step by a test: `python -m trade_pipeline.tables` prints it).

Warehouse tables are the pipeline's working state (`warehouse/warehouse.duckdb`); published
tables are the consumers' contract (`published/trade.duckdb`): their columns may be added to,
never renamed or retyped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    meaning: str
    nullable: bool = False
    #: The DGDDI field this column is read from (trade_flows only): `flux`, `trimestre`, …
    source_field: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, name: str | None = None) -> str:
        """CREATE TABLE IF NOT EXISTS for this table (under another name if given)."""
        parts = [f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns]
        if self.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {name or self.name} (\n    " + ",\n    ".join(parts) + "\n)"

    def renamed(self, name: str, meaning: str | None = None) -> Table:
        return replace(self, name=name, meaning=meaning or self.meaning)

    def nullable(self) -> Table:
        """The same columns, all nullable: what `CREATE TABLE … AS SELECT` publishes."""
        return replace(self, columns=tuple(replace(c, nullable=True) for c in self.columns), primary_key=())


# --------------------------------------------------------------------------------------------
# Columns shared by several tables
# --------------------------------------------------------------------------------------------

YEAR_COLUMN = Column("year", "INTEGER", "year")
LEVEL = Column("level", "VARCHAR", "`departement` | `region` | `france`")
TERRITORY_CODE = Column("territory_code", "VARCHAR", "DGDDI code of the territory (France: `FR`)")
TERRITORY_COLUMNS = (YEAR_COLUMN, LEVEL, TERRITORY_CODE)
FLOW = Column("flow", "VARCHAR", "`E` export, `I` import")
VALUE = Column("value_eur", "BIGINT", "euros")


def _eur(name: str, meaning: str, nullable: bool = False) -> Column:
    return Column(name, "BIGINT", meaning, nullable)


def _share(name: str, meaning: str) -> Column:
    return Column(name, "DOUBLE", meaning, nullable=True)


# --------------------------------------------------------------------------------------------
# Validated rows, labels, provenance
# --------------------------------------------------------------------------------------------

TRADE_FLOWS = Table("trade_flows", "one row per (year, quarter, flow, département, CPF4, country), as published by DGDDI", (
    Column("year", "INTEGER", "year", source_field="annee"),
    Column("quarter", "INTEGER", "1–4", source_field="trimestre"),
    Column("flow", "VARCHAR", "`E` export, `I` import", source_field="flux"),
    Column("department_code", "VARCHAR", "DGDDI code: `01`–`95`, `20` (all of Corsica), `9A`–`9E` (overseas), `99` (Monaco)",
           source_field="code_departement"),
    Column("region_code", "VARCHAR", "DGDDI internal région code (e.g. `12` Occitanie)", source_field="code_region"),
    Column("a129_code", "VARCHAR", "product, A129 (e.g. `C30C`)", source_field="code_A129"),
    Column("cpf4_code", "VARCHAR", "product, CPF rév. 2.1, 4 digits with leading zero (e.g. `0111`)",
           source_field="code_CPF4"),
    Column("country_code", "VARCHAR",
           "partner (EU geonomenclature); `NA` is Namibia; `EU`, `Q*`, `XC`, `XL` are not countries",
           source_field="code_pays"),
    Column("value_eur", "BIGINT", "euros; CIF (CAF) for imports, FOB (FAB) for exports", source_field="valeur"),
    Column("mass_kg", "BIGINT", "net mass, kg", source_field="masse"),
))

#: The fields of a DGDDI data file, in file order (headerless, `;`-separated): docs/source-format.md.
SOURCE_FIELDS = ("flux", "trimestre", "annee", "code_departement", "code_region", "code_A129", "code_CPF4",
                 "code_pays", "valeur", "masse")
#: The `trade_flows` column read from each field, in file order.
FILE_COLUMNS = tuple(next(c.name for c in TRADE_FLOWS.columns if c.source_field == f) for f in SOURCE_FIELDS)

#: A DGDDI data file as it is read (the raw files' columns).
DGDDI_FILE = Table("Region_YYYY_Export.txt", "headerless, `;`-separated, one line per row of trade_flows", tuple(
    Column(c.source_field, c.type, f"→ `{c.name}`: {c.meaning}")
    for c in (TRADE_FLOWS.column(name) for name in FILE_COLUMNS)))

LABELS = Table("labels", "the label files of each year's vintage", (
    YEAR_COLUMN,
    Column("nomenclature", "VARCHAR", "`pays` | `cpf4` | `a129`"),
    Column("code", "VARCHAR", "code in that nomenclature"),
    Column("label", "VARCHAR", "official French label"),
    Column("valid_from", "INTEGER", "first month of validity, YYYYMM"),
    Column("valid_to", "INTEGER", "last month of validity, YYYYMM"),
    Column("source", "VARCHAR", "the zip member or packaged file it comes from"),
))

INGESTIONS = Table("ingestions", "provenance per year: the raw files its rows come from", (
    YEAR_COLUMN,
    Column("raw_version", "VARCHAR", "sha256 over the sha256 of the year's raw files"),
    Column("source", "VARCHAR", "`sample`, `dgddi:<listing URL>`, a path or a URL"),
    Column("synthetic", "BOOLEAN", "true for the embedded synthetic sample"),
    Column("files", "JSON", "one object per file: name, sha256, bytes, origin URL or path, ETag, Last-Modified"),
    Column("rows", "BIGINT", "rows of the year"),
    Column("loaded_at", "TIMESTAMP", "first load of this raw version (UTC)"),
), primary_key=("year",))

TERRITORIES = Table("territories", "France, the 14 DGDDI régions and the 101 DGDDI départements (Monaco's `99` "
                    "among them)", (
    LEVEL,
    Column("code", "VARCHAR", "DGDDI code (France: `FR`)"),
    Column("name", "VARCHAR", "name"),
    Column("insee_code", "VARCHAR", "INSEE code; several, comma-separated, for `20` Corsica (`2A,2B`) and the DOM "
                                    "aggregate `24` (the five DROM régions): one row each in `territory_insee_codes`; "
                                    "NULL for `99` Monaco and France", nullable=True),
    Column("parent_region_code", "VARCHAR", "DGDDI région of a département", nullable=True),
    Column("insee_region_code", "VARCHAR", "INSEE code of the région", nullable=True),
    Column("name_with_article", "VARCHAR", "the name in a sentence: « l'Hérault »"),
    Column("kind", "VARCHAR", "`overseas` (a DROM), `aggregate` (DGDDI's DOM région `24`), `principality` (`99` "
                              "Monaco), else NULL", nullable=True),
    Column("ranked", "BOOLEAN", "counted and ranked among the territories of its level (false for Monaco and France)"),
    Column("region_name", "VARCHAR", "the région a reader names: a DROM's own (« Guadeloupe »), else the DGDDI "
                                     "région's; NULL for régions, France and Monaco", nullable=True),
))

TERRITORY_INSEE_CODES = Table("territory_insee_codes", "the INSEE code(s) of each DGDDI territory, one per row, to "
                              "join with INSEE data", (
    LEVEL,
    Column("code", "VARCHAR", "DGDDI code"),
    Column("insee_code", "VARCHAR", "INSEE code: département (`34`, `2A`, `971`) or région (`76`, `01`)"),
))

#: A Territoire d'industrie's key: ids are reused from one phase of the programme to the next.
TERRITOIRE_INDUSTRIE_KEY = (
    Column("phase", "VARCHAR", "programme phase (`2023-2027`); ids are reused across phases: key on (phase, id)"),
    Column("id_territoire", "VARCHAR", "ANCT id, `ti-RRNN` (RR = INSEE région)"),
)

TERRITOIRES_INDUSTRIE = Table("territoires_industrie", "the Territoires d'industrie (ANCT, Licence Ouverte 2.0, "
                              "2024-09-16) and the DGDDI départements each lies in, with the share of its area", (
    *TERRITOIRE_INDUSTRIE_KEY,
    Column("territoire", "VARCHAR", "name of the Territoire d'industrie"),
    Column("departement", "VARCHAR", "DGDDI département code"),
    Column("insee_departement", "VARCHAR", "INSEE code(s) of the département(s) concerned, comma-separated"),
    Column("part_surface", "DOUBLE", "share of the territory's area in that département (slivers under 1 % "
                                     "dropped, shares rescaled to sum to 1)"),
))

TERRITOIRES_INDUSTRIE_GROUPEMENTS = Table("territoires_industrie_groupements", "the member groupements (EPCI) of each "
                                          "Territoire d'industrie, with their SIREN (ANCT)", (
    *TERRITOIRE_INDUSTRIE_KEY,
    Column("groupement", "VARCHAR", "name of the groupement"),
    Column("siren", "VARCHAR", "its SIREN"),
))

METADATA = Table("metadata", "facts about the publication, one `key` → `value` per row", (
    Column("key", "VARCHAR", "`content_checksum`, `published_at`, `years`, `synthetic`, `notice`, `attribution`"),
    Column("value", "VARCHAR", "its value (`notice` is « données fictives de démonstration » when any year comes "
                               "from the sample)"),
))

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
WAREHOUSE = {t.name: t for t in (TRADE_FLOWS, LABELS, INGESTIONS, YEAR_CELLS, TERRITORY_VERSIONS, MART_INPUTS)} | {
    mart_table_name(m): m.renamed(mart_table_name(m)) for m in MART_TABLES}

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
    UNITED_STATES_EXPORTS, UNITED_STATES_IMPORTS)}
