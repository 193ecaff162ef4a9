"""The DGDDI regional data files: names, location inside zips and directories, and parsing.

Format (dgddi_format.md §3): headerless, `;`-separated, 10 fields
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
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from trade_pipeline.ingestion.archives import ArchiveLimits, SafeZip
from trade_pipeline.nomenclature import LabelKind, label_kind, parse_label_kind
from trade_pipeline.tables import FILE_COLUMNS, TRADE_FLOWS

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
_PUBLICATION_PREFIX = re.compile(r"^(?P<yyyymm>\d{6})-")


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
    """`202502` for `202502-Regional-2024-export.zip`: the later prefix is the newer vintage."""
    match = _PUBLICATION_PREFIX.match(Path(name).name)
    return match["yyyymm"] if match else ""


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


def locate_year_files(paths: Iterable[Path], year: int, limits: ArchiveLimits) -> YearFiles:
    """Find the export and import data files of `year` among zips and text files.

    An annual file of the year wins over a latest-publication file; labels inside a zip that
    holds a data file of the year win over loose label files.
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
    for flow in ("E", "I"):
        of_flow = [c for c in candidates if c.flow == flow]
        annual = [c for c in of_flow if c.year == year]
        chosen = annual or of_flow
        if not chosen:
            names = ", ".join(p.name for p in sorted(paths)) or "no file"
            raise DataFileError(
                f"no {FLOW_NAMES[flow]} data file for {year} (expected a member named like "
                f"Region_{year}_{FLOW_NAMES[flow].capitalize()}.txt or REGIONAL_CPF4PAYS{flow}.txt) in: {names}"
            )
        # Re-issued vintages: the latest publication prefix wins.
        data[flow] = max(chosen, key=lambda c: (publication_prefix(c.path.name), c.path.name))
    return YearFiles(year, data, {**loose_labels, **zip_labels}, found_labels)


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
                                           block_size=16 * 1024 * 1024),
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
            raise DataFileError(f"{file_name}: the file is not valid UTF-8 ({message})") from error
        if typed:
            raise  # a value that is not an integer: read again as text to find its line
        raise DataFileError(f"{file_name}: cannot be read as a DGDDI data file ({message})") from error
    return table, problems


def read_data_file(data: bytes, file_name: str) -> pd.DataFrame:
    """Parse one DGDDI data file into the `trade_flows` columns plus `source_file`/`source_line`.

    Fast path: typed and multi-threaded. When a row has the wrong number of fields, a value is not
    an integer or a line is blank, the file is read again single-threaded and as text, so that
    every row knows its physical line and validation can name the line and column of each fault.
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
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, split_blocks=True)
    frame["source_line"] = np.arange(1, frame.shape[0] + 1, dtype=np.int64)
    if frame["flow"].dtype == "string" and frame["quarter"].dtype == "string":
        blank = (frame[list(FILE_COLUMNS)] == "").all(axis=1)
        if blank.any():
            frame = frame[~blank]
    if frame.shape[0] == 0:
        raise DataFileError(f"{file_name}: the file holds no data row")
    frame["source_file"] = pd.Categorical.from_codes(np.zeros(frame.shape[0], dtype=np.int8), [file_name])
    return frame


def restrict_to_year(frame: pd.DataFrame, year: int, file_name: str) -> pd.DataFrame:
    """Keep the rows of `year` from a latest-publication file, which must hold its 4 quarters."""
    in_year = frame[frame["year"].astype("string") == str(year)]
    quarters = sorted(set(in_year["quarter"].astype("string")))
    if quarters != ["1", "2", "3", "4"]:
        raise DataFileError(
            f"{file_name}: holds quarters {', '.join(quarters) or 'none'} of {year}, not the four "
            f"quarters of a complete year; use the annual file for {year}"
        )
    return in_year
