"""A subset of a publication for a consumer: `trade-pipeline export --table T --year Y --format F`.

Read from a publication's own trade.duckdb (the current one, or any kept one), so an export
gives exactly the rows of that publication. CSV is the same as the published CSVs (RFC 4180,
UTF-8, `.` decimals: for programs); XLSX is for spreadsheets (cells defused, exports.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trade_pipeline.atomic import FILE_MODE, fsync_path, write_atomically
from trade_pipeline.exports import xlsx_bytes
from trade_pipeline.publication.store import Publication
from trade_pipeline.settings import SettingsError

FORMATS = ("csv", "parquet", "xlsx")

#: Rows of data an Excel sheet holds (1 048 576 lines, one for the header).
EXCEL_MAX_ROWS = 1_048_575


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int


def default_name(table: str, years: list[int], fmt: str) -> str:
    """`trade_flows-2023-2024.parquet`: the table, the years asked for, the format."""
    return "-".join([table, *map(str, sorted(years))]) + f".{fmt}"


def export_table(publication: Publication, table: str, years: list[int], fmt: str, out: Path) -> Exported:
    """Write `table` of `publication` (only `years`, if given) to `out` in `fmt`, atomically."""
    if fmt not in FORMATS:
        raise SettingsError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    with duckdb.connect(str(publication.duckdb_path), read_only=True) as store:
        tables = [name for (name,) in store.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
        if table not in tables:
            raise SettingsError(f"--table {table}: not a table of publication {publication.id} "
                                f"(tables: {', '.join(tables)})")
        columns = [name for (name,) in store.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()]
        rows = f"SELECT * FROM {table}"
        if years:
            if "year" not in columns:
                raise SettingsError(f"--year: the table {table} has no year column; leave --year out")
            present = {y for (y,) in store.execute(f"SELECT DISTINCT year FROM {table}").fetchall()}
            missing = sorted(set(years) - present)
            if missing:
                raise SettingsError(f"--year {', '.join(map(str, missing))}: not in {table} of publication "
                                    f"{publication.id} (years: {', '.join(map(str, sorted(present)))})")
            rows += f" WHERE year IN ({', '.join(str(int(y)) for y in sorted(set(years)))})"
        count = store.execute(f"SELECT count(*) FROM ({rows})").fetchall()[0][0]
        if fmt == "xlsx" and count > EXCEL_MAX_ROWS:
            raise SettingsError(f"--format xlsx: {count:,} rows do not fit in a sheet ({EXCEL_MAX_ROWS:,} at most); "
                                "choose fewer years, or --format csv or parquet")
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            write_atomically(out, xlsx_bytes({table: store.execute(rows).df()}))
        else:
            # DuckDB writes the file itself (no copy through pandas); then one rename.
            temporary = out.parent / f".{out.name}.{os.getpid()}.tmp"
            options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
            try:
                store.execute(f"COPY ({rows}) TO '{str(temporary).replace(chr(39), chr(39) * 2)}' ({options})")
                os.chmod(temporary, FILE_MODE)
                fsync_path(temporary)
                os.replace(temporary, out)
            finally:
                temporary.unlink(missing_ok=True)
    return Exported(out, int(count))
