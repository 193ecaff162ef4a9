"""Bad input: each case is refused where it is detected, with a message naming the file (line,
column); one case per layer also goes through the whole CLI and leaves nothing changed.

The layers, in the order the pipeline meets them (the first two run in `raw_trade_files`,
before a new raw version becomes current; the others in `trade_flows`, before the warehouse):
the archive reader (`SafeZip`), the file locator and the label files (`check_year_files`), the
parser (`read_year`), the pandera contract (`validate_year`), the blocking Great Expectations
checks (`run_expectations`). Network faults are tested where they are detected too, in
test_download_faults.py; one of them goes end to end here.
"""

import hashlib
from pathlib import Path

import pytest

from trade_pipeline.ingestion.archives import ArchiveError, ArchiveLimits
from trade_pipeline.ingestion.dgddi_files import DataFileError, check_year_files
from trade_pipeline.ingestion.raw_store import RawFile, RawVersion
from trade_pipeline.lib.nomenclature import LabelFileError
from trade_pipeline.validation.expectations import blocking_failures, run_expectations
from trade_pipeline.validation.schema import ContractViolation
from trade_pipeline.validation.trade_flows import read_year, validate_year

from .states import copy_state, run_cli, shared_state
from .support import (
    LocalServer,
    dgddi_line,
    fiche_checksums,
    hostile_zip,
    packaged_label,
    serve_then,
    small_lines,
    status_answer,
    year_zip,
    zip_bytes,
)

YEAR = 2024


def with_line(lines: list[str], index: int, line: str) -> list[str]:
    changed = list(lines)
    changed[index] = line
    return changed


GOOD_E, GOOD_I = year_zip(YEAR, "E"), year_zip(YEAR, "I")
LINES_E = small_lines(YEAR, "E")


def _truncated() -> bytes:
    return GOOD_E[: len(GOOD_E) // 2]


def _zip_without_data() -> bytes:
    return zip_bytes({f"Regional-{YEAR}-export/Libelle_PAYS.txt": packaged_label("Libelle_PAYS.txt")})


#: case → (layer that refuses it, (export zip, import zip), phrases of the message)
CASES = {
    "missing file": ("locator", lambda: (None, GOOD_I), ["no export data file for 2024"]),
    "truncated zip": ("archive", lambda: (_truncated(), GOOD_I),
                      ["202502-Regional-2024-export.zip", "damaged or truncated zip"]),
    "zip without data file": ("locator", lambda: (_zip_without_data(), GOOD_I), ["no export data file for 2024"]),
    "wrong number of fields": ("parser", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 1, LINES_E[1] + ";42")), GOOD_I),
                               ["Region_2024_Export.txt, line 2: expected 10 fields, found 11"]),
    "non-numeric value": ("contract", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 2, LINES_E[2].replace(";2500000;", ";2,5E6;"))), GOOD_I),
                          ["Region_2024_Export.txt, line 3, column 9 valeur (value_eur): '2,5E6' is not an integer"]),
    "negative value": ("contract", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 0, LINES_E[0].replace(";1200000;", ";-1200000;"))), GOOD_I),
                       ["line 1, column 9 valeur (value_eur): '-1200000' must be ≥ 0"]),
    "unknown département code": (
        "contract", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 3, dgddi_line("E", 4, YEAR, "98", "12", "A01Z", "0111", "NA", 5, 4))), GOOD_I),
        ["line 4, column 4 code_departement (department_code): '98' not an allowed value"]),
    "région inconsistent with département": (
        "contract", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 0, LINES_E[0].replace(";34;12;", ";34;13;"))), GOOD_I),
        ["line 1, column 5 code_region (region_code): '13' is not the région of this département"]),
    "rows of another year": (
        "contract", lambda: (year_zip(YEAR, "E", with_line(LINES_E, 4, LINES_E[4].replace(f";{YEAR};", ";2023;"))), GOOD_I),
        ["line 5, column 3 annee (year): '2023' is not the year being loaded"]),
    "empty file": ("parser", lambda: (year_zip(YEAR, "E", []), GOOD_I), ["Region_2024_Export.txt: the file is empty"]),
    "undecodable label file": (
        "labels", lambda: (year_zip(YEAR, "E", labels={"Libelle_PAYS.txt": b"AD;Andorre\x81\x90;190001;999912\r\n"}), GOOD_I),
        ["Libelle_PAYS.txt: cannot decode the file as UTF-8 or Windows-1252"]),
    "label a spreadsheet would run": (
        "labels", lambda: (year_zip(YEAR, "E", labels={"Libelle_PAYS.txt": packaged_label("Libelle_PAYS.txt").replace(
            b"BE;Belgique;", b'BE;"=HYPERLINK(""http://x.example/"",""click"")";')}), GOOD_I),
        ["Libelle_PAYS.txt, line", "column 2 (Libellé): '=HYPERLINK(", "which a spreadsheet would run as a formula; refused"]),
    "label longer than a cell": (
        "labels", lambda: (year_zip(YEAR, "E", labels={"Libelle_PAYS.txt": packaged_label("Libelle_PAYS.txt").replace(
            b"BE;Belgique;", b"BE;" + b"Belgique " * 4_000 + b";")}), GOOD_I),
        ["Libelle_PAYS.txt, line", "column 2 (Libellé): a text of 35,999 characters",
         "longer than a spreadsheet cell holds (32,767); refused"]),
    "path traversal member": ("archive", lambda: (hostile_zip("traversal"), GOOD_I), ["escapes the archive with '..'; refused"]),
    "absolute path member": ("archive", lambda: (hostile_zip("absolute"), GOOD_I), ["'/tmp/evil.txt' has an absolute path"]),
    "symbolic link member": ("archive", lambda: (hostile_zip("symlink"), GOOD_I), ["is a symbolic link; refused"]),
    "zip bomb": ("archive", lambda: (hostile_zip("bomb"), GOOD_I), ["refused as a possible zip bomb"]),
    "HTML page named .zip": ("archive", lambda: (b"<html><body>Erreur 500</body></html>", GOOD_I),
                             ["202502-Regional-2024-export.zip: not a zip file (it holds an HTML page)"]),
    "duplicate keys": ("checks", lambda: (year_zip(YEAR, "E", LINES_E + [LINES_E[0].replace(";1200000;", ";7;")]), GOOD_I),
                       ["no_duplicate_keys: 2 failing rows", "2024 was not stored"]),
}


def source_dir(root: Path, name: str, export: bytes | None, import_: bytes | None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for word, data in (("export", export), ("import", import_)):
        if data is not None:
            (folder / f"202502-Regional-{YEAR}-{word}.zip").write_bytes(data)
    return folder


def first_refusal(folder: Path) -> tuple[str, str]:
    """The pipeline's checks of a year's files in their order: (layer, message) of the first
    that refuses them, ('accepted', '') when none does."""
    limits = ArchiveLimits()
    paths = sorted(folder.iterdir())
    try:
        check_year_files(paths, YEAR, limits)
    except ArchiveError as error:
        return "archive", str(error)
    except DataFileError as error:
        return "locator", str(error)
    except LabelFileError as error:
        return "labels", str(error)
    raw = RawVersion(YEAR, "v", str(folder), False, tuple(RawFile(p.name, "", 0, str(p), "") for p in paths), folder)
    try:
        rows = read_year(raw, limits)
    except DataFileError as error:
        return "parser", str(error)
    try:
        validated = validate_year(rows)
    except ContractViolation as error:
        return "contract", str(error)
    refusal = blocking_failures(run_expectations(validated, rows.reference, YEAR), YEAR)
    return ("checks", refusal) if refusal else ("accepted", "")


def test_good_files_pass_every_layer(tmp_path):
    assert first_refusal(source_dir(tmp_path, "good", GOOD_E, GOOD_I)) == ("accepted", "")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_where_it_is_detected(tmp_path, case):
    layer, make, phrases = CASES[case]
    folder = source_dir(tmp_path, "source", *make())
    detected, message = first_refusal(folder)
    assert detected == layer, message
    for phrase in phrases:
        assert phrase in message, message
    assert not list(tmp_path.rglob("evil.txt")) and not Path("/tmp/evil.txt").exists()


# End to end: one case per layer through `trade-pipeline build`, on a data directory where 2024
# was built and published from good files.


def _good_build(folder: Path) -> None:
    good = source_dir(folder, "good", GOOD_E, GOOD_I)
    # Hérault's fiche, its région's and France's (every layer refuses before the territories).
    result = run_cli(folder / "data", "build", "--year", str(YEAR), "--source", str(good), "--departement", "34")
    assert result.code == 0, result.out[-3000:] + result.err[-3000:]


@pytest.fixture
def good_build(tmp_path_factory, tmp_path) -> Path:
    """A private copy of the good build (the bad builds must change nothing in it)."""
    return copy_state(shared_state(tmp_path_factory, "bad_input_good_build", _good_build), tmp_path / "state") / "data"


def published(data: Path) -> tuple:
    """The published store (bytes and mtime) and every fiche."""
    store = data / "published" / "trade.duckdb"
    return hashlib.sha256(store.read_bytes()).hexdigest(), store.stat().st_mtime_ns, fiche_checksums(data)


def raw_files(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted((data / "raw").rglob("*")) if p.is_file()}


#: Layers that refuse a year before its files become the current raw version. The later ones
#: (parser, contract, checks) still let the refused files become current (issue 11).
BEFORE_THE_RAW_STORE = ("archive", "locator", "labels", "network")


def refused_end_to_end(data: Path, source: str, phrases: list[str], layer: str, **variables: str) -> None:
    before, raw_before = published(data), raw_files(data)
    result = run_cli(data, "build", "--year", str(YEAR), "--source", source,
                     TRADE_PIPELINE_HTTP_ATTEMPTS="2", **variables)
    assert result.code == 1, result.out[-2000:]
    for phrase in phrases:
        assert phrase in result.err, result.err
    assert "Nothing already published was changed" in result.err
    assert published(data) == before
    if layer in BEFORE_THE_RAW_STORE:
        assert raw_files(data) == raw_before
    assert not [p for p in (data / "raw").rglob("*") if ".staging" in p.parts and p.is_file()]


END_TO_END = ["zip bomb", "missing file", "undecodable label file", "wrong number of fields", "non-numeric value",
              "duplicate keys"]


@pytest.mark.slow
@pytest.mark.parametrize("case", END_TO_END, ids=[f"{CASES[c][0]}: {c}" for c in END_TO_END])
def test_bad_input_end_to_end_changes_nothing(good_build, tmp_path, case):
    layer, make, phrases = CASES[case]
    source = source_dir(tmp_path, "bad", *make())
    refused_end_to_end(good_build, str(source), phrases, layer)
    assert not list(tmp_path.rglob("evil.txt"))


@pytest.mark.slow
def test_network_fault_end_to_end_keeps_the_last_good_year(good_build):
    with LocalServer() as server:
        serve_then(server, "/fichiers/202502-Regional-2024-export.zip", [], status_answer(500))
        url = server.url + "/fichiers/202502-Regional-2024-export.zip"
        refused_end_to_end(good_build, url, [url, "failed after 2 attempt(s): HTTP 500"], "network")


@pytest.mark.slow
def test_changed_listing_page_end_to_end_keeps_the_last_good_year(good_build):
    with LocalServer() as server:
        server.serve_bytes("/listing", b"<html><body><div id='app'></div></body></html>", "text/html")
        refused_end_to_end(good_build, "dgddi", [f"{server.url}/listing: no regional annual zip link"], "network",
                           TRADE_PIPELINE_LISTING_URL=server.url + "/listing")
