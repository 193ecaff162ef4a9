"""Spreadsheet files: the same tables give the same bytes, cells are defused, numbers stay numbers."""

import io
import json
import time
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from trade_pipeline.charts.files import TABLES
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.fiches.year_data import write_year_data
from trade_pipeline.lib import spreadsheets
from trade_pipeline.lib.spreadsheets import csv_bytes, xlsx_bytes


@pytest.mark.parametrize("streamed", [False, True], ids=["in memory", "streamed"])
def test_the_same_tables_give_the_same_xlsx_bytes_and_a_readable_workbook(streamed, monkeypatch):
    if streamed:  # as an export of a large table is written
        monkeypatch.setattr(spreadsheets, "STREAMED_CELLS", 0)
    tables = {"evolution": pd.DataFrame({"annee": [2023, 2024], "libelle": ["=HYPERLINK(1)", "Vins"],
                                         "valeur_eur": [1.5, float("nan")]}),
              "versions": pd.DataFrame({"code": ["01", "2A"], "url": ["https://example.org/a.zip", "1e3"], "note": ["", "x"],
                                        "synthetic": [True, False],
                                        "loaded_at": pd.to_datetime(["2025-02-07 10:30:00", None])})}
    first = xlsx_bytes(tables)
    time.sleep(1.1)  # zip members carry a time stamp at a 2-second resolution: cross a boundary
    assert xlsx_bytes(tables) == first
    workbook = openpyxl.load_workbook(io.BytesIO(first))
    sheet = workbook["evolution"]
    assert list(sheet.values) == [("annee", "libelle", "valeur_eur"), (2023, "'=HYPERLINK(1)", 1.5), (2024, "Vins", None)]
    assert sheet.freeze_panes == "A2"  # the header stays in view
    # Codes and texts stay text (not numbers, not links), flags are booleans, times are dates.
    assert list(workbook["versions"].values) == [
        ("code", "url", "note", "synthetic", "loaded_at"),
        ("01", "https://example.org/a.zip", None, True, datetime(2025, 2, 7, 10, 30)),  # an empty text: an empty cell
        ("2A", "1e3", "x", False, None)]
    assert all(cell.hyperlink is None for row in workbook["versions"].iter_rows() for cell in row)


def test_a_text_longer_than_a_cell_is_refused_naming_its_place_not_cut():
    with pytest.raises(spreadsheets.CellTooLong, match=r"sheet labels, row 3, column libelle: a text of 40,000 "):
        xlsx_bytes({"labels": pd.DataFrame({"code": ["01", "02"], "libelle": ["Vins", "x" * 40_000]})})


TABLE = (Column("rang", "Rang", Kind.RANK), Column("pays", "Pays"), Column("valeur_eur", "Valeur", Kind.EUR),
         Column("part", "Part", Kind.SHARE), Column("contribution_points", "Contribution", Kind.POINTS),
         Column("annee", "Année", Kind.YEAR), Column("top5", "Top 5", Kind.FLAG))


def test_a_chart_table_keeps_its_types_and_renders_each_kind_for_people():
    """Typed from the chart to the page: what the fiche, the CSV and the year's files show comes
    from the values, by kind — never from French text read back."""
    frame = pd.DataFrame({"rang": pd.array([1, None], dtype="Int64"), "pays": ["=cmd|' /C calc'!A0", 'dit "X"'],
                          "valeur_eur": [2_674_200_000, -1_500], "part": [0.054, float("nan")],
                          "contribution_points": [2.34, -0.5], "annee": [2024, 2023], "top5": [True, False]})
    table = ChartTable.of(TABLE, frame)
    stored = ChartTable.from_json(json.loads(json.dumps(table.to_json())))
    assert stored.columns == table.columns and stored.rows() == table.rows()
    assert stored.rows()[0] == [1, "=cmd|' /C calc'!A0", 2_674_200_000, 0.054, 2.34, 2024, True]
    page = stored.page()
    assert [c["label"] for c in page["columns"]] == ["Rang", "Pays", "Valeur", "Part", "Contribution", "Année", "Top 5"]
    assert [c["number"] for c in page["columns"]] == [False, False, True, True, True, False, False]
    nb = "\u202f"
    assert page["rows"] == [["1", "=cmd|' /C calc'!A0", f"2,7{nb}Md€", f"5,4{nb}%", f"+2,3{nb}pts", "2024", "oui"],
                            ["", 'dit "X"', f"−2{nb}k€", "", f"−0,5{nb}pt", "2023", ""]]
    assert stored.spreadsheet_rows()[1] == ["", 'dit "X"', -1500, None, -0.5, 2023, "non"]
    csv = csv_bytes(table.frame).decode("utf-8-sig").splitlines()
    assert csv[1] == "1;'=cmd|' /C calc'!A0;2674200000;0,054;2,34;2024;oui"  # the formula made text


def write_territory_charts(year_dir, key: str, value: int) -> None:
    folder = year_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    table = ChartTable.of((Column("pays", "Pays"), Column("exportations_eur", "Exportations", Kind.EUR)),
                          {"pays": ["Espagne"], "exportations_eur": [value]})
    (folder / TABLES).write_text(json.dumps({"partners": table.to_json()}), encoding="utf-8")
    manifest = {"content_hash": f"hash-of-{value}", "charts": {"partners": {}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_the_year_data_files_are_made_again_only_when_a_chart_of_the_year_changed(tmp_path):
    year_dir = tmp_path / "2024"
    write_territory_charts(year_dir, "departement-34", 100)
    csv_path, xlsx_path = write_year_data(tmp_path, 2024)
    assert "departement-34;Hérault;Espagne;100" in csv_path.read_text(encoding="utf-8-sig")
    made = csv_path.stat().st_mtime_ns, xlsx_path.stat().st_mtime_ns
    time.sleep(0.01)
    assert write_year_data(tmp_path, 2024) == (csv_path, xlsx_path)
    assert (csv_path.stat().st_mtime_ns, xlsx_path.stat().st_mtime_ns) == made  # nothing changed: not made again
    write_territory_charts(year_dir, "departement-34", 250)  # a revision: its manifest's hash moves
    write_year_data(tmp_path, 2024)
    assert "departement-34;Hérault;Espagne;250" in csv_path.read_text(encoding="utf-8-sig")
    workbook = openpyxl.load_workbook(xlsx_path, read_only=True)
    assert list(workbook["partners"].values)[1] == ("departement-34", "Hérault", "Espagne", 250)
    xlsx_path.unlink()  # a file gone is made again, even when nothing changed
    write_year_data(tmp_path, 2024)
    assert xlsx_path.exists()
