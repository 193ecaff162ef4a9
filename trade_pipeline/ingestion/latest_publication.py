"""DGDDI's « dernière publication »: the five last complete quarters, a new vintage every month.

A vintage is the pair `REGIONAL_CPF4PAYSE.txt` / `REGIONAL_CPF4PAYSI.txt` of one publication,
in the same 10-field format as the annual files (dgddi_files.py), inside zips — or as text
files — whose names start with the publication month: `202512-stat-regional-ce-export.zip`,
`202512-REGIONAL_CPF4PAYSE.txt`. The month is the vintage: the later one revises the earlier.
A data file whose name does not say its month is refused (which revision would it be?), as are
two files of the same vintage and flow, a vintage with one flow only, and quarters with a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from trade_pipeline.ingestion.archives import ArchiveLimits, SafeZip
from trade_pipeline.ingestion.dgddi_files import (
    FLOW_NAMES,
    DataFileError,
    DataFileRef,
    classify_data_member,
    combine_files,
    read_data_file,
)
from trade_pipeline.lib.nomenclature import LabelKind, label_kind, parse_label_kind
from trade_pipeline.lib.quarters import Quarter, publication_month


def vintage_of(name: str) -> str | None:
    """The publication month a file's name starts with: the vintage it is."""
    return publication_month(name)


def is_latest_data_file(name: str) -> bool:
    """A `REGIONAL_CPF4PAYS[EI].txt`, possibly prefixed with its month."""
    base = Path(name).name
    stripped = base[7:] if vintage_of(base) else base
    kind = classify_data_member(stripped)
    return kind is not None and kind.year is None


def holds_latest_publication(path: Path, limits: ArchiveLimits) -> bool:
    """A file of a source directory that is (or whose zip holds) a latest-publication data file."""
    if path.suffix.lower() == ".txt":
        return is_latest_data_file(path.name)
    if path.suffix.lower() != ".zip":
        return False
    with SafeZip(path, limits) as archive:
        return any(is_latest_data_file(member) for member in archive.members)


@dataclass
class VintageFiles:
    """The export and import data files of one vintage, and the label files beside them."""

    vintage: str
    data: dict[str, DataFileRef]
    labels: dict[LabelKind, tuple[str, bytes]] = field(default_factory=dict)
    all_labels: list[tuple[LabelKind, str, bytes]] = field(default_factory=list)


def locate_vintages(paths: Iterable[Path], limits: ArchiveLimits) -> dict[str, VintageFiles]:
    """Every vintage among `paths` (zips and text files), each with exactly one file per flow."""
    found: dict[str, dict[str, list[DataFileRef]]] = {}
    labels: dict[str, dict[LabelKind, tuple[str, bytes]]] = {}
    every_label: dict[str, list[tuple[LabelKind, str, bytes]]] = {}
    for path in sorted(paths):
        if path.suffix.lower() == ".zip":
            with SafeZip(path, limits) as archive:
                members = [m for m in archive.members if is_latest_data_file(m)]
                if not members:
                    continue
                vintage = vintage_or_refuse(path.name)
                for member in members:
                    flow = classify_data_member(Path(member).name).flow
                    found.setdefault(vintage, {}).setdefault(flow, []).append(DataFileRef(flow, None, path, member))
                for member in archive.members:
                    if (kind := label_kind(member)) is not None:
                        labels.setdefault(vintage, {})[kind] = (f"{path.name}:{member}", archive.read(member))
                        every_label.setdefault(vintage, []).append((kind, *labels[vintage][kind]))
        elif path.suffix.lower() == ".txt" and is_latest_data_file(path.name):
            vintage = vintage_or_refuse(path.name)
            flow = classify_data_member(path.name[7:]).flow
            found.setdefault(vintage, {}).setdefault(flow, []).append(DataFileRef(flow, None, path))
    vintages = {}
    for vintage, flows in sorted(found.items()):
        data = {}
        for flow in ("E", "I"):
            candidates = flows.get(flow, [])
            if not candidates:
                present = ", ".join(c.display_name for refs in flows.values() for c in refs)
                raise DataFileError(f"the latest publication {vintage} has no {FLOW_NAMES[flow]} file "
                                    f"(REGIONAL_CPF4PAYS{flow}.txt) beside {present}: both flows are needed")
            if len(candidates) > 1:
                raise DataFileError(
                    f"several files could each be the {FLOW_NAMES[flow]} data of the latest publication {vintage}: "
                    f"{', '.join(c.display_name for c in candidates)}; refused rather than choosing one")
            data[flow] = candidates[0]
        vintages[vintage] = VintageFiles(vintage, data, labels.get(vintage, {}), every_label.get(vintage, []))
    return vintages


def vintage_or_refuse(name: str) -> str:
    vintage = vintage_of(name)
    if vintage is None:
        raise DataFileError(
            f"{name}: a latest-publication file whose name does not say its publication month; DGDDI revises these "
            "files every month, so the month tells the newer from the older: name it like "
            "202512-stat-regional-ce-export.zip (or 202512-REGIONAL_CPF4PAYSE.txt)")
    return vintage


def check_vintage_files(vintage: VintageFiles) -> VintageFiles:
    """Every label file of the vintage must decode (like a year's: dgddi_files.check_year_files)."""
    for kind, name, data in vintage.all_labels:
        parse_label_kind(kind, data, name)
    return vintage


def quarters_held(table: pa.Table, file_name: str) -> frozenset[Quarter]:
    """The quarters a file holds, which must follow each other (the five last quarters)."""
    pairs = table.group_by(["year", "quarter"]).aggregate([]).to_pylist()
    try:
        held = sorted(Quarter(int(p["year"]), int(p["quarter"])) for p in pairs)
    except (TypeError, ValueError) as error:  # a text cell: the contract names its line
        raise DataFileError(f"{file_name}: a year or quarter is not a number ({error})") from None
    for before, after in zip(held, held[1:], strict=False):
        if after.index != before.index + 1:
            raise DataFileError(f"{file_name}: holds {', '.join(map(str, held))}, with a gap after {before}: the latest "
                                "publication holds consecutive quarters — the file is damaged or not a latest publication")
    return frozenset(held)


@dataclass
class VintageRows:
    vintage: str
    rows: pa.Table  # the trade_flows columns + source_file + source_line (dgddi_files.read_data_file)
    quarters: frozenset[Quarter]
    files: VintageFiles


def read_vintage(files: VintageFiles, limits: ArchiveLimits) -> VintageRows:
    """Parse the two data files of a vintage."""
    tables, quarters = [], set()
    for ref in files.data.values():
        table = read_data_file(ref.read_bytes(limits), ref.display_name)
        if pa.types.is_integer(table.schema.field("quarter").type):
            quarters |= quarters_held(table, ref.display_name)
        tables.append(table)
    rows = combine_files(tables)
    if not pa.types.is_integer(rows.schema.field("quarter").type):
        quarters = set()  # a cell that is not a number: the contract reports it
    if quarters and (last := max(quarters)) >= _first_quarter_not_ended(files.vintage):
        names = ", ".join(ref.display_name for ref in files.data.values())
        raise DataFileError(f"{names}: the publication of {files.vintage} holds {last}, a quarter that had not ended "
                            "by then — the file's month or its rows are wrong")
    return VintageRows(files.vintage, rows, frozenset(quarters), files)


def _first_quarter_not_ended(vintage: str) -> Quarter:
    """A publication of month M (YYYYMM) can hold quarters ended before M: not the one M is in."""
    year, month = int(vintage[:4]), int(vintage[4:])
    return Quarter(year, (month - 1) // 3 + 1)

