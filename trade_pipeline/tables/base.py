"""The registry's building blocks (Column, Table), the columns shared by several tables, and the
validated rows with their labels and provenance — what every other table is made from."""

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
