"""The DGDDI regional data files: names, location inside zips and directories, and parsing.

Format (docs/source-format.md): headerless, `;`-separated, 10 fields
`flux;trimestre;annee;code_departement;code_region;code_A129;code_CPF4;code_pays;valeur;masse`,
UTF-8, CRLF or LF. Codes stay text (`NA` is Namibia, `01` keeps its zero), values are int64
(aircraft cells exceed 2^31). Every row keeps the file name and the physical line it came from,
so that validation errors can point at them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from trade_pipeline.ingestion.archives import ArchiveLimits, SafeZip
from trade_pipeline.lib.nomenclature import LabelKind, label_kind, parse_label_kind
from trade_pipeline.lib.quarters import publication_month
from trade_pipeline.tables import FILE_COLUMNS, SOURCE_FIELDS, TRADE_FLOWS

#: Arrow types of the integer columns when reading (the codes stay text: `NA` is Namibia, `01`
#: keeps its zero; values are int64, aircraft cells exceed 2^31).
INTEGER_COLUMNS = {c.name: (pa.int64() if c.type == "BIGINT" else pa.int32())
                   for c in TRADE_FLOWS.columns if c.type in ("INTEGER", "BIGINT")}

FLOWS = {"export": "E", "import": "I"}
FLOW_NAMES = {"E": "export", "I": "import"}

#: Annual files: `Region_2019_Export.txt`, `Regional_2021_Import.txt` (case varies).
_ANNUAL_MEMBER = re.compile(r"(?i)(?:^|/)regio[a-z]*[_-](?P<year>\d{4})[_-](?P<flow>export|import)\.txt$")
#: « Dernière publication » files (5 last quarters, spanning two years).
_LATEST_MEMBER = re.compile(r"(?i)(?:^|/)regional_cpf4pays(?P<flow>[ei])\.txt$")
#: Annual zips: `202002-Regional-2019-export.zip` (prefix = publication month).
_ANNUAL_ZIP = re.compile(r"(?i)(?:^|[/_-])regio[a-z]*[_-](?P<year>\d{4})[_-](?P<flow>export|import)\.zip$")


class DataFileError(ValueError):
    """A data file that cannot be read; the message names the file and, when known, the line."""


@dataclass(frozen=True)
class DataFileName:
    flow: str  # 'E' or 'I'
    year: int | None  # None for the latest-publication files, which span two years


def classify_data_member(name: str) -> DataFileName | None:
    """Recognise a data file by its (member) name."""
    if match := _ANNUAL_MEMBER.search(name):
        return DataFileName(FLOWS[match["flow"].lower()], int(match["year"]))
    if match := _LATEST_MEMBER.search(name):
        return DataFileName(match["flow"].upper(), None)
    return None


def classify_zip_name(name: str) -> DataFileName | None:
    """Year and flow announced by an annual zip's name, if it follows the DGDDI pattern."""
    if match := _ANNUAL_ZIP.search(name):
        return DataFileName(FLOWS[match["flow"].lower()], int(match["year"]))
    return None


def publication_prefix(name: str) -> str:
    """`202502` for `202502-Regional-2024-export.zip` ('' without): the later, the newer vintage."""
    return publication_month(name) or ""


@dataclass(frozen=True)
class DataFileRef:
    """A data file inside a zip (member set) or on its own (member None)."""

    flow: str
    year: int | None
    path: Path
    member: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.path.name}:{self.member}" if self.member else self.path.name

    def read_bytes(self, limits: ArchiveLimits) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with SafeZip(self.path, limits) as archive:
            return archive.read(self.member)


@dataclass
class YearFiles:
    """The files that make up one year: one export and one import data file, plus labels."""

    year: int
    data: dict[str, DataFileRef]
    #: The label files used for the year (the latest vintage's copy when several zips hold one).
    labels: dict[LabelKind, tuple[str, bytes]] = field(default_factory=dict)
    #: Every label file found, so that each can be checked, not only the one used.
    all_labels: list[tuple[LabelKind, str, bytes]] = field(default_factory=list)
    #: Data files of an older vintage left aside for the latest one (said in the run log).
    superseded: list[str] = field(default_factory=list)


def _the_one_data_file(candidates: list[DataFileRef], flow: str, year: int, paths: Iterable[Path]
                       ) -> tuple[DataFileRef, list[DataFileRef]]:
    """The data file of one flow, and the older vintages it supersedes.

    Several files that could each be the year's data are refused, naming them: a file and a
    truncated copy, `Region_…` beside `Regional_…`, two members of the same name in a zip, two
    latest publications of the same month. Only DGDDI's re-issues are told apart: zips whose names
    carry different publication months (`202510-…` supersedes `202502-…`). An annual file of the
    year is preferred to the latest publications (`locate_year_files`).
    """
    if not candidates:
        names = ", ".join(p.name for p in sorted(paths)) or "no file"
        raise DataFileError(
            f"no {FLOW_NAMES[flow]} data file for {year} (expected a member named like "
            f"Region_{year}_{FLOW_NAMES[flow].capitalize()}.txt or REGIONAL_CPF4PAYS{flow}.txt) in: {names}"
        )
    vintages = {publication_prefix(c.path.name) for c in candidates}
    latest = max(vintages)
    newest = [c for c in candidates if publication_prefix(c.path.name) == latest]
    if len(newest) > 1 or (len(candidates) > 1 and "" in vintages):
        listed = ", ".join(sorted(c.display_name for c in (candidates if "" in vintages else newest)))
        raise DataFileError(
            f"several files could each be the {FLOW_NAMES[flow]} data of {year}: {listed}; refused rather than "
            "choosing one — keep the one to load (vintages are told apart only by the publication month "
            "that starts DGDDI's zip names, e.g. 202510-Regional-2024-export.zip)"
        )
    return newest[0], [c for c in candidates if c is not newest[0]]


def locate_year_files(paths: Iterable[Path], year: int, limits: ArchiveLimits) -> YearFiles:
    """Find the export and import data files of `year` among zips and text files: exactly one
    of each flow (`_the_one_data_file`). Labels inside a zip that holds a data file of the year
    win over loose label files, the latest vintage's over older ones.
    """
    candidates: list[DataFileRef] = []
    loose_labels: dict[LabelKind, tuple[str, bytes]] = {}
    zip_labels: dict[LabelKind, tuple[str, bytes]] = {}
    found_labels: list[tuple[LabelKind, str, bytes]] = []
    for path in sorted(paths, key=lambda p: (publication_prefix(p.name), p.name)):
        if path.suffix.lower() == ".zip":
            with SafeZip(path, limits) as archive:
                found_here = []
                for member in archive.members:
                    kind = classify_data_member(member)
                    if kind and kind.year in (year, None):
                        found_here.append(DataFileRef(kind.flow, kind.year, path, member))
                if found_here:
                    candidates.extend(found_here)
                    for member in archive.members:
                        if (lk := label_kind(member)) is not None:
                            zip_labels[lk] = (f"{path.name}:{member}", archive.read(member))
                            found_labels.append((lk, *zip_labels[lk]))
        elif path.suffix.lower() == ".txt":
            if (kind := classify_data_member(path.name)) is not None:
                if kind.year in (year, None):
                    candidates.append(DataFileRef(kind.flow, kind.year, path))
            elif (lk := label_kind(path.name)) is not None:
                loose_labels[lk] = (path.name, path.read_bytes())
                found_labels.append((lk, *loose_labels[lk]))
    data: dict[str, DataFileRef] = {}
    superseded: list[str] = []
    for flow in ("E", "I"):
        of_flow = [c for c in candidates if c.flow == flow]
        if any(c.year == year for c in of_flow):  # the latest publications feed the latest quarters
            of_flow = [c for c in of_flow if c.year == year]
        data[flow], older = _the_one_data_file(of_flow, flow, year, paths)
        superseded += [f"{c.display_name} (superseded by {data[flow].display_name})" for c in older]
    return YearFiles(year, data, {**loose_labels, **zip_labels}, found_labels, superseded)


def check_year_files(paths: Iterable[Path], year: int, limits: ArchiveLimits) -> YearFiles:
    """What a year's raw files must pass before they become its current raw version: safe zips,
    one export and one import data file, and label files that decode (every one found, not only
    the one used). Raises ArchiveError, DataFileError or LabelFileError naming the file."""
    located = locate_year_files(paths, year, limits)
    for kind, name, data in located.all_labels:
        parse_label_kind(kind, data, name)
    return located


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_MAX_REPORTED = 20


def _read(data: bytes, file_name: str, *, typed: bool, use_threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    problems: list[tuple[int | None, str]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        problems.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}: {row.text[:120]!r}"))
        return "skip"

    column_types = {c: pa.string() for c in FILE_COLUMNS}
    if typed:
        column_types.update(INTEGER_COLUMNS)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=list(FILE_COLUMNS), use_threads=use_threads,
                                           block_size=BLOCK_BYTES),
            # Blank lines are kept as empty rows so that row i is physical line i + 1.
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False, ignore_empty_lines=False,
                                             invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False, null_values=[]),
        )
    except pa.ArrowInvalid as error:
        message = str(error)
        if "Empty CSV file" in message:
            raise DataFileError(f"{file_name}: the file is empty") from error
        if "UTF8" in message.upper().replace("-", ""):
            raise DataFileError(_invalid_utf8(data, file_name)) from error
        if "straddle" in message:
            raise DataFileError(_overlong_line(data, file_name)) from error
        if typed:
            raise  # a value that is not an integer: read again as text to find its line
        raise DataFileError(f"{file_name}: cannot be read as a DGDDI data file ({message})") from error
    return table, problems


#: Bytes the CSV reader takes at once; a longer line cannot be a DGDDI row (10 short fields).
BLOCK_BYTES = 16 * 1024 * 1024


def _where(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and field of a byte offset of a `;`-separated file."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, data.count(b";", line_start, offset) + 1


def _invalid_utf8(data: bytes, file_name: str) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, field = _where(data, error.start)
        name = f" {SOURCE_FIELDS[field - 1]} ({FILE_COLUMNS[field - 1]})" if field <= len(SOURCE_FIELDS) else ""
        return (f"{file_name}, line {line}, column {field}{name}: byte 0x{data[error.start]:02X} is not UTF-8 "
                "(DGDDI data files are UTF-8, their codes ASCII): the file is damaged or not a DGDDI data file")
    return f"{file_name}: the file is not valid UTF-8"


def _overlong_line(data: bytes, file_name: str) -> str:
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    longest = int(np.argmax(ends - starts))
    return (f"{file_name}, line {longest + 1}: {int(ends[longest] - starts[longest]):,} bytes long, more than the "
            f"{BLOCK_BYTES:,} the reader takes — a DGDDI row is 10 short fields: the file is damaged or not a DGDDI "
            "data file")


def read_data_file(data: bytes, file_name: str) -> pa.Table:
    """Parse one DGDDI data file into an Arrow table: the `trade_flows` columns, `source_line`
    (the physical line, 1-based) and `source_file` (dictionary-encoded: one copy of the name).

    Fast path: typed and multi-threaded. When a row has the wrong number of fields, a value is not
    an integer or a line is blank, the file is read again single-threaded and as text, so that
    every row knows its physical line and validation can name the line and column of each fault.
    The rows stay in Arrow buffers: validation and the warehouse read them in place (DuckDB scans
    Arrow without a copy), never as millions of Python or pandas objects.
    """
    if not data.strip():
        raise DataFileError(f"{file_name}: the file is empty")
    try:
        table, problems = _read(data, file_name, typed=True, use_threads=True)
    except pa.ArrowInvalid:
        table, problems = _read(data, file_name, typed=False, use_threads=False)
    if problems and any(line is None for line, _ in problems):
        table, problems = _read(data, file_name, typed=False, use_threads=False)
    if problems:
        listed = "\n".join(f"  {file_name}, line {line}: {message}" for line, message in problems[:_MAX_REPORTED])
        more = f"\n  … and {len(problems) - _MAX_REPORTED} more" if len(problems) > _MAX_REPORTED else ""
        raise DataFileError(f"{file_name}: {len(problems)} line(s) do not have the 10 DGDDI fields:\n{listed}{more}")
    table = table.append_column("source_line", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    if pa.types.is_string(table.schema.field("quarter").type):  # read as text: blank lines are empty rows
        empty = None
        for column in FILE_COLUMNS:
            is_empty = pc.equal(table[column], "")
            empty = is_empty if empty is None else pc.and_(empty, is_empty)
        if pc.any(empty).as_py():
            table = table.filter(pc.invert(empty))
    if table.num_rows == 0:
        raise DataFileError(f"{file_name}: the file holds no data row")
    names = pa.DictionaryArray.from_arrays(pa.array(np.zeros(table.num_rows, dtype=np.int8)), pa.array([file_name]))
    return table.append_column("source_file", names)


def combine_files(tables: list[pa.Table]) -> pa.Table:
    """The parsed files of a year as one table (Arrow chunks: no copy). When one file was typed
    and another read as text (a bad integer), all are text: the contract reports each cell."""
    if len({t.schema for t in tables}) > 1:
        tables = [t.cast(pa.schema([f.with_type(pa.string()) if f.name in INTEGER_COLUMNS else f for f in t.schema]))
                  for t in tables]
    return pa.concat_tables(tables).unify_dictionaries()  # one dictionary of file names


def restrict_to_year(table: pa.Table, year: int, file_name: str) -> pa.Table:
    """Keep the rows of `year` from a latest-publication file, which must hold its 4 quarters."""
    in_year = table.filter(pc.equal(pc.cast(table["year"], pa.string()), str(year)))
    quarters = sorted(set(pc.cast(in_year["quarter"], pa.string()).to_pylist()))
    if quarters != ["1", "2", "3", "4"]:
        raise DataFileError(
            f"{file_name}: holds quarters {', '.join(quarters) or 'none'} of {year}, not the four "
            f"quarters of a complete year; use the annual file for {year}"
        )
    return in_year
