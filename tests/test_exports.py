"""Spreadsheet files: the same tables give the same bytes, cells are defused, numbers stay numbers."""

import io
import json
import time

import openpyxl
import pandas as pd

from trade_pipeline.exports import csv_bytes, read_csv_cells, xlsx_bytes
from trade_pipeline.fiches.build import write_year_data


def test_the_same_tables_give_the_same_xlsx_bytes_and_a_readable_workbook():
    tables = {"evolution": pd.DataFrame({"annee": [2023, 2024], "libelle": ["=HYPERLINK(1)", "Vins"],
                                         "valeur_eur": [1.5, float("nan")]})}
    first = xlsx_bytes(tables)
    time.sleep(1.1)  # zip members carry a time stamp at a 2-second resolution: cross a boundary
    assert xlsx_bytes(tables) == first
    sheet = openpyxl.load_workbook(io.BytesIO(first))["evolution"]
    assert list(sheet.values) == [("annee", "libelle", "valeur_eur"), (2023, "'=HYPERLINK(1)", 1.5), (2024, "Vins", None)]
    assert sheet.freeze_panes == "A2"  # the header stays in view


def test_a_csv_reads_back_as_the_cells_it_was_written_from(tmp_path):
    table = pd.DataFrame({"pays": ["=cmd|' /C calc'!A0", "Côte d'Ivoire; Ghana", 'dit "X"'], "valeur_eur": [1.5, 2.0, 3.0]})
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(table))
    header, rows = read_csv_cells(path)
    assert header == ["pays", "valeur_eur"]
    assert rows == [["=cmd|' /C calc'!A0", "1,5"], ["Côte d'Ivoire; Ghana", "2,0"], ['dit "X"', "3,0"]]


def write_territory_charts(year_dir, key: str, value: str) -> None:
    folder = year_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "partners.csv").write_bytes(csv_bytes(pd.DataFrame({"pays": ["Espagne"], "exportations_eur": [value]})))
    manifest = {"content_hash": f"hash-of-{value}", "charts": {"partners": {}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_the_year_data_files_are_made_again_only_when_a_chart_of_the_year_changed(tmp_path):
    year_dir = tmp_path / "2024"
    write_territory_charts(year_dir, "departement-34", "100")
    csv_path, xlsx_path = write_year_data(tmp_path, 2024)
    assert "departement-34;Hérault;Espagne;100" in csv_path.read_text(encoding="utf-8-sig")
    made = csv_path.stat().st_mtime_ns, xlsx_path.stat().st_mtime_ns
    time.sleep(0.01)
    assert write_year_data(tmp_path, 2024) == (csv_path, xlsx_path)
    assert (csv_path.stat().st_mtime_ns, xlsx_path.stat().st_mtime_ns) == made  # nothing changed: not made again
    write_territory_charts(year_dir, "departement-34", "250")  # a revision: its manifest's hash moves
    write_year_data(tmp_path, 2024)
    assert "departement-34;Hérault;Espagne;250" in csv_path.read_text(encoding="utf-8-sig")
    workbook = openpyxl.load_workbook(xlsx_path, read_only=True)
    assert list(workbook["partners"].values)[1] == ("departement-34", "Hérault", "Espagne", 250)
    xlsx_path.unlink()  # a file gone is made again, even when nothing changed
    write_year_data(tmp_path, 2024)
    assert xlsx_path.exists()
