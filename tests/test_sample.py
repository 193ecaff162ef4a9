"""The embedded synthetic sample: DGDDI format, realistic structure, published 2024 totals."""

import hashlib
import io
import zipfile

import pytest

from trade_pipeline.ingestion.dgddi_files import read_data_file
from trade_pipeline.ingestion.sample import data_file_bytes, sample_files
from trade_pipeline.ingestion.sample_model import BASE_ROWS_PER_FLOW, PUBLISHED_2024_TOTALS, generate_rows
from trade_pipeline.lib.provenance import SYNTHETIC_LABEL
from trade_pipeline.lib.territories import department_codes


@pytest.fixture(scope="module")
def rows_2024():
    return {flow: generate_rows(2024, flow) for flow in "EI"}


def test_same_bytes_on_every_call():
    first = [hashlib.sha256(f.data).hexdigest() for f in sample_files(2023)]
    second = [hashlib.sha256(f.data).hexdigest() for f in sample_files(2023)]
    assert first == second


@pytest.mark.parametrize("flow", ["E", "I"])
def test_2024_totals_reproduce_the_published_figures_at_0_1_meur(rows_2024, flow):
    rows = rows_2024[flow]
    def meur(mask):
        return round(rows.loc[mask, "value_eur"].sum() / 1e6, 1)
    assert meur(rows["department_code"] == "34") == PUBLISHED_2024_TOTALS["departement-34"][flow] / 1e6
    assert meur(rows["region_code"] == "12") == PUBLISHED_2024_TOTALS["region-12"][flow] / 1e6
    assert meur(rows["value_eur"] >= 0) == PUBLISHED_2024_TOTALS["france"][flow] / 1e6
    expected = {"E": (2674.2, 49453.9, 580354.5), "I": (4818.7, 37655.4, 684776.3)}[flow]
    assert (meur(rows["department_code"] == "34"), meur(rows["region_code"] == "12"), meur(rows["value_eur"] >= 0)) == expected


def test_realistic_structure(rows_2024):
    for flow, rows in rows_2024.items():
        assert len(rows) >= 100_000, flow
        assert set(rows["department_code"]) == set(department_codes())
        assert set(rows["quarter"]) == {1, 2, 3, 4}
        assert {"NA", "QU", "EU"} <= set(rows["country_code"])
        assert not rows.duplicated(["quarter", "department_code", "cpf4_code", "country_code"]).any()
        per_department = rows.groupby("department_code").size()
        assert per_department.min() >= 100  # many CPF4 × country cells in every département
        values = rows["value_eur"]
        assert values.max() / values.median() > 1_000  # heavy-tailed
        assert values.quantile(0.99) / values.median() > 30
    assert (rows_2024["E"]["value_eur"] > 2**31).any()


def test_files_are_in_the_exact_dgddi_format(rows_2024):
    text = data_file_bytes(rows_2024["E"].head(3)).decode()
    for line in text.splitlines():
        fields = line.split(";")
        assert len(fields) == 10 and fields[0] == "E" and fields[2] == "2024"
    assert not text.startswith("flow")  # no header line


def test_zips_hold_data_labels_and_a_synthetic_notice():
    export, import_ = sample_files(2022)
    assert (export.name, import_.name) == ("202302-Regional-2022-export.zip", "202302-Regional-2022-import.zip")
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        names = archive.namelist()
        assert "Regional-2022-export/Region_2022_Export.txt" in names
        assert "Regional-2022-export/Libelle_CPF4_rev2.1.txt" in names
        assert SYNTHETIC_LABEL in archive.read("Regional-2022-export/LISEZ-MOI.txt").decode()
        frame = read_data_file(archive.read("Regional-2022-export/Region_2022_Export.txt"), "x")
    assert frame.num_rows >= 100_000 and set(frame["year"].to_pylist()) == {2022}


def test_scale_multiplies_rows():
    assert len(generate_rows(2024, "E", scale=0.1)) < len(generate_rows(2024, "E", scale=0.3))
    assert BASE_ROWS_PER_FLOW * 14 >= 1_500_000


def test_years_outside_the_sample_are_refused():
    with pytest.raises(ValueError, match="covers 2015–2024, not 2014"):
        generate_rows(2014, "E")


@pytest.mark.parametrize("as_text", [False, True], ids=["zips", "text files"])
def test_files_written_by_sample_stay_synthetic_wherever_they_are_read(tmp_path, as_text):
    """`trade-pipeline sample` files used as a source keep their label: fiches built from them keep
    the « données fictives » banner. The same rows without the sample's LISEZ-MOI are not marked."""
    from trade_pipeline.ingestion.sample import README_NAME, write_sample
    from trade_pipeline.ingestion.sources import fetch_year
    from trade_pipeline.settings import Settings

    folder = tmp_path / "sample"
    write_sample(folder, 2023, as_text=as_text)
    staging = tmp_path / "staging"
    staging.mkdir()
    fetched = fetch_year(Settings(data_dir=tmp_path / "data", source=str(folder)), 2023, staging)
    assert fetched.synthetic and fetched.source == str(folder)
    # The same data files, without the marked LISEZ-MOI.txt: not recognised as the sample.
    plain = tmp_path / "plain"
    plain.mkdir()
    for path in folder.iterdir():
        if path.name == README_NAME:
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as source, zipfile.ZipFile(plain / path.name, "w") as target:
                for info in source.infolist():
                    if not info.filename.endswith(README_NAME):
                        target.writestr(info, source.read(info))
        else:
            (plain / path.name).write_bytes(path.read_bytes())
    other = tmp_path / "staging-plain"
    other.mkdir()
    assert not fetch_year(Settings(data_dir=tmp_path / "data", source=str(plain)), 2023, other).synthetic


def test_a_damaged_zip_is_not_taken_for_the_sample(tmp_path):
    """The marker is looked for before the archive check: a damaged zip must reach that check (which
    names the damage), not fail while its LISEZ-MOI is read."""
    from trade_pipeline.ingestion.sample import is_sample_file, sample_files

    data = bytearray(sample_files(2023)[0].data)
    start = data.index(b"LISEZ-MOI.txt") + 40  # inside the notice's compressed bytes
    data[start:start + 64] = bytes(64)
    path = tmp_path / "202402-Regional-2023-export.zip"
    path.write_bytes(bytes(data))
    assert is_sample_file(path) is False
