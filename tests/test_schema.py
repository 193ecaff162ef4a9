"""The pandera contract: every violation is reported with its file, line, column and value."""

import pandas as pd
import pyarrow as pa
import pytest

from trade_pipeline.ingestion.dgddi_files import read_data_file
from trade_pipeline.lib.nomenclature import packaged_reference
from trade_pipeline.validation.schema import ContractViolation, trade_flows_schema, validate_trade_flows
from trade_pipeline.validation.trade_flows import combine_files

from .support import dgddi_line, small_lines, text

FILE = "Region_2024_Export.txt"


def validate(lines, year=2024, flow="E"):
    frame = read_data_file(text(lines), FILE)
    schema = trade_flows_schema(year, packaged_reference().department_regions(year), {FILE: flow})
    return validate_trade_flows(frame, schema)


def failures(lines, **kwargs) -> pd.DataFrame:
    with pytest.raises(ContractViolation) as error:
        validate(lines, **kwargs)
    assert "nothing was stored" in str(error.value)
    return error.value.failures


def test_valid_rows_pass_with_their_types():
    validated = validate(small_lines(2024, "E"))
    assert validated.num_rows == len(small_lines(2024, "E"))
    assert validated.schema.field("value_eur").type == pa.int64()
    assert max(validated["value_eur"].to_pylist()) == 3_000_000_000


@pytest.mark.parametrize(
    ("bad", "column", "field", "rule"),
    [
        (dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", -5, 1), 9, "valeur (value_eur)", "must be ≥ 0"),
        (dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, -1), 10, "masse (mass_kg)", "must be ≥ 0"),
        ("E;1;2024;34;12;C11Z;1102;DE;12x;1", 9, "valeur (value_eur)", "is not an integer"),
        (dgddi_line("E", 5, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1), 2, "trimestre (quarter)", "not an allowed value"),
        (dgddi_line("E", 1, 2023, "34", "12", "C11Z", "1102", "DE", 10, 1), 3, "annee (year)", "is not the year being loaded"),
        (dgddi_line("E", 1, 2024, "96", "22", "C11Z", "1102", "DE", 10, 1), 4, "code_departement (department_code)", "not an allowed value"),
        (dgddi_line("E", 1, 2024, "34", "13", "C11Z", "1102", "DE", 10, 1), 5, "code_region (region_code)", "is not the région of this département"),
        (dgddi_line("E", 1, 2024, "34", "12", "C11", "1102", "DE", 10, 1), 6, "code_A129 (a129_code)", "does not match the code pattern"),
        (dgddi_line("E", 1, 2024, "34", "12", "C11Z", "111", "DE", 10, 1), 7, "code_CPF4 (cpf4_code)", "does not match the code pattern"),
        (dgddi_line("E", 1, 2024, "34", "12", "C11Z", "1102", "de", 10, 1), 8, "code_pays (country_code)", "does not match the code pattern"),
        (dgddi_line("I", 1, 2024, "34", "12", "C11Z", "1102", "DE", 10, 1), 1, "flux (flow)", "does not match the file's flow"),
    ],
)
def test_each_violation_names_file_line_column_and_value(bad, column, field, rule):
    lines = small_lines(2024, "E")
    lines.insert(2, bad)
    found = failures(lines)
    row = found[(found["column"] == column) & found["rule"].str.contains(rule, regex=False)].iloc[0]
    assert (row["file"], row["line"], row["field"]) == (FILE, 3, field)
    assert set(found["line"]) == {3}  # the good rows around it are not blamed


def test_one_bad_cell_does_not_hide_others_in_its_column():
    lines = small_lines(2024, "E")
    lines[0] = lines[0].replace(";1200000;", ";oops;")
    lines[1] = lines[1].replace(";800000;", ";-800000;")
    found = failures(lines)
    assert found[["line", "column", "value"]].values.tolist() == [[1, 9, "oops"], [2, 9, "-800000"]]


def test_every_row_holding_a_failing_value_or_pair_is_reported():
    lines = small_lines(2024, "E")
    bad_code = dgddi_line("E", 1, 2024, "34", "12", "C11Z", "111", "DE", 10, 1)
    bad_pair = dgddi_line("E", 2, 2024, "34", "13", "C11Z", "1102", "IT", 10, 1)
    lines[1:1] = [bad_code, bad_pair]
    lines += [bad_code.replace(";DE;", ";BE;"), bad_pair.replace(";IT;", ";ES;")]
    found = failures(lines)
    assert sorted(found.loc[found["column"] == 7, "line"]) == [2, len(lines) - 1]
    assert sorted(found.loc[found["column"] == 5, "line"]) == [3, len(lines)]


def test_a_bad_integer_in_one_file_does_not_hide_the_same_line_of_another():
    export = read_data_file(text(small_lines(2024, "E")[:2]), FILE)
    imports = read_data_file(text([small_lines(2024, "I")[0].replace(";4000000;", ";x;"),
                                   small_lines(2024, "I")[1].replace(";MA;", ";ma;")]), "Region_2024_Import.txt")
    frame = combine_files([export, imports])  # the export file is typed, the import file read as text
    schema = trade_flows_schema(2024, packaged_reference().department_regions(2024),
                                {FILE: "E", "Region_2024_Import.txt": "I"})
    with pytest.raises(ContractViolation) as error:
        validate_trade_flows(frame, schema)
    found = error.value.failures
    assert found[["file", "line", "column"]].values.tolist() == [
        ["Region_2024_Import.txt", 1, 9], ["Region_2024_Import.txt", 2, 8]]


def test_duplicate_keys_are_named_once_each_with_their_lines_and_fields():
    """The blocking uniqueness expectation (Great Expectations over one exact integer key per
    row): every repeated key is reported once, with the file and lines that hold it and its
    value in each DGDDI field; keys that differ in a single field are not mixed up."""
    from trade_pipeline.validation.expectations import run_expectations

    lines = small_lines(2024, "E")
    twice, thrice = lines[0], lines[1]
    fields = twice.split(";")
    near = ";".join([*fields[:7], "US" if fields[7] != "US" else "DE", *fields[8:]])  # another country only
    rows = validate([*lines, twice.replace(f";{fields[8]};", ";7;"), thrice, near, thrice])
    outcomes = {o.check_name: o for o in run_expectations(rows, packaged_reference(), 2024)}
    duplicates = outcomes["no_duplicate_keys"]
    assert not duplicates.passed and duplicates.blocking and duplicates.failing_count == 5
    first, last = len(lines) + 1, len(lines) + 4
    assert duplicates.metadata["examples"] == [
        f"{FILE}, lines 1, {first}: annee 2024, trimestre {fields[1]}, flux E, code_departement {fields[3]}, "
        f"code_CPF4 {fields[6]}, code_pays {fields[7]}",
        f"{FILE}, lines 2, {first + 1}, {last}: annee 2024, trimestre {thrice.split(';')[1]}, flux E, "
        f"code_departement {thrice.split(';')[3]}, code_CPF4 {thrice.split(';')[6]}, code_pays {thrice.split(';')[7]}"]
    assert run_expectations(validate(lines), packaged_reference(), 2024)[0].passed
