"""A subset of a publication for a consumer: `trade-pipeline export --table T --year Y --format F`.

Read from a publication's own trade.duckdb (the current one, or any kept one), so an export
gives exactly the rows of that publication. CSV is the same as the published CSVs (RFC 4180,
UTF-8, `.` decimals: for programs; no cell of a publication starts like a spreadsheet formula:
lib/spreadsheets.py); XLSX is for spreadsheets.

What an export writes to is checked first (`export_target`): a new regular file, or an existing
regular file that it replaces (by rename: never half a file) — never a device, a FIFO, a socket
or a symbolic link, and never anything inside the data directory, which only the pipeline
writes (the consumers' links, the kept publications).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trade_pipeline.lib.atomic import FILE_MODE, fsync_path, sql_path, write_atomically
from trade_pipeline.lib.spreadsheets import CellTooLong, xlsx_bytes
from trade_pipeline.lib.warehouse import write_failure_reason
from trade_pipeline.publication.history import Publication
from trade_pipeline.publication.store import formula_cell
from trade_pipeline.settings import SettingsError

FORMATS = ("csv", "parquet", "xlsx")

#: Rows of data an Excel sheet holds (1 048 576 lines, one for the header).
EXCEL_MAX_ROWS = 1_048_575


class ExportRefused(SettingsError):
    """`--out` names something an export must not write to, or the write failed; the message
    says which and why (exit code 2, nothing written)."""


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int


def default_name(table: str, years: list[int], fmt: str) -> str:
    """`trade_flows-2023-2024.parquet`: the table, the years asked for, the format."""
    return "-".join([table, *map(str, sorted(years))]) + f".{fmt}"


_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def _not_a_regular_file(path: Path) -> str | None:
    """What `path` is when it exists and is not a regular file (None for a regular file or nothing)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def export_target(out: str | None, default: str, data_dir: Path, cwd: Path | None = None) -> Path:
    """The regular file an export writes, from `--out`: a file; or a directory (an existing one,
    a symbolic link to one, or a path ending in `/`, created if missing), where `default` is
    written. Refused (ExportRefused): anything that exists and is not a regular file, and any
    path inside `data_dir`, however it is spelled (`..`, symbolic links)."""
    cwd = cwd or Path.cwd()
    if not out:
        target = cwd / default
    else:
        given = cwd / Path(out).expanduser()
        if out.endswith(("/", os.sep)) or given.is_dir():  # is_dir follows a link to a directory
            target = given / default
        else:
            target = given
    # Where the file really lands: its folder with every link resolved (the file itself is not
    # followed: a link there is refused below).
    real = target.parent.resolve() / target.name
    data = data_dir.resolve()
    if _inside(real, data):
        raise ExportRefused(f"--out {out or '.'}: {real} is inside the data directory {data} (TRADE_PIPELINE_DATA_DIR), "
                            "which only the pipeline writes (its published files are the consumers' links); "
                            "choose a path outside it")
    for parent in real.parents:  # the nearest existing folder above the file must be a folder
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise ExportRefused(f"--out {out}: {parent} is a file, not a folder to write in")
            break
    try:
        what = _not_a_regular_file(real)
    except OSError as error:
        raise _io_error(Path(out or "."), error) from None
    if what is not None:
        raise ExportRefused(f"--out {out}: {real} is {what}; an export writes a new regular file or replaces one — "
                            f"give a file name, or a directory to write {default} in")
    return real


def _io_error(out: Path, error: BaseException) -> ExportRefused:
    return ExportRefused(f"--out {out}: could not write — {write_failure_reason(error)}; nothing was written")


def export_table(publication: Publication, table: str, years: list[int], fmt: str, out: Path) -> Exported:
    """Write `table` of `publication` (only `years`, if given) to the regular file `out` (see
    `export_target`) in `fmt`: to a temporary file beside it, renamed over it once complete."""
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
        if fmt == "csv" and (found := formula_cell(store, table, rows)) is not None:
            # A publication made before labels were checked at their file could hold one.
            raise SettingsError(f"--format csv: {table}.{found[0]} holds {found[1][:60]!r}, which a spreadsheet "
                                f"would run as a formula (publication {publication.id}); export it as --format xlsx "
                                "(cells made text) or parquet")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if fmt == "xlsx":
                write_atomically(out, xlsx_bytes({table: store.execute(rows).df()}),
                                 before_replace=lambda: _still_a_target(out))
            else:
                _copy(store, rows, fmt, out)
        except CellTooLong as error:
            raise SettingsError(f"--format xlsx: {error}; nothing was written — export it as --format csv or "
                                "parquet") from None
        except (OSError, duckdb.IOException) as error:
            raise _io_error(out, error) from None
    return Exported(out, int(count))


def _still_a_target(out: Path) -> None:
    """Checked again just before the rename: what is at `out` may have changed meanwhile."""
    what = _not_a_regular_file(out)
    if what is not None:
        raise ExportRefused(f"--out {out}: became {what} while the export was written; nothing was written")


def _copy(store: duckdb.DuckDBPyConnection, rows: str, fmt: str, out: Path) -> None:
    """DuckDB writes the file itself (no copy through pandas), then one rename."""
    temporary = out.parent / f".{out.name}.{os.getpid()}.tmp"
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
    try:
        store.execute(f"COPY ({rows}) TO '{sql_path(temporary)}' ({options})")
        os.chmod(temporary, FILE_MODE)
        fsync_path(temporary)
        _still_a_target(out)
        os.replace(temporary, out)
        fsync_path(out.parent)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
