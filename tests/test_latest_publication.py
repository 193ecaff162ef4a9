"""DGDDI's « dernière publication »: its real layout parses, its vintages are told apart by month,
and what would be ambiguous is refused, naming the file."""

from pathlib import Path

import pytest

from trade_pipeline.ingestion.archives import ArchiveLimits
from trade_pipeline.ingestion.dgddi_files import DataFileError, read_data_file
from trade_pipeline.ingestion.latest_publication import locate_vintages, quarters_held, read_vintage
from trade_pipeline.ingestion.sample_model import generate_latest_rows, generate_rows
from trade_pipeline.ingestion.sources import fetch_latest, files_of_year
from trade_pipeline.lib.nomenclature import PACKAGED_LABEL_FILES, packaged_reference
from trade_pipeline.lib.quarters import Quarter
from trade_pipeline.settings import get_settings
from trade_pipeline.validation.provisional_flows import validate_vintage

from .support import dgddi_line, packaged_label, text, year_zip, zip_bytes

REAL = Path(__file__).parent / "fixtures" / "real"
LIMITS = ArchiveLimits()


def latest_zip(vintage: str, flow: str, lines: list[str], folder: str | None = None) -> tuple[str, bytes]:
    """A zip laid out like DGDDI's latest-publication zips, with the real label files and read-me."""
    word = "export" if flow == "E" else "import"
    inside = folder or f"stat-regional-ce-{word}"
    members = {f"{inside}/REGIONAL_CPF4PAYS{flow}.txt": text(lines),
               f"{inside}/LISEZ-MOI.txt": (REAL / "LISEZ-MOI_latest_publication_2025-02.txt").read_bytes(),
               **{f"{inside}/{name}": packaged_label(name) for name in PACKAGED_LABEL_FILES.values()}}
    return f"{vintage}-stat-regional-ce-{word}.zip", zip_bytes(members)


def write(folder: Path, files: dict[str, bytes]) -> list[Path]:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sorted(folder.iterdir())


def quarter_lines(flow: str, *quarters: tuple[int, int], value: int = 100) -> list[str]:
    return [dgddi_line(flow, q, y, "34", "12", "C11Z", "1102", "US", value, 1) for y, q in quarters]


def test_the_real_latest_publication_rows_and_labels_parse_and_pass_the_contract(tmp_path):
    # The latest-publication rows DGDDI's documentation quotes (Q3 2018), in a zip with the real
    # label files and read-me of the 2025-02 latest-publication zips (packaged byte for byte).
    real = (REAL / "regional_rows_quoted_in_dgddi_docs.txt").read_text().splitlines()
    latest_rows = [line for line in real if line.split(";")[2] == "2018"]
    files = [latest_zip("201811", flow, [line for line in latest_rows if line[0] == flow]) for flow in "EI"]
    vintages = locate_vintages(write(tmp_path, dict(files)), LIMITS)
    assert list(vintages) == ["201811"]
    rows = read_vintage(vintages["201811"], LIMITS)
    assert rows.quarters == {Quarter(2018, 3)}
    frame = rows.rows.to_pandas().sort_values("value_eur")
    assert frame["value_eur"].tolist() == [52, 11228, 29916, 406473]
    assert frame["country_code"].tolist() == ["AR", "BR", "AT", "BE"]
    reference = packaged_reference().with_overrides(vintages["201811"].labels)
    assert validate_vintage(rows, reference).num_rows == 4


def test_vintages_are_told_apart_by_the_month_their_names_start_with(tmp_path):
    held = [(2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3)]
    files = dict(latest_zip(month, flow, quarter_lines(flow, *held)) for month in ("202511", "202512") for flow in "EI")
    files["202512-REGIONAL_CPF4PAYSE.txt"] = text(quarter_lines("E", *held))  # a loose file of the same month
    with pytest.raises(DataFileError, match="several files could each be the export data of the latest publication "
                                            "202512: 202512-REGIONAL_CPF4PAYSE.txt, 202512-stat-regional-ce-export.zip"):
        locate_vintages(write(tmp_path, files), LIMITS)
    (tmp_path / "202512-REGIONAL_CPF4PAYSE.txt").unlink()
    vintages = locate_vintages(sorted(tmp_path.iterdir()), LIMITS)
    assert list(vintages) == ["202511", "202512"]
    assert read_vintage(vintages["202512"], LIMITS).quarters == {Quarter(y, q) for y, q in held}


@pytest.mark.parametrize(("files", "message"), [
    ({"REGIONAL_CPF4PAYSE.txt": quarter_lines("E", (2025, 1)), "REGIONAL_CPF4PAYSI.txt": quarter_lines("I", (2025, 1))},
     "REGIONAL_CPF4PAYSE.txt: a latest-publication file whose name does not say its publication month"),
    ({"202512-REGIONAL_CPF4PAYSE.txt": quarter_lines("E", (2025, 1))},
     "the latest publication 202512 has no import file"),
])
def test_a_latest_publication_that_cannot_be_placed_is_refused_naming_it(tmp_path, files, message):
    with pytest.raises(DataFileError, match=message):
        locate_vintages(write(tmp_path, {name: text(lines) for name, lines in files.items()}), LIMITS)


def test_quarters_with_a_gap_are_refused_naming_the_file():
    table = read_data_file(text(quarter_lines("E", (2024, 4), (2025, 2))), "202512-REGIONAL_CPF4PAYSE.txt")
    with pytest.raises(DataFileError, match=r"202512-REGIONAL_CPF4PAYSE.txt: holds 2024-T4, 2025-T2, with a gap "
                                            r"after 2024-T4"):
        quarters_held(table, "202512-REGIONAL_CPF4PAYSE.txt")


def test_in_a_directory_the_years_keep_their_annual_files_and_the_vintages_feed_the_quarters(tmp_path, monkeypatch):
    source = tmp_path / "source"
    source.mkdir()
    held = [(2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3)]
    write(source, {"202502-Regional-2024-export.zip": year_zip(2024, "E"),
                   "202502-Regional-2024-import.zip": year_zip(2024, "I"),
                   **dict(latest_zip("202512", flow, quarter_lines(flow, *held)) for flow in "EI")})
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", str(source))
    settings = get_settings()
    # A new vintage each month must not change the year's files (nor its fingerprint).
    assert [p.name for p in files_of_year(source, 2024, settings)] == ["202502-Regional-2024-export.zip",
                                                                       "202502-Regional-2024-import.zip"]
    staging = tmp_path / "staging"
    staging.mkdir()
    fetched = fetch_latest(settings, staging)
    assert list(fetched) == ["202512"]
    assert sorted(f.name for f in fetched["202512"].files) == ["202512-stat-regional-ce-export.zip",
                                                               "202512-stat-regional-ce-import.zip"]
    assert not fetched["202512"].synthetic


def test_the_samples_vintages_keep_the_annual_2024_quarters_and_tell_the_tariff_story():
    for flow in "EI":
        annual = generate_rows(2024, flow, 0.02)
        for vintage in ("202511", "202512"):
            latest = generate_latest_rows(vintage, flow, 0.02)
            for quarter in (3, 4):  # the annual file's rows of the quarters both hold, unchanged
                same = latest[(latest["year"] == 2024) & (latest["quarter"] == quarter)].reset_index(drop=True)
                assert same.equals(annual[annual["quarter"] == quarter].reset_index(drop=True))
    november, december = (generate_latest_rows(v, "E", 0.02) for v in ("202511", "202512"))
    annual = generate_rows(2024, "E", 0.02)

    def to_us(frame, year, quarter, activities=("C11Z", "C20B", "C21Z", "C30C", "C28A")):
        chosen = frame[(frame["year"] == year) & (frame["quarter"] == quarter) & (frame["country_code"] == "US")
                       & frame["a129_code"].isin(activities)]
        return chosen["value_eur"].sum()

    # Exports of the exposed activities to the United States fall from mid-2025.
    assert to_us(november, 2025, 3) < 0.8 * to_us(annual, 2024, 3)
    # December revises the last quarter upwards (late declarations), not the first.
    assert december[december["quarter"] == 3]["value_eur"].sum() > november[november["quarter"] == 3]["value_eur"].sum()
    q1 = [frame[(frame["year"] == 2025) & (frame["quarter"] == 1)]["value_eur"].sum() for frame in (november, december)]
    assert q1[0] == q1[1]



def test_the_listing_page_offers_its_newest_latest_publication_beside_the_annual_zips():
    from trade_pipeline.ingestion.download import latest_links, zip_links

    page = """<a href="/files/2025-03/10/202502-Regional-2024-export.zip">annuel</a>
              <a href="/files/2025-11/12/202511-stat-regional-ce-export.zip">x</a>
              <a href="/files/2025-11/12/202511-stat-regional-ce-import.zip">x</a>
              <a href="/files/2025-12/11/202512-stat-regional-ce-export.zip">x</a>
              <a href="/files/2025-12/11/202512-stat-regional-ce-import.zip">x</a>
              <a href="/files/2025-12/11/202512-stat-national-ce-export.zip">national: not ours</a>"""
    links = latest_links(page, "https://example.org/listing")
    assert sorted((link.vintage, link.flow) for link in links) == [("202511", "E"), ("202511", "I"),
                                                                    ("202512", "E"), ("202512", "I")]
    assert links[-1].url == "https://example.org/files/2025-12/11/202512-stat-regional-ce-import.zip"
    # The annual zip is the year's, and only it.
    assert [(link.year, link.flow) for link in zip_links(page, "https://example.org/listing")] == [(2024, "E")]


def test_a_publication_holding_a_quarter_not_ended_by_its_month_is_refused(tmp_path):
    # November 2025 can hold 2025-T3 (ended in September), not 2025-T4.
    files = dict(latest_zip("202511", flow, quarter_lines(flow, (2025, 3), (2025, 4))) for flow in "EI")
    vintages = locate_vintages(write(tmp_path, files), LIMITS)
    with pytest.raises(DataFileError, match="the publication of 202511 holds 2025-T4, a quarter that had not ended"):
        read_vintage(vintages["202511"], LIMITS)
    (tmp_path / "202511-stat-regional-ce-export.zip").unlink()
    (tmp_path / "202511-stat-regional-ce-import.zip").unlink()
    files = dict(latest_zip("202601", flow, quarter_lines(flow, (2025, 3), (2025, 4))) for flow in "EI")
    assert read_vintage(locate_vintages(write(tmp_path, files), LIMITS)["202601"], LIMITS).quarters == {
        Quarter(2025, 3), Quarter(2025, 4)}
