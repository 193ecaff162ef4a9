"""The registry's tables of the latest quarters (« dernière publication »: aggregation/quarters.py)."""

from __future__ import annotations

from trade_pipeline.tables.base import (
                                               FLOW,
                                               INGESTIONS,
                                               LEVEL,
                                               TERRITORY_CODE,
                                               TRADE_FLOWS,
                                               YEAR_COLUMN,
                                               Column,
                                               Table,
                                               _eur,
                                               _share,
)

# --------------------------------------------------------------------------------------------
# The latest quarters (« dernière publication »): aggregation/quarters.py
# --------------------------------------------------------------------------------------------

VINTAGE = Column("vintage", "VARCHAR", "publication month of the file, YYYYMM (e.g. `202512`)")

PROVISIONAL_FLOWS = Table("provisional_flows", "the rows of DGDDI's latest publications (the five last quarters, "
                                               "one publication a month), one set per vintage", (
    VINTAGE, *TRADE_FLOWS.columns))

LATEST_PUBLICATIONS = Table("latest_publications", "provenance per vintage of the latest publication: the raw files "
                                                   "its rows come from", (
    VINTAGE,
    *(c for c in INGESTIONS.columns if c.name not in ("year",)),
    Column("first_year", "INTEGER", "first quarter held: its year"),
    Column("first_quarter", "INTEGER", "first quarter held: 1–4"),
    Column("last_year", "INTEGER", "last quarter held: its year"),
    Column("last_quarter", "INTEGER", "last quarter held: 1–4"),
), primary_key=("vintage",))

QUARTERS = Table("quarters", "every quarter in the store and every file that held it: the annual file of its year "
                             "(definitive) or a latest publication (provisional); `in_use` marks the one its "
                             "figures come from", (
    YEAR_COLUMN,
    Column("quarter", "INTEGER", "1–4"),
    Column("origin", "VARCHAR", "`annual` (the year's annual file) | `latest` (a monthly latest publication)"),
    VINTAGE,
    Column("source", "VARCHAR", "the file or files it was read from"),
    Column("status", "VARCHAR", "`definitive` (annual file) | `provisional` (latest publication)"),
    Column("in_use", "BOOLEAN", "true for the file the quarter's figures come from: the annual file when there is "
                                "one, else the newest latest publication holding the quarter"),
    _eur("exports_eur", "France's exports in that quarter, as that file gives them"),
    _eur("imports_eur", "France's imports in that quarter, as that file gives them"),
), primary_key=("year", "quarter", "origin", "vintage"))

_PERIOD = (
    Column("measure", "VARCHAR", "`r4q`: the four quarters up to the latest against the four before; `ytd`: the "
                                 "quarters of the latest quarter's year against the same quarters a year earlier; "
                                 "`quarter`: the latest quarter against the same quarter a year earlier"),
)

QUARTERLY_SUMMARY = Table("quarterly_summary", "exports, imports and balance over the latest quarters, per "
                                               "territory, against the same quarters a year earlier", (
    LEVEL, TERRITORY_CODE, *_PERIOD,
    Column("first_year", "INTEGER", "first quarter of the period: its year"),
    Column("first_quarter", "INTEGER", "first quarter of the period: 1–4"),
    Column("last_year", "INTEGER", "last quarter of the period: its year"),
    Column("last_quarter", "INTEGER", "last quarter of the period: 1–4"),
    Column("quarters", "INTEGER", "quarters in the period"),
    _eur("exports_eur", "exports over the period"),
    _eur("previous_exports_eur", "exports over the same quarters a year earlier (NULL when the store lacks one of "
                                 "them: never compared with zero)", nullable=True),
    _eur("imports_eur", "imports over the period"),
    _eur("previous_imports_eur", "the same for imports", nullable=True),
    _eur("balance_eur", "exports − imports"),
    _eur("previous_balance_eur", "the same a year earlier", nullable=True),
    _share("exports_change_pct", "change of exports, % (NULL without a previous value or when it is zero)"),
    _share("imports_change_pct", "change of imports, %"),
    Column("previous_complete", "BOOLEAN", "the store holds every quarter of the previous period"),
    Column("previous_quarters_missing", "INTEGER", "how many quarters of the previous period the store lacks"),
    Column("provisional", "BOOLEAN", "a quarter of the period comes from a latest publication"),
    Column("previous_provisional", "BOOLEAN", "a quarter of the previous period comes from a latest publication"),
    Column("vintage", "VARCHAR", "the newest vintage among the period's provisional quarters", nullable=True),
))

QUARTERLY_CHANGES = Table("quarterly_changes", "the change of each partner and activity over the same periods as "
                                               "`quarterly_summary`, with its contribution to the territory's change", (
    LEVEL, TERRITORY_CODE, *_PERIOD, FLOW,
    Column("dimension", "VARCHAR", "`partner`: the United States, the EU27 as a whole (`UE27`), China and the "
                                   "territory's five first countries; `activity`: every A129 product traded"),
    Column("member", "VARCHAR", "country code (or `UE27`), or A129 code"),
    _eur("current_eur", "value over the period"),
    _eur("previous_eur", "value over the same quarters a year earlier (NULL when not comparable)", nullable=True),
    _eur("change_eur", "current − previous", nullable=True),
    _share("change_pct", "change, %"),
    _share("contribution_points", "change ÷ the territory's previous value of the flow, in points: the members' "
                                  "contributions add up to the territory's change"),
    Column("rank", "INTEGER", "1 = the largest value of the period among the territory's members of the dimension"),
))

QUARTERLY_SERIES = Table("quarterly_united_states", "exports to and imports from the United States, every quarter "
                                                    "in the store, per territory", (
    LEVEL, TERRITORY_CODE, YEAR_COLUMN, Column("quarter", "INTEGER", "1–4"),
    _eur("exports_eur", "exports to the United States"),
    _eur("imports_eur", "imports from the United States"),
    Column("status", "VARCHAR", "`definitive` | `provisional`"),
    VINTAGE,
))

#: The latest-quarter marts, computed together for every territory.
QUARTERLY_TABLES = (QUARTERS, QUARTERLY_SUMMARY, QUARTERLY_CHANGES, QUARTERLY_SERIES)
