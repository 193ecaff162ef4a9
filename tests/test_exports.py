"""Spreadsheet files: the same tables give the same bytes, cells are defused, numbers stay numbers."""

import io
import time

import openpyxl
import pandas as pd

from trade_pipeline.exports import xlsx_bytes


def test_the_same_tables_give_the_same_xlsx_bytes_and_a_readable_workbook():
    tables = {"evolution": pd.DataFrame({"annee": [2023, 2024], "libelle": ["=HYPERLINK(1)", "Vins"],
                                         "valeur_eur": [1.5, float("nan")]})}
    first = xlsx_bytes(tables)
    time.sleep(1.1)  # zip members carry a time stamp at a 2-second resolution: cross a boundary
    assert xlsx_bytes(tables) == first
    sheet = openpyxl.load_workbook(io.BytesIO(first))["evolution"]
    assert list(sheet.values) == [("annee", "libelle", "valeur_eur"), (2023, "'=HYPERLINK(1)", 1.5), (2024, "Vins", None)]
