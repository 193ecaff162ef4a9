"""The DGDDI nomenclatures: label files (countries, CPF4, A129, départements → régions), codes, short labels.

The DGDDI label files change name, encoding and quoting between releases (UTF-8, UTF-8 with BOM,
Windows-1252; `"` quoting or ` | ` in place of `;`). This module is the only place that reads
them. The package ships the February 2025 copies (Licence Ouverte 2.0, « Source : DGDDI »); copies
found inside a downloaded zip take precedence for that vintage.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

import pandas as pd

from trade_pipeline.lib.spreadsheets import CELL_CHARACTERS, starts_like_a_formula

LabelKind = Literal["pays", "cpf4", "a129", "departements"]
LABEL_KINDS: tuple[LabelKind, ...] = ("pays", "cpf4", "a129", "departements")

#: How a label file is recognised inside a zip or a directory (names vary between releases:
#: Libelle_CPF4.txt, Libelle_CPF4_rev2.1.txt, Libelle_CPF4_rev2.1_2.txt, DEPARTEMENT.txt, …).
LABEL_FILE_PATTERNS: dict[LabelKind, re.Pattern[str]] = {
    "pays": re.compile(r"(?i)(^|/)libelle_pays[^/]*\.txt$"),
    "cpf4": re.compile(r"(?i)(^|/)libelle_cpf4[^/]*\.txt$"),
    "a129": re.compile(r"(?i)(^|/)libelle_a129[^/]*\.txt$"),
    "departements": re.compile(r"(?i)(^|/)departement(_region)?s?\.txt$"),
}

PACKAGED_LABEL_FILES: dict[LabelKind, str] = {
    "pays": "Libelle_PAYS.txt",
    "cpf4": "Libelle_CPF4_rev2.1.txt",
    "a129": "Libelle_A129.txt",
    "departements": "Departement_region.txt",
}

#: Validity used when a file gives none (Departement_region.txt announces 6 fields, has 4).
ALWAYS_VALID = (190001, 999912)

#: Partner codes that are not countries: kept in every total, left out of « principaux pays ».
#: (QA is Qatar; XK Kosovo and XS Serbia are countries.)
NON_COUNTRY_CODES = frozenset(
    {"EU", "QP", "QQ", "QR", "QS", "QT", "QU", "QV", "QW", "QY", "QZ", "XA", "XC", "XG", "XL",
     "XO", "XR", "XX", "XZ"}
)

#: Energy products in A129 (issue contract: B05Z, B06Z, C19Z, D35Z). The DGDDI A129 label file
#: splits D35 into D35A (électricité) and D35B (gaz manufacturé), so both count as well.
ENERGY_A129_CODES = frozenset({"B05Z", "B06Z", "C19Z", "D35Z", "D35A", "D35B"})

#: Code patterns of the data files (docs/source-format.md, « Invariants »).
DEPARTMENT_CODE_PATTERN = r"^(\d{2}|9[A-E])$"
REGION_CODE_PATTERN = r"^\d{2}$"
A129_CODE_PATTERN = r"^[A-Z]\d{2}[A-Z]$"
CPF4_CODE_PATTERN = r"^\d{4}$"
COUNTRY_CODE_PATTERN = r"^[A-Z]{2}$"


class LabelFileError(ValueError):
    """A label file that cannot be decoded or parsed; the message names the file and line."""


# --------------------------------------------------------------------------------------------
# Decoding and parsing label files
# --------------------------------------------------------------------------------------------


def decode_text(data: bytes, file_name: str) -> str:
    """Decode a DGDDI text file whose encoding is not reliably documented.

    Tries UTF-8 (a BOM is dropped), then Windows-1252. Both are strict: a byte that is valid in
    neither (cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined) is an error naming the file.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as cp_error:
            line = data.count(b"\n", 0, utf8_error.start) + 1
            raise LabelFileError(
                f"{file_name}: cannot decode the file as UTF-8 or Windows-1252 "
                f"(byte 0x{data[cp_error.start]:02X} at offset {cp_error.start}, line {line})"
            ) from cp_error


def _clean(text: str) -> str:
    # NFKC turns the no-break spaces of some labels into plain spaces; the 2019 files replace
    # `;` inside labels by ` | `.
    return unicodedata.normalize("NFKC", text).replace(" | ", " ; ").strip()


def _fit_for_a_spreadsheet(values: list[str], names: tuple[str, ...], file_name: str, line: int) -> None:
    """Refuse a field that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `-…`,
    `@…`) or that no cell holds: labels reach the published CSVs and workbooks, which people open.
    No DGDDI label does either; refused here, before anything is stored, not when a workbook is
    written at the end of a build."""
    for column, (value, name) in enumerate(zip(values, names, strict=False), 1):
        if starts_like_a_formula(value):
            raise LabelFileError(
                f"{file_name}, line {line}, column {column} ({name}): {value[:60]!r} starts with {value[0]!r}, which a "
                "spreadsheet would run as a formula; refused (no DGDDI label starts so: the file is damaged or was "
                "altered)")
        if len(value) > CELL_CHARACTERS:
            raise LabelFileError(
                f"{file_name}, line {line}, column {column} ({name}): a text of {len(value):,} characters "
                f"({value[:40]!r}…), longer than a spreadsheet cell holds ({CELL_CHARACTERS:,}); refused (no DGDDI "
                "label is so long: the file is damaged or was altered)")


def _rows(data: bytes, file_name: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of a label file (`;`-separated, `"`-quoted), with their 1-based line."""
    text = decode_text(data, file_name)
    for line_number, fields in enumerate(csv.reader(io.StringIO(text), delimiter=";", quotechar='"'), 1):
        if fields and any(f.strip() for f in fields):
            yield line_number, fields


def parse_label_file(data: bytes, file_name: str) -> pd.DataFrame:
    """Parse a `Code;Libellé;Début;Fin` label file into code, label, valid_from, valid_to."""
    records = []
    for line_number, fields in _rows(data, file_name):
        if len(fields) == 2:
            fields = [*fields, str(ALWAYS_VALID[0]), str(ALWAYS_VALID[1])]
        if len(fields) != 4:
            raise LabelFileError(
                f"{file_name}, line {line_number}: expected 4 fields (Code;Libellé;Début;Fin), "
                f"found {len(fields)}: {';'.join(fields)[:120]!r}"
            )
        code, label, start, end = (_clean(f) for f in fields)
        _fit_for_a_spreadsheet([code, label], ("Code", "Libellé"), file_name, line_number)
        if not code:
            raise LabelFileError(f"{file_name}, line {line_number}, column 1: empty code")
        records.append((code, label, _period(start, file_name, line_number, 3),
                        _period(end, file_name, line_number, 4)))
    if not records:
        raise LabelFileError(f"{file_name}: the label file is empty")
    return pd.DataFrame(records, columns=["code", "label", "valid_from", "valid_to"])


def parse_department_file(data: bytes, file_name: str) -> pd.DataFrame:
    """Parse `Departement_region.txt` (4 fields; the read-me announces 6 with validity dates)."""
    records = []
    for line_number, fields in _rows(data, file_name):
        if len(fields) not in (4, 6):
            raise LabelFileError(
                f"{file_name}, line {line_number}: expected 4 fields "
                f"(code_dep;libellé_dep;code_région;libellé_région), found {len(fields)}"
            )
        fields = [_clean(f) for f in fields]
        _fit_for_a_spreadsheet(fields[:4], ("code_dep", "libellé_dep", "code_région", "libellé_région"), file_name, line_number)
        start, end = ALWAYS_VALID
        if len(fields) == 6:
            start = _period(fields[4], file_name, line_number, 5)
            end = _period(fields[5], file_name, line_number, 6)
        records.append((fields[0], fields[1], fields[2], fields[3], start, end))
    if not records:
        raise LabelFileError(f"{file_name}: the file is empty")
    return pd.DataFrame(
        records,
        columns=["department_code", "department_name", "region_code", "region_name", "valid_from", "valid_to"],
    )


def _period(value: str, file_name: str, line: int, column: int) -> int:
    if not re.fullmatch(r"\d{6}", value):
        raise LabelFileError(f"{file_name}, line {line}, column {column}: {value!r} is not a YYYYMM period")
    return int(value)


def label_kind(member_name: str) -> LabelKind | None:
    """Which label file a zip member or file name is, if any."""
    for kind, pattern in LABEL_FILE_PATTERNS.items():
        if pattern.search(member_name):
            return kind
    return None


def parse_label_kind(kind: LabelKind, data: bytes, file_name: str) -> pd.DataFrame:
    return parse_department_file(data, file_name) if kind == "departements" else parse_label_file(data, file_name)


def valid_during(labels: pd.DataFrame, year: int) -> pd.DataFrame:
    """Rows valid at some point of `year`; where a code has two such rows, the latest period wins."""
    in_year = labels[(labels["valid_from"] <= year * 100 + 12) & (labels["valid_to"] >= year * 100 + 1)]
    key = "department_code" if "department_code" in labels.columns else "code"
    return in_year.sort_values([key, "valid_from"]).drop_duplicates(key, keep="last").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The reference set (labels of one vintage)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """Label tables of one vintage: the package's copies, overridden by those of a zip."""

    tables: Mapping[LabelKind, pd.DataFrame]
    sources: Mapping[LabelKind, str] = field(default_factory=dict)

    def table(self, kind: LabelKind) -> pd.DataFrame:
        return self.tables[kind]

    def with_overrides(self, files: Mapping[LabelKind, tuple[str, bytes]]) -> Reference:
        """A copy where the given label files (kind → (name, bytes)) replace the packaged ones."""
        tables = dict(self.tables)
        sources = dict(self.sources)
        for kind, (name, data) in files.items():
            tables[kind] = parse_label_kind(kind, data, name)
            sources[kind] = name
        return Reference(tables, sources)

    def department_regions(self, year: int) -> dict[str, str]:
        table = valid_during(self.tables["departements"], year)
        return dict(zip(table["department_code"], table["region_code"], strict=True))

    def known_codes(self, kind: LabelKind, year: int) -> set[str]:
        table = valid_during(self.tables[kind], year)
        return set(table["department_code" if kind == "departements" else "code"])


@lru_cache(maxsize=1)
def packaged_reference() -> Reference:
    """The label files shipped with the package (DGDDI, February 2025 publication)."""
    folder = resources.files("trade_pipeline") / "reference"
    tables = {}
    sources = {}
    for kind, name in PACKAGED_LABEL_FILES.items():
        tables[kind] = parse_label_kind(kind, (folder / name).read_bytes(), name)
        sources[kind] = f"package:{name}"
    return Reference(tables, sources)


# --------------------------------------------------------------------------------------------
# CPF4 → A129
# --------------------------------------------------------------------------------------------

#: NAF rév. 2 groups (first 3 digits of a CPF4 code) or divisions (first 2) → A129 position.
#: Built from the A129 definitions of the NA 2008; the data rows carry both codes, so this table
#: only serves the synthetic sample and consistency reports.
_A129_BY_PREFIX = {
    "01": "A01Z", "02": "A02Z", "03": "A03Z", "05": "B05Z", "06": "B06Z", "07": "B07Z", "08": "B08Z",
    "101": "C10A", "102": "C10B", "103": "C10C", "104": "C10D", "105": "C10E", "106": "C10F",
    "107": "C10G", "108": "C10H", "109": "C10K", "11": "C11Z", "12": "C12Z", "13": "C13Z",
    "14": "C14Z", "15": "C15Z", "16": "C16Z", "171": "C17A", "172": "C17B", "18": "C18Z",
    "19": "C19Z", "201": "C20A", "202": "C20C", "203": "C20C", "204": "C20B", "205": "C20C",
    "206": "C20C", "21": "C21Z", "221": "C22A", "222": "C22B", "231": "C23A", "23": "C23B",
    "241": "C24A", "242": "C24A", "243": "C24A", "244": "C24B", "245": "C24C", "251": "C25A",
    "252": "C25B", "253": "C25B", "254": "C25C", "257": "C25E", "259": "C25E", "261": "C26A",
    "262": "C26B", "263": "C26C", "264": "C26D", "265": "C26E", "266": "C26F", "267": "C26G",
    "268": "C26G", "275": "C27A", "27": "C27B", "281": "C28A", "282": "C28A", "283": "C28B",
    "284": "C28C", "289": "C28D", "291": "C29A", "292": "C29A", "293": "C29B", "301": "C30A",
    "302": "C30B", "303": "C30C", "304": "C30D", "309": "C30E", "31": "C31Z", "321": "C32A",
    "322": "C32A", "325": "C32B", "323": "C32C", "324": "C32C", "329": "C32C", "351": "D35A",
    "352": "D35B", "37": "E37Z", "38": "E38Z", "58": "J58Z", "59": "J59Z", "71": "M71Z",
    "74": "M74Z", "90": "R90Z", "91": "R91Z", "96": "S96Z",
}


def a129_for_cpf4(cpf4_code: str) -> str | None:
    """The A129 position of a CPF4 product, or None for codes outside the goods nomenclature."""
    return _A129_BY_PREFIX.get(cpf4_code[:3]) or _A129_BY_PREFIX.get(cpf4_code[:2])


# --------------------------------------------------------------------------------------------
# Short labels for charts (the official ones reach 155 characters)
# --------------------------------------------------------------------------------------------

OTHERS_CODE = "AUTRES"


@lru_cache(maxsize=1)
def _short_labels() -> dict[tuple[str, str], str]:
    path = resources.files("trade_pipeline") / "reference" / "short_labels.csv"
    frame = pd.read_csv(io.BytesIO(path.read_bytes()), sep=";", dtype=str, keep_default_na=False)
    return {(row.nomenclature, row.code): row.short_label for row in frame.itertuples(index=False)}


def short_label(nomenclature: str, code: str, label: str) -> str:
    """A chart label: curated for countries and A129, else the official label without its
    parenthetical qualifiers and, when its head says enough, its tail. Never cut short: a chart
    wraps a long label (a « … » on paper hides what the reader needs)."""
    if code == OTHERS_CODE:
        return "Autres pays" if nomenclature == "pays" else "Autres produits"
    if (nomenclature, code) in _short_labels():
        return _short_labels()[(nomenclature, code)]
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()  # parenthetical qualifiers go first
    for separator in (" ; ", ", "):  # then the head of the label, if it says enough on its own
        head = text.split(separator)[0]
        if separator in text and len(head) >= 12:
            text = head
            break
    return text
