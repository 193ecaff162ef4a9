"""The table behind a chart, typed: its columns as the chart declares them (name, French label,
kind) and their values. Everything a person reads of it is rendered from these values, by kind:
the CSV beside the chart (`;`, decimal comma: lib/spreadsheets.py), the data table under the
chart in the fiche, and the year's CSV and XLSX. The fiches read it typed — kept in the chart's
folder as `.tables.json` (charts/files.py) — never parsed back from French text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from trade_pipeline.lib import french


class Kind(Enum):
    """What a column holds, and so how each rendering shows it."""

    TEXT = "text"  # a code, a name: shown as written
    EUR = "eur"  # euros: « 2,7 Md€ » on the page, the amount in spreadsheets
    SHARE = "share"  # a fraction: « 5,4 % » on the page
    POINTS = "points"  # percentage points: « +2,3 pts »
    YEAR = "year"  # a year: written as is; a number in spreadsheets
    RANK = "rank"  # 1, 2, … or nothing
    FLAG = "flag"  # true/false: « oui » (and « non » in files)


#: The kinds that are amounts: right-aligned on the page, numbers in the year's spreadsheets.
MEASURES = (Kind.EUR, Kind.SHARE, Kind.POINTS)


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header: code_pays, exportations_eur, …
    label: str  # the header of the fiche's table: « Exportations »
    kind: Kind = Kind.TEXT


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _plain(value: object) -> object:
    """A cell as a plain Python value (numpy scalars unwrapped; missing → None)."""
    if _missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class ChartTable:
    """A chart's columns and its rows (a DataFrame with exactly those columns, in that order)."""

    columns: tuple[Column, ...]
    frame: pd.DataFrame

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if list(self.frame.columns) != names:
            raise ValueError(f"the table's columns {list(self.frame.columns)} are not the declared {names}")

    @classmethod
    def of(cls, columns: Iterable[Column], values: Mapping[str, object] | pd.DataFrame) -> ChartTable:
        """The declared columns, their values given by name (a DataFrame or a dict of columns)."""
        columns = tuple(columns)
        names = [c.name for c in columns]
        frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(dict(values))
        if not len(frame.columns):
            return cls(columns, pd.DataFrame(columns=names))
        # Most charts build the frame in the declared order: selecting its columns again would
        # copy it (a millisecond a chart, of a year's ≈ 1 300).
        return cls(columns, frame if list(frame.columns) == names else frame[names])

    def rows(self) -> list[list[object]]:
        """The values, row by row, as plain Python values."""
        # Column by column (`tolist` gives Python scalars): a pandas row iterator costs more than
        # these small tables' cells.
        columns = [self.frame[column].tolist() for column in self.frame.columns]
        return [[_plain(value) for value in row] for row in zip(*columns, strict=True)] if columns else []

    # -- typed, for the fiches and the year's files --------------------------------------------

    def to_json(self) -> dict:
        """The table as plain data: its declared columns and its values (JSON keeps ints, floats,
        booleans and nulls apart, and floats exactly)."""
        return {"columns": [{"name": c.name, "label": c.label, "kind": c.kind.value} for c in self.columns],
                "rows": self.rows()}

    @classmethod
    def from_json(cls, data: Mapping) -> ChartTable:
        columns = tuple(Column(c["name"], c["label"], Kind(c["kind"])) for c in data["columns"])
        return cls(columns, pd.DataFrame(data["rows"], columns=[c.name for c in columns], dtype=object))

    # -- for people --------------------------------------------------------------------------

    def page(self) -> dict:
        """The table shown under the chart: French labels, each cell formatted for its kind."""
        return {"columns": [{"label": c.label, "number": c.kind in MEASURES} for c in self.columns],
                "rows": [[page_cell(column.kind, value) for column, value in zip(self.columns, row, strict=True)]
                         for row in self.rows()]}

    def spreadsheet_rows(self) -> list[list[object]]:
        """The rows as the year's CSV and XLSX hold them: amounts and years as numbers, the other
        kinds as the chart's CSV writes them (« oui »/« non », a rank or nothing)."""
        return [[spreadsheet_cell(column.kind, value) for column, value in zip(self.columns, row, strict=True)]
                for row in self.rows()]


def page_cell(kind: Kind, value: object) -> str:
    """One cell of the fiche's table, by the one French formatter."""
    if _missing(value):
        return ""
    if kind is Kind.EUR:
        return french.eur(float(value))
    if kind is Kind.SHARE:
        return french.pct(float(value))
    if kind is Kind.POINTS:
        return french.points(float(value))
    if kind is Kind.FLAG:
        return "oui" if value else ""
    return str(value)


def spreadsheet_cell(kind: Kind, value: object) -> object:
    if kind in (*MEASURES, Kind.YEAR):
        return None if _missing(value) else value
    if _missing(value):
        return ""
    if kind is Kind.FLAG:
        return "oui" if value else "non"
    return str(value)
