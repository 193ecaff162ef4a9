"""Parsing the DGDDI data files: the real rows of the DGDDI documentation and the format traps."""

from pathlib import Path

import pyarrow as pa
import pytest

from trade_pipeline.ingestion.archives import ArchiveLimits
from trade_pipeline.ingestion.dgddi_files import (
    DataFileError,
    classify_data_member,
    classify_zip_name,
    locate_year_files,
    read_data_file,
    restrict_to_year,
)
from trade_pipeline.tables import FILE_COLUMNS

from .support import dgddi_line, year_zip

REAL = Path(__file__).parent / "fixtures" / "real"


def test_real_documented_rows_parse_to_their_documented_values():
    frame = read_data_file((REAL / "regional_rows_quoted_in_dgddi_docs.txt").read_bytes(), "doc.txt").to_pandas()
    first = frame.iloc[0]
    # DOC-ANNUAL p.10: import, Q1 2017, dept 01 (Ain), DGDDI region 18, A01Z, 0111, Argentina, 122 €, 30 kg.
    assert [first[c] for c in FILE_COLUMNS] == ["I", 1, 2017, "01", "18", "A01Z", "0111", "AR", 122, 30]
    assert frame["value_eur"].tolist() == [122, 35259, 867425, 1559516, 52, 29916, 406473, 11228]
    assert frame["mass_kg"].tolist() == [30, 22446, 2153810, 6021171, 11, 20815, 1210935, 250]
    assert frame["country_code"].tolist() == ["AR", "AT", "BE", "CH", "AR", "AT", "BE", "BR"]
    assert frame["quarter"].tolist() == [1, 1, 1, 1, 3, 3, 3, 3]
    assert frame["source_line"].tolist() == list(range(1, 9))


def test_codes_stay_text_and_values_stay_64_bit():
    lines = [dgddi_line("E", 1, 2024, "01", "18", "A01Z", "0111", "NA", 3_000_000_000, 5),
             dgddi_line("E", 2, 2024, "9A", "24", "C30C", "3030", "QU", 12, 0)]
    frame = read_data_file(("\r\n".join(lines) + "\r\n").encode(), "crlf.txt").to_pandas()
    assert frame["country_code"].tolist() == ["NA", "QU"]  # Namibia is not a missing value
    assert frame["department_code"].tolist() == ["01", "9A"]
    assert frame["cpf4_code"].tolist() == ["0111", "3030"]
    assert frame["value_eur"].dtype == "int64" and frame["value_eur"].iloc[0] == 3_000_000_000
    assert frame["mass_kg"].tolist() == [5, 0]  # no stray carriage return in the last field


def test_blank_lines_are_skipped_without_shifting_line_numbers():
    good = dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1)
    frame = read_data_file(f"{good}\n\n{good.replace('DE', 'BE')}\n".encode(), "blank.txt").to_pandas()
    assert frame["source_line"].tolist() == [1, 3]


def test_wrong_number_of_fields_names_file_and_lines():
    good = dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1)
    data = f"{good}\n{good};extra\n{good}\nE;1;2024;34\n".encode()
    with pytest.raises(DataFileError) as error:
        read_data_file(data, "Region_2024_Export.txt")
    message = str(error.value)
    assert "2 line(s) do not have the 10 DGDDI fields" in message
    assert "Region_2024_Export.txt, line 2: expected 10 fields, found 11" in message
    assert "Region_2024_Export.txt, line 4: expected 10 fields, found 4" in message


def test_empty_and_non_utf8_files():
    with pytest.raises(DataFileError, match="empty.txt: the file is empty"):
        read_data_file(b"", "empty.txt")
    with pytest.raises(DataFileError, match=r"latin.txt, line 1, column 10 masse \(mass_kg\): byte 0xE9 is not UTF-8"):
        read_data_file(dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1).encode() + b"\xe9\n", "latin.txt")


def test_non_numeric_value_keeps_its_line_for_validation():
    good = dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1)
    frame = read_data_file(f"{good}\n{good.replace(';10;', ';1O;')}\n".encode(), "x.txt").to_pandas()
    assert frame["value_eur"].tolist() == ["10", "1O"]
    assert frame["source_line"].tolist() == [1, 2]


def test_file_names_of_annual_and_latest_products():
    assert classify_data_member("Regional-2019-export/Region_2019_Export.txt").year == 2019
    assert classify_data_member("Regional_2021_Import.txt").flow == "I"
    latest = classify_data_member("REGIONAL_CPF4PAYSE.txt")
    assert latest.flow == "E" and latest.year is None
    assert classify_data_member("Libelle_PAYS.txt") is None
    assert classify_zip_name("202002-Regional-2019-export.zip").year == 2019
    assert classify_zip_name("202201-stat-national-ce-import.zip") is None


def test_locate_year_files_in_zips_prefers_the_latest_vintage(tmp_path):
    (tmp_path / "202502-Regional-2024-export.zip").write_bytes(year_zip(2024, "E"))
    (tmp_path / "202510-Regional-2024-export.zip").write_bytes(year_zip(2024, "E"))
    (tmp_path / "202502-Regional-2024-import.zip").write_bytes(year_zip(2024, "I"))
    files = locate_year_files(sorted(tmp_path.iterdir()), 2024, ArchiveLimits())
    assert files.data["E"].path.name == "202510-Regional-2024-export.zip"
    assert files.data["I"].member == "Regional-2024-import/Region_2024_Import.txt"
    assert set(files.labels) == {"pays", "cpf4", "a129", "departements"}


def test_latest_publication_file_is_restricted_to_a_complete_year():
    lines = [dgddi_line("E", q, y, "34", "12", "C11Z", "1102", "DE", 10, 1)
             for y, q in [(2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4)]]
    frame = read_data_file("\n".join(lines).encode(), "REGIONAL_CPF4PAYSE.txt")
    assert restrict_to_year(frame, 2024, "REGIONAL_CPF4PAYSE.txt")["quarter"].to_pylist() == [1, 2, 3, 4]
    with pytest.raises(DataFileError, match="holds quarters 4 of 2023, not the four quarters"):
        restrict_to_year(frame, 2023, "REGIONAL_CPF4PAYSE.txt")


def test_missing_flow_is_reported(tmp_path):
    (tmp_path / "202502-Regional-2024-export.zip").write_bytes(year_zip(2024, "E"))
    with pytest.raises(DataFileError, match="no import data file for 2024"):
        locate_year_files([tmp_path / "202502-Regional-2024-export.zip"], 2024, ArchiveLimits())


def test_rows_stay_compact_arrow_columns():
    lines = [dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", i, 1) for i in range(1000)]
    table = read_data_file("\n".join(lines).encode(), "x.txt")
    assert table.schema.field("department_code").type == pa.string()
    assert table["source_file"].num_chunks == 1 and pa.types.is_dictionary(table.schema.field("source_file").type)
    assert table["source_file"].chunk(0).dictionary.to_pylist() == ["x.txt"]  # the name once, not per row
