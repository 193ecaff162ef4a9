"""Tables as files for spreadsheets: CSV (`;`, decimal comma, UTF-8 with BOM — opens in French
Excel) and, for every CSV or XLSX the project writes, cells defused against formula injection.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
formula by Excel or LibreOffice (OWASP « CSV injection »): a label from a downloaded file could
hold `=HYPERLINK(…)`. Such a cell gets a leading apostrophe, which spreadsheets show as text;
numbers stay numbers.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_a_formula(text: object) -> bool:
    """A text a spreadsheet would run as a formula, were it a cell of a CSV it opens."""
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def formula_cells_query(rows: str, columns: list[str]) -> str:
    """SQL giving (column, value) of each text cell of `rows` (a query) that starts like a
    formula, in `columns` (its text columns): what a published CSV must never hold."""
    starts = ", ".join("'" + start.replace("'", "''") + "'" for start in FORMULA_STARTS)
    return " UNION ALL ".join(
        f"(SELECT '{column}' AS column_name, \"{column}\" AS value FROM ({rows}) "
        f"WHERE left(\"{column}\", 1) IN ({starts}) LIMIT 1)" for column in columns)


def defuse(text: object) -> object:
    """A text cell made safe for spreadsheets (other values unchanged)."""
    if starts_like_a_formula(text):
        return "'" + text
    return text


def defused(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its text columns defused: itself when no cell needs it (most tables), else
    a copy — never changed in place."""
    safe = table
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if any(starts_like_a_formula(value) for value in values.tolist()):
            if safe is table:
                safe = table.copy()
            safe[column] = values.map(defuse)
    return safe


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as a French spreadsheet CSV: `;`, decimal comma, « oui »/« non », UTF-8 with BOM."""
    french = defused(table)
    flags = [column for column in french.columns if french[column].dtype == bool]
    if flags:
        french = french.copy() if french is table else french
        for column in flags:
            french[column] = french[column].map({True: "oui", False: "non"})
    return french.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n").encode("utf-8-sig")


#: The longest text a spreadsheet cell holds (Excel's limit; XlsxWriter cuts a longer one).
CELL_CHARACTERS = 32_767


class CellTooLong(ValueError):
    """A text longer than a spreadsheet cell holds (`CELL_CHARACTERS`): refused, not cut."""


#: Above this many cells a workbook is streamed to disk (`xlsx_bytes`): a year's workbook of the
#: chart tables (≈ 150 000 cells) is not, an export of a large table is.
STREAMED_CELLS = 1_000_000


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Tables as one workbook, a sheet each (names cut to Excel's 31 characters), cells defused,
    the header frozen in view.

    Written by XlsxWriter, two to three times faster than openpyxl was; past `STREAMED_CELLS`
    cells, row by row through temporary files (`constant_memory`: an export of a million rows does
    not sit in memory; a third slower, its texts written in each cell). A text is
    written as text, never read as a formula, a link or a number; dates get a date format. The
    same tables give the same bytes: the workbook's dates are fixed (and XlsxWriter stamps its
    zip's members with a fixed date), so an unchanged year is not rewritten.
    """
    import io
    from datetime import date, datetime

    import xlsxwriter

    sink = io.BytesIO()
    cells = sum(table.size for table in sheets.values())
    workbook = xlsxwriter.Workbook(sink, {"constant_memory": cells > STREAMED_CELLS, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    workbook.set_properties({"created": datetime(2000, 1, 1)})
    day, moment = workbook.add_format({"num_format": "yyyy-mm-dd"}), workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, table in sheets.items():
        sheet = workbook.add_worksheet(name[:31])
        sheet.freeze_panes(1, 0)
        safe = defused(table)
        sheet.write_row(0, 0, [str(c) for c in safe.columns])
        for number, row in enumerate(safe.itertuples(index=False), start=1):
            for column, value in enumerate(row):
                if (value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)
                        or (isinstance(value, str) and not value)):
                    continue  # an empty cell (an empty text too: no cell a spreadsheet would count)
                if hasattr(value, "item") and not isinstance(value, datetime):
                    value = value.item()  # a NumPy scalar
                if isinstance(value, str):
                    if sheet.write_string(number, column, value) == -2:  # XlsxWriter cut it to 32 767
                        raise CellTooLong(f"sheet {name[:31]}, row {number + 1}, column {safe.columns[column]}: a "
                                          f"text of {len(value):,} characters does not fit in a spreadsheet cell "
                                          f"({CELL_CHARACTERS:,} at most)")
                elif isinstance(value, bool):
                    sheet.write_boolean(number, column, value)
                elif isinstance(value, datetime):
                    sheet.write_datetime(number, column, value.replace(tzinfo=None), moment)
                elif isinstance(value, date):
                    sheet.write_datetime(number, column, value, day)
                else:
                    sheet.write_number(number, column, value)
    workbook.close()
    return sink.getvalue()
