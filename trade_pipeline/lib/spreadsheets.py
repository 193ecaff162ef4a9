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


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Tables as one workbook, a sheet each (names cut to Excel's 31 characters), cells defused.

    The same tables give the same bytes: the workbook's creation and modification dates are fixed
    (openpyxl would write the current time), so an unchanged year is not rewritten.
    """
    import io
    import re
    import zipfile
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # streamed: rows are written, not kept as cell objects
    for name, table in sheets.items():
        sheet = workbook.create_sheet(name[:31])
        sheet.freeze_panes = "A2"
        safe = defused(table)
        sheet.append([str(c) for c in safe.columns])
        for row in safe.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and v != v) or v is pd.NA else
                          (v.item() if hasattr(v, "item") else v) for v in row])
    workbook.properties.created = datetime(2000, 1, 1)
    sink = io.BytesIO()
    workbook.save(sink)
    # openpyxl stamps the zip's members and the document's « modified » date with the current
    # time when it saves: both are set to the fixed date.
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(sink.getvalue())) as source, zipfile.ZipFile(fixed, "w") as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            stamped = zipfile.ZipInfo(member.filename, date_time=(2000, 1, 1, 0, 0, 0))
            stamped.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(stamped, content)
    return fixed.getvalue()
