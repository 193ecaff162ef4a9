"""The year's data files, `fiches/<year>/donnees-<year>.csv` and `.xlsx`: every chart's table of
every fiche of the year in one file each, made from the charts' typed tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from trade_pipeline.charts.files import MANIFEST, TABLES, read_tables, territory_dir
from trade_pipeline.charts.table import MEASURES, Column, Kind
from trade_pipeline.lib.atomic import write_if_changed
from trade_pipeline.lib.spreadsheets import csv_bytes, xlsx_bytes
from trade_pipeline.lib.territories import territory, territory_keys


def year_tables(fiches_dir: Path, year: int) -> dict[str, pd.DataFrame]:
    """Every chart's table of the year, one frame per chart with every territory: code_territoire,
    territoire, then the chart's columns — amounts and years as numbers, the other columns as the
    chart's CSV writes them. From the charts' typed tables (a folder without them is left out
    until its charts are drawn again)."""
    cells: dict[tuple[str, tuple[Column, ...]], list[list[object]]] = {}  # (chart, columns) → rows
    for key in territory_keys():
        folder = territory_dir(fiches_dir, year, key)
        if not ((folder / MANIFEST).exists() and (folder / TABLES).exists()):
            continue
        name_of_territory = territory(key).name
        for name, table in read_tables(folder).items():
            cells.setdefault((name, table.columns), []).extend(
                [key, name_of_territory, *row] for row in table.spreadsheet_rows())
    frames: dict[str, list[pd.DataFrame]] = {}
    for (name, columns), rows in cells.items():  # one frame per chart and set of columns
        frame = pd.DataFrame(rows, columns=["code_territoire", "territoire", *(c.name for c in columns)], dtype=object)
        for column in columns:
            if column.kind in (*MEASURES, Kind.YEAR):
                frame[column.name] = pd.to_numeric(frame[column.name])
        frames.setdefault(name, []).append(frame)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}


#: Bump when the year data files change shape or source (2: made from the typed tables).
YEAR_DATA_FORMAT = "2"


def _year_charts_digest(fiches_dir: Path, year: int) -> str:
    """What the year's data files are made of: every territory's chart manifest (its hash covers
    each chart's table) and whether its typed tables are there, in territory order."""
    parts = [YEAR_DATA_FORMAT]
    for key in territory_keys():
        folder = territory_dir(fiches_dir, year, key)
        if (folder / MANIFEST).exists():
            parts.append(f"{key}:{json.loads((folder / MANIFEST).read_text(encoding='utf-8'))['content_hash']}:"
                         f"{(folder / TABLES).exists()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def write_year_data(fiches_dir: Path, year: int) -> tuple[Path, Path] | None:
    """`fiches/<year>/donnees-<year>.csv` and `.xlsx`: every chart's table of the year, in one
    file each (CSV: one row per table row, `graphique` naming the chart; XLSX: a sheet per chart).

    Made again only when a chart of the year changed: the index is rebuilt whenever any year's
    fiches change, and re-reading a year's hundred tables files for nothing would cost seconds a year.
    """
    year_dir = fiches_dir / str(year)
    csv_path, xlsx_path = year_dir / f"donnees-{year}.csv", year_dir / f"donnees-{year}.xlsx"
    made_from, digest = year_dir / ".donnees-sources", _year_charts_digest(fiches_dir, year)
    if csv_path.exists() and xlsx_path.exists() and made_from.exists() and made_from.read_text() == digest:
        return csv_path, xlsx_path
    tables = year_tables(fiches_dir, year)
    if not tables:
        return None
    long = pd.concat([frame.assign(graphique=name) for name, frame in tables.items()], ignore_index=True)
    long = long[["graphique", *[c for c in long.columns if c != "graphique"]]]
    write_if_changed(csv_path, csv_bytes(long))
    write_if_changed(xlsx_path, xlsx_bytes(tables))
    write_if_changed(made_from, digest.encode())  # last: a crash before it makes them again
    return csv_path, xlsx_path
