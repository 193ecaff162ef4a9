"""Quarters, and which file each quarter of the store comes from.

Quarters of a year that an annual file covers are **definitive** and come from it; the others
are **provisional** and come from the newest latest publication (« dernière publication », one a
month) that holds them. Every file that held a quarter stays listed, so that a revision can be
read (docs/latest-quarters.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath

#: `202512-…`: the publication month that starts the name of DGDDI's zips (and of our text files).
_PUBLICATION_MONTH = re.compile(r"^(?P<month>20\d\d(?:0[1-9]|1[0-2]))-")


def publication_month(name: str) -> str | None:
    """`202502` for `202502-Regional-2024-export.zip`: the later month is the newer vintage."""
    match = _PUBLICATION_MONTH.match(PurePath(name).name)
    return match["month"] if match else None


#: How a quarter's rows came: from the year's annual file, or from a monthly latest publication.
ANNUAL, LATEST = "annual", "latest"
DEFINITIVE, PROVISIONAL = "definitive", "provisional"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4:
            raise ValueError(f"quarter {self.quarter} of {self.year}: a quarter is 1 to 4")

    @property
    def index(self) -> int:
        return self.year * 4 + self.quarter - 1

    @classmethod
    def of_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    def plus(self, quarters: int) -> Quarter:
        return Quarter.of_index(self.index + quarters)

    def __str__(self) -> str:
        return f"{self.year}-T{self.quarter}"


# --------------------------------------------------------------------------------------------
# Which file each quarter comes from
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterSource:
    """One file that holds one quarter; `in_use` for the one the store's rows come from."""

    year: int
    quarter: int
    origin: str  # ANNUAL | LATEST
    vintage: str  # the publication month, YYYYMM ('' when unknown: a renamed annual file)
    source: str
    status: str  # DEFINITIVE (an annual file) | PROVISIONAL (a latest publication)
    in_use: bool


@dataclass(frozen=True)
class Holding:
    """What a file holds: its vintage, where it came from, and its quarters."""

    vintage: str
    source: str
    quarters: frozenset[Quarter]


def choose_quarter_sources(annual: Mapping[int, Holding], latest: Iterable[Holding]) -> list[QuarterSource]:
    """Every (quarter, file) pair, with the file each quarter is taken from marked `in_use`:
    the annual file of its year when there is one, else the newest latest publication holding it.

    Two latest publications of the same month are ambiguous (which revision is the newer?):
    refused, naming both."""
    latest = sorted(latest, key=lambda h: h.vintage)
    for older, newer in zip(latest, latest[1:], strict=False):
        if older.vintage == newer.vintage:
            raise ValueError(f"two latest publications of the same month {newer.vintage}: {older.source} and "
                             f"{newer.source}; refused rather than choosing one — keep the one to load")
    quarters = {q for h in annual.values() for q in h.quarters} | {q for h in latest for q in h.quarters}
    rows: list[QuarterSource] = []
    for q in sorted(quarters):
        yearly = annual.get(q.year)
        if yearly is not None and q in yearly.quarters:
            rows.append(QuarterSource(q.year, q.quarter, ANNUAL, yearly.vintage, yearly.source, DEFINITIVE, True))
        holders = [h for h in latest if q in h.quarters]
        newest = holders[-1] if holders and yearly is None else None
        rows += [QuarterSource(q.year, q.quarter, LATEST, h.vintage, h.source, PROVISIONAL, h is newest)
                 for h in holders]
    return rows


def quarters_in_use(sources: Iterable[QuarterSource]) -> dict[Quarter, QuarterSource]:
    return {Quarter(s.year, s.quarter): s for s in sources if s.in_use}


def quarter_range(first: Quarter, last: Quarter) -> frozenset[Quarter]:
    return frozenset(Quarter.of_index(i) for i in range(first.index, last.index + 1))


def stored_sources(connection: object) -> list[QuarterSource]:
    """`choose_quarter_sources` for what the warehouse holds: the annual years (`ingestions`: all
    four quarters, the vintage its zips' month) and the latest publications (`latest_publications`)."""
    annual = {}
    for year, source, files in connection.execute("SELECT year, source, files FROM ingestions").fetchall():
        names = [item["name"] for item in json.loads(files)]
        vintage = max((publication_month(name) or "" for name in names), default="")
        annual[year] = Holding(vintage, f"{source}: {', '.join(sorted(names))}",
                               frozenset(Quarter(year, q) for q in range(1, 5)))
    latest = [Holding(vintage, f"{source}: {', '.join(sorted(item['name'] for item in json.loads(files)))}",
                      quarter_range(Quarter(fy, fq), Quarter(ly, lq)))
              for vintage, source, files, fy, fq, ly, lq in connection.execute(
                  "SELECT vintage, source, files, first_year, first_quarter, last_year, last_quarter "
                  "FROM latest_publications").fetchall()]
    return choose_quarter_sources(annual, latest)
