"""Reliability, at the level where each fault is detected: ambiguous inputs, the last good raw
files, one transaction per change, long values, 64-bit overflow, faults that name their line,
settings and data directories, spreadsheet formulas. End-to-end proofs: test_reliability_e2e.py."""

from __future__ import annotations

import io
import logging
import os
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from trade_pipeline import cli
from trade_pipeline.ingestion.archives import ArchiveError, ArchiveLimits, SafeZip
from trade_pipeline.ingestion.dgddi_files import DataFileError, locate_year_files, read_data_file
from trade_pipeline.ingestion.raw_store import RawFile, RawStore, sha256_file
from trade_pipeline.ingestion.sources import YearNotInSource, fetch_year
from trade_pipeline.lib.spreadsheets import csv_bytes
from trade_pipeline.lib.warehouse import transaction
from trade_pipeline.orchestration.dagster_internals import SQLITE_STORAGE
from trade_pipeline.settings import Settings, SettingsError, check_years, get_settings, prepare_data_dir
from trade_pipeline.validation.expectations import Stored, blocking_failures, run_expectations
from trade_pipeline.validation.schema import ContractViolation, trade_flows_schema, validate_trade_flows
from trade_pipeline.validation.trade_flows import combine_files

from .states import run_cli
from .support import small_lines, text, year_zip

LIMITS = ArchiveLimits()
YEAR = 2024


def write(folder: Path, files: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sorted(folder.iterdir())


EXPORTS, IMPORTS = text(small_lines(YEAR, "E")), text(small_lines(YEAR, "I"))
SOME_EXPORTS = text(small_lines(YEAR, "E")[:3])

# ---------------------------------------------------------------------------------------------
# 1. Two files that could each be the year's data are refused, naming them
# ---------------------------------------------------------------------------------------------

AMBIGUOUS = {
    "a truncated copy as Regional_…": {"Region_2024_Export.txt": EXPORTS, "Regional_2024_Export.txt": SOME_EXPORTS},
    "the same name in lower case": {"Region_2024_Export.txt": EXPORTS, "region_2024_export.txt": SOME_EXPORTS},
    "a zip and a loose file": {"202502-Regional-2024-export.zip": year_zip(YEAR, "E"),
                               "Region_2024_Export.txt": SOME_EXPORTS},
    "two zips of the same vintage": {"202502-Regional-2024-export.zip": year_zip(YEAR, "E"),
                                     "202502_regional_2024_export.zip": year_zip(YEAR, "E", small_lines(YEAR, "E")[:3])},
}


@pytest.mark.parametrize("case", list(AMBIGUOUS))
def test_two_files_that_could_each_be_the_data_are_refused(tmp_path, case):
    paths = write(tmp_path, {**AMBIGUOUS[case], "Region_2024_Import.txt": IMPORTS})
    with pytest.raises(DataFileError, match="several files could each be the export data of 2024") as raised:
        locate_year_files(paths, YEAR, LIMITS)
    named = [name for name in AMBIGUOUS[case] if name.endswith(".txt")]
    assert all(name in str(raised.value) for name in named), raised.value


def test_the_annual_file_is_the_years_data_and_the_latest_publication_beside_it_is_left_to_the_quarters(tmp_path):
    paths = write(tmp_path, {"Region_2024_Export.txt": EXPORTS, "REGIONAL_CPF4PAYSE.txt": SOME_EXPORTS,
                             "Region_2024_Import.txt": IMPORTS})
    located = locate_year_files(paths, YEAR, LIMITS)
    assert (located.data["E"].path.name, located.data["I"].path.name) == ("Region_2024_Export.txt",
                                                                        "Region_2024_Import.txt")


def test_two_members_of_the_same_name_in_a_zip_are_refused(tmp_path):
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("Regional-2024-export/Region_2024_Export.txt", EXPORTS)
        archive.writestr("Regional-2024-export/Region_2024_Export.txt", SOME_EXPORTS)
    (tmp_path / "twice.zip").write_bytes(sink.getvalue())
    with pytest.raises(ArchiveError, match="twice.zip: holds two members named 'Regional-2024-export/Region_2024_Export.txt'"):
        SafeZip(tmp_path / "twice.zip")


def test_a_later_vintage_supersedes_an_earlier_one_and_says_so(tmp_path):
    paths = write(tmp_path, {"202502-Regional-2024-export.zip": year_zip(YEAR, "E"),
                             "202510-Regional-2024-export.zip": year_zip(YEAR, "E"), "Region_2024_Import.txt": IMPORTS})
    located = locate_year_files(paths, YEAR, LIMITS)
    assert located.data["E"].path.name == "202510-Regional-2024-export.zip"
    assert located.superseded == ["202502-Regional-2024-export.zip:Regional-2024-export/Region_2024_Export.txt "
                                  "(superseded by 202510-Regional-2024-export.zip:Regional-2024-export/Region_2024_Export.txt)"]


# ---------------------------------------------------------------------------------------------
# 1. A year whose totals move far from what is stored does not pass silently
# ---------------------------------------------------------------------------------------------


def year_rows(lines: list[str] | None = None) -> tuple[pa.Table, object]:
    from trade_pipeline.lib.nomenclature import packaged_reference

    exports = read_data_file(text(lines or small_lines(YEAR, "E")), "Region_2024_Export.txt")
    imports = read_data_file(IMPORTS, "Region_2024_Import.txt")
    rows = combine_files([exports, imports])
    schema = trade_flows_schema(YEAR, packaged_reference().department_regions(YEAR),
                                {"Region_2024_Export.txt": "E", "Region_2024_Import.txt": "I"})
    return validate_trade_flows(rows, schema), packaged_reference()


def stored_like(rows: pa.Table, factor: float = 1.0) -> pd.DataFrame:
    frame = (rows.to_pandas().groupby("flow", observed=True)
             .agg(rows=("value_eur", "size"), value_eur=("value_eur", "sum")).reset_index())
    frame["value_eur"] = (frame["value_eur"] * factor).astype("int64")
    return frame


def consistency(rows, reference, stored: Stored, accept: bool = False):
    outcomes = run_expectations(rows, reference, YEAR, stored, accept)
    return next(o for o in outcomes if o.check_name == "consistent_with_stored"), outcomes


def test_a_partial_year_against_its_stored_vintage_is_refused_unless_accepted():
    rows, reference = year_rows(small_lines(YEAR, "E")[:3])  # most of the exports are missing
    full, _ = year_rows()
    outcome, outcomes = consistency(rows, reference, Stored(stored_like(full), None))
    assert not outcome.passed and outcome.blocking
    message = blocking_failures(outcomes, YEAR)
    assert "exports 2024:" in message and "for the vintage of 2024 already stored" in message
    assert "--accept-change" in message and "accept_change: true" in message and "2024 was not stored" in message
    accepted, outcomes = consistency(rows, reference, Stored(stored_like(full), None), accept=True)
    assert not accepted.passed and not accepted.blocking and accepted.metadata["accepted"]
    assert blocking_failures(outcomes, YEAR) is None


def test_small_revisions_and_ordinary_years_pass():
    rows, reference = year_rows()
    assert consistency(rows, reference, Stored(stored_like(rows, 1.02), stored_like(rows, 0.75)))[0].passed
    assert consistency(rows, reference, Stored(None, None))[0].passed  # a first year: nothing to compare


def test_a_year_far_from_the_year_before_is_refused():
    rows, reference = year_rows()
    outcome, outcomes = consistency(rows, reference, Stored(None, stored_like(rows, 3.0)))
    assert not outcome.passed and "against" in blocking_failures(outcomes, YEAR) and "for 2023" in outcome.metadata["examples"][0]


# ---------------------------------------------------------------------------------------------
# 2. The last good raw files are kept
# ---------------------------------------------------------------------------------------------


def stage(store: RawStore, tmp_path: Path, content: bytes, year: int = YEAR):
    staged = tmp_path / f"staging-{sha256_file_bytes(content)[:8]}"
    staged.mkdir()
    (staged / "Region_2024_Export.txt").write_bytes(content)
    files = [RawFile("Region_2024_Export.txt", sha256_file(staged / "Region_2024_Export.txt"), len(content), "test", "now")]
    return store.commit(year, staged, files, "test", False)


def sha256_file_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_rejected_versions_never_push_out_the_validated_or_published_files(tmp_path):
    store = RawStore(tmp_path / "raw")
    good, _ = stage(store, tmp_path, EXPORTS)
    store.promote(YEAR, good)
    store.pin_published(YEAR, good.version)
    for attempt in range(5):  # five fetched versions, each rejected by validation (never promoted)
        rejected, changed = stage(store, tmp_path, SOME_EXPORTS + f"E;1;2024;34;12;C11Z;1102;DE;{attempt};1\r\n".encode())
        assert changed and store.fetched(YEAR).version == rejected.version
    assert store.current(YEAR).version == good.version
    assert (good.directory / "Region_2024_Export.txt").read_bytes() == EXPORTS
    assert store.fetched(YEAR).directory.exists()


# ---------------------------------------------------------------------------------------------
# 3. A change of the warehouse is one transaction; the error shown is the real one
# ---------------------------------------------------------------------------------------------


class DiskFull(duckdb.IOException):
    pass


def test_a_failed_write_reports_its_own_error_not_the_rollback_s():
    with duckdb.connect(":memory:") as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(duckdb.Error, match="No space left on device"), transaction(connection):
            connection.execute("INSERT INTO t VALUES (1)")
            connection.execute("ROLLBACK")  # what DuckDB does itself when a write fails
            raise DiskFull("IO Error: Could not write file: No space left on device")
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)


# ---------------------------------------------------------------------------------------------
# 4, 5, 7. Row faults name their line and column; long values are cut; beyond 64 bits is said
# ---------------------------------------------------------------------------------------------


def contract_error(data: bytes) -> str:
    frame = read_data_file(data, "Region_2024_Export.txt")
    with pytest.raises(ContractViolation) as raised:
        validate_trade_flows(frame, trade_flows_schema(YEAR, {"34": "12"}, {"Region_2024_Export.txt": "E"}))
    return str(raised.value)


def test_a_15_mib_field_is_reported_cut_with_its_length():
    huge = "X" * (15 * 1024 * 1024)
    message = contract_error(f"E;1;2024;34;12;C11Z;{huge};DE;5;5\n".encode())
    assert len(message) < 2_000
    assert "line 1, column 7 code_CPF4 (cpf4_code): 'XXXX" in message and f"… ({len(huge):,} characters)" in message


def test_many_failing_cells_are_capped_with_their_total_count():
    lines = [f"E;1;2024;34;12;C11Z;1102;DE;-{n};5" for n in range(1, 301)]
    message = contract_error(("\n".join(lines) + "\n").encode())
    assert "300 value(s) break the contract" in message and "… and 275 more" in message
    assert message.count("must be ≥ 0") == 25 + 1  # the 25 listed, and the summary


def test_a_value_beyond_64_bits_is_said_so_as_written():
    message = contract_error(b"E;1;2024;34;12;C11Z;1102;DE;9223372036854775808;5\n")
    assert "line 1, column 9 valeur (value_eur): '9223372036854775808' exceeds the 64-bit integer range" in message
    assert "-9223372036854775808" not in message


def test_invalid_utf8_in_a_code_names_the_line_and_the_dgddi_field():
    data = EXPORTS + "E;1;2024;34;12;C11Z;1102;D\xc9;5;5\r\n".encode("latin-1")
    with pytest.raises(DataFileError) as raised:
        read_data_file(data, "Region_2024_Export.txt")
    assert str(raised.value).startswith("Region_2024_Export.txt, line 10, column 8 code_pays (country_code): "
                                        "byte 0xC9 is not UTF-8")


def test_a_line_longer_than_the_reader_s_block_names_its_line():
    line = b"E;1;2024;34;12;C11Z;1102;DE;5;5\n"
    data = line * 100_000 + b"E;1;2024;34;12;C11Z;1102;DE;" + b"9" * (40 << 20) + b";5\n" + line
    with pytest.raises(DataFileError, match=r"Region_2024_Export.txt, line 100001: 41,943,070 bytes long"):
        read_data_file(data, "Region_2024_Export.txt")


def test_duplicate_rows_name_both_lines_and_the_key_in_dgddi_fields():
    lines = small_lines(YEAR, "E")
    rows, reference = year_rows(lines + [lines[2].replace(";2500000;", ";7;")])
    message = blocking_failures(run_expectations(rows, reference, YEAR), YEAR)
    assert ("no_duplicate_keys: 2 failing rows — Region_2024_Export.txt, lines 3, 10: annee 2024, trimestre 3, flux E, "
            "code_departement 34, code_CPF4 2120, code_pays US") in message


# ---------------------------------------------------------------------------------------------
# 0, 6. Settings, years, sources and data directories: one line naming what and what is allowed
# ---------------------------------------------------------------------------------------------

BAD_SETTINGS = {
    "TRADE_PIPELINE_HTTP_TIMEOUT": ("abc", "a number > 0 is expected"),
    "TRADE_PIPELINE_LOCK_TIMEOUT": ("abc", "a number ≥ 0 is expected"),
    "TRADE_PIPELINE_HTTP_ATTEMPTS": ("0", "a whole number ≥ 1 and ≤ 100 is expected"),
    "TRADE_PIPELINE_FLOW_LINKS_LEVEL": ("xyz", "one of 'a129', 'cpf4' is expected"),
    "TRADE_PIPELINE_REFRESH_CRON": ("every day", "a cron expression"),
    "TRADE_PIPELINE_RENDER_TABS": ("1000", "a whole number ≥ 1 and ≤ 16 is expected"),
    "TRADE_PIPELINE_AUTOMATION_INTERVAL": ("0", "a whole number ≥ 1 is expected"),
    "TRADE_PIPELINE_LISTING_URL": ("ftp://lekiosque", "an http(s) URL is expected"),
    "TRADE_PIPELINE_HTTP_BACKOFF": ("-1", "a number ≥ 0 is expected"),
    "TRADE_PIPELINE_PUBLICATIONS_KEPT": ("0", "a whole number ≥ 1 and ≤ 10000 is expected"),
    "TRADE_PIPELINE_BROWSER_TIMEOUT": ("0", "a number ≥ 1 and ≤ 3600 is expected"),
}


@pytest.mark.parametrize("name", list(BAD_SETTINGS))
def test_a_setting_that_is_not_allowed_is_one_error_line_and_exit_2(name, data_dir, monkeypatch, capsys):
    value, allowed = BAD_SETTINGS[name]
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=re.escape(f"{name}='{value}': {allowed}")):
        get_settings()
    assert cli.main(["build", "--year", "2024"]) == cli.USAGE_ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"error: {name}=") and "Traceback" not in error


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://trade:s3cret@db:5432/dagster", "name the psycopg2 driver, postgresql+psycopg2://trade:***@db:5432/dagster"),
    ("postgres://trade:s3cret@db/dagster", "postgresql+psycopg2://trade:***@db/dagster"),
    ("mysql://trade:s3cret@db/dagster", "=mysql://trade:***@db/dagster: give a PostgreSQL URL"),
])
def test_a_postgresql_url_dagster_cannot_use_is_refused_without_showing_its_password(url, message, data_dir,
                                                                                     monkeypatch, capsys):
    monkeypatch.setenv("TRADE_PIPELINE_DAGSTER_PG_URL", url)
    assert cli.main(["build", "--year", "2024"]) == cli.USAGE_ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "TRADE_PIPELINE_DAGSTER_PG_URL" in error and message in error
    assert "s3cret" not in error


def test_an_unknown_departement_is_a_usage_error_before_anything_is_written(data_dir, capsys):
    assert cli.main(["build", "--year", "2024", "--departement", "96"]) == cli.USAGE_ERROR
    error = capsys.readouterr().err
    assert error == "error: --departement: unknown département code '96' (DGDDI codes: 01–95, 20, 9A–9E, 99)\n"
    assert not data_dir.exists()


def test_a_build_waiting_for_the_lock_says_so_then_gives_up_naming_the_holder(data_dir):
    """Another process holds the data directory: the waiting build says so at once (not a
    silent wait of up to TRADE_PIPELINE_LOCK_TIMEOUT), then fails naming it."""
    import subprocess
    import sys

    from trade_pipeline.lib.warehouse import PipelineBusy, holding_pipeline_lock

    settings = replace(get_settings(), lock_timeout_s=1.0)
    settings.lock_path.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import filelock, sys, time, os; lock = filelock.FileLock(sys.argv[1]); "
                               "lock.acquire(); open(sys.argv[2], 'w').write(str(os.getpid())); print('held', flush=True); "
                               "time.sleep(30)", str(settings.lock_path), str(settings.lock_path.with_suffix(".pid"))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        said = []
        with pytest.raises(PipelineBusy, match=rf"\(pid {holder.pid}\) is writing to .*waited 1 s"), \
                holding_pipeline_lock(settings, on_wait=said.append):
            pass
        assert said == [f"Waiting for another trade_pipeline process (pid {holder.pid}) writing to {settings.data_dir} "
                        "(up to 1 s, TRADE_PIPELINE_LOCK_TIMEOUT)…"]
    finally:
        holder.kill()
        holder.wait()


def test_a_full_disk_is_said_in_words_not_in_duckdb_s_json(tmp_path):
    """DuckDB words ENOSPC as JSON inside its message; the user reads the reason."""
    import subprocess

    from trade_pipeline.lib.warehouse import no_space_message, write_failure_reason

    recorded = duckdb.IOException('IO Error: Async write failed for range [offset=1741982, size=219135]: {"exception_type":'
                                  '"IO","exception_message":"Could not write file \\"/x/trade.csv\\": No space left on '
                                  'device","errno":"28"}')
    errors = [recorded]
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)], capture_output=True).returncode == 0:
        try:
            with duckdb.connect() as connection:
                try:
                    connection.execute(f"COPY (SELECT range, repeat('x', 100) FROM range(100000)) TO '{tiny}/x.csv'")
                except duckdb.IOException as real:
                    errors.append(real)
        finally:
            subprocess.run(["umount", str(tiny)], check=True)
    for error in errors:
        assert write_failure_reason(error) == "No space left on device"
        message = no_space_message(error, Path("/data/warehouse/warehouse.duckdb"))
        assert message.startswith("/data/warehouse/warehouse.duckdb: could not write — No space left on device (")
        assert "{" not in message and "errno" not in message and "\n" not in message
    assert write_failure_reason(OSError(28, "No space left on device", "/x")) == "No space left on device"
    assert no_space_message(duckdb.IOException("IO Error: Could not read file"), Path("/x")) is None


def test_unknown_codes_name_their_file_and_lines():
    """A warning check says which code is unknown and where it stands, as the contract does."""
    lines = small_lines(YEAR, "E")
    lines = [lines[0].replace(";DE;", ";ZZ;"), *lines[1:], lines[2].replace(";US;", ";ZZ;")]
    rows, reference = year_rows(lines)
    outcome = next(o for o in run_expectations(rows, reference, YEAR) if o.check_name == "known_country_codes")
    assert not outcome.passed and outcome.failing_count == 2
    assert outcome.metadata["examples"] == ["ZZ (2 rows: Region_2024_Export.txt, lines 1, 10)"]


def test_a_postgresql_server_that_cannot_be_reached_is_one_error_line(data_dir, monkeypatch, capsys):
    from .ui_support import free_port

    monkeypatch.setenv("TRADE_PIPELINE_DAGSTER_PG_URL", f"postgresql+psycopg2://trade:s3cret@127.0.0.1:{free_port()}/x")
    assert cli.main(["build", "--year", "2024"]) == cli.USAGE_ERROR  # `instance` opens it the same way
    error = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "TRADE_PIPELINE_DAGSTER_PG_URL=postgresql+psycopg2://trade:***@" in error[0]
    assert "cannot connect to PostgreSQL" in error[0] and "s3cret" not in error[0]


def test_the_instance_is_sqlite_unless_a_postgresql_url_is_set(data_dir, capsys):
    """(With a URL: tests/test_production.py, on a real server.)"""
    assert cli.main(["instance"]) == 0
    written = (data_dir / "dagster" / "dagster.yaml").read_text(encoding="utf-8")
    assert f"class: {SQLITE_STORAGE}" in written and "postgres" not in written
    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        assert instance.get_runs_count() == 0
    assert (data_dir / "dagster" / "storage" / "history" / "runs.db").is_file()  # Dagster's SQLite files
    assert capsys.readouterr().out.strip() == f"export DAGSTER_HOME={data_dir / 'dagster'}"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--year", "1999"], "--year 1999: a year from 2015"),
    (["--year", "2031"], "--year 2031: a year from 2015"),
    (["--source", ""], "--source='': give sample, dgddi, a directory or a zip, or an http(s) URL"),
    (["--source", "   "], "--source='   '"),
])
def test_years_and_sources_out_of_range_are_usage_errors(data_dir, capsys, arguments, message):
    assert cli.main(["build", *arguments]) == cli.USAGE_ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not data_dir.exists()  # refused before anything was written


def test_years_run_from_the_first_cpf_year_to_the_last_complete_one():
    from datetime import date

    assert check_years([2015, 2025], today=date(2026, 12, 2)) == [2015, 2025]
    with pytest.raises(SettingsError):
        check_years([2026], today=date(2026, 12, 2))


def test_data_directories_that_cannot_be_ours(tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "thesis.odt").write_text("x")
    for path, reason in ((tmp_path / "a-file", "is a file, not a directory"),
                         (tmp_path / "a-file" / "data", "cannot be created (Not a directory)"),
                         (tmp_path / "theirs", "is not a trade_pipeline data directory (it holds thesis.odt…)")):
        with pytest.raises(SettingsError, match=re.escape(f"TRADE_PIPELINE_DATA_DIR={path}: {reason}")):
            prepare_data_dir(path)
    ours = tmp_path / "ours"
    for entry in ("raw", "warehouse", "dagster"):  # a data directory from before the marker file
        (ours / entry).mkdir(parents=True)
    assert prepare_data_dir(ours) == ours and (ours / ".trade_pipeline").exists()


@pytest.fixture
def read_only_directory(tmp_path):
    """A directory nothing can be written in, even by root: a read-only tmpfs, else an immutable one."""
    import subprocess

    folder = tmp_path / "readonly"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0:
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    elif os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
    else:
        pytest.skip("root here cannot make a read-only directory (no mount, no chattr): not tested on this machine")


def test_a_read_only_data_directory_is_refused(read_only_directory):
    with pytest.raises(SettingsError, match=re.escape(f"TRADE_PIPELINE_DATA_DIR={read_only_directory}: is not writable (")):
        prepare_data_dir(read_only_directory)


def test_the_sample_says_what_to_do_in_the_cli_and_the_ui(tmp_path):
    with pytest.raises(YearNotInSource) as raised:
        fetch_year(Settings(data_dir=tmp_path), 2025, tmp_path)
    message = str(raised.value)
    assert "not 2025" in message and "the partition of the run" in message and "launchpad" in message
    assert "--source" in message


def test_a_year_the_source_does_not_have_is_one_line_in_the_cli_and_never_materialized(tmp_path):
    """`build --year 2025` on the sample: a usage error, one line, nothing written. From the UI,
    the schedule or the launchpad, the run succeeds without materializing the year, and its log
    says why: no red step with a stack trace, no green « Materialized » of nothing."""
    import dagster as dg

    from trade_pipeline.ingestion.assets import raw_trade_files
    from trade_pipeline.orchestration.resources import PipelineSettings, pipeline_resources

    result = run_cli(tmp_path / "data", "build", "--year", "2025", TRADE_PIPELINE_SOURCE="sample")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("error: --year 2025: the embedded sample covers 2015–2024, not 2025")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(tmp_path / "data", "build", "--year", "2024", "--source", str(empty))
    assert result.code == 2 and f"error: --year 2024: {empty}: no DGDDI file for 2024" in result.err

    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([raw_trade_files], partition_key="2025", instance=instance,
                         resources=pipeline_resources(PipelineSettings(data_dir=str(tmp_path / "ui"))))
    assert run.success
    assert instance.get_materialized_partitions(raw_trade_files.key) == set()
    warnings = [e.user_message for e in instance.all_logs(run.run_id) if e.level >= logging.WARNING]
    assert any("not materialized — no data for 2025: the embedded sample covers 2015–2024" in w for w in warnings)


# ---------------------------------------------------------------------------------------------
# 9. Spreadsheets never run a cell as a formula
# ---------------------------------------------------------------------------------------------


def test_text_cells_that_start_like_a_formula_are_defused_numbers_are_not():
    table = pd.DataFrame({"pays": ["=HYPERLINK(\"http://x\",\"y\")", "+33", "-Autres", "@SUM(A1)", "\tx", "\rx", "France"],
                          "valeur_eur": [-5, 3, -2, 0, 1, 1, 7], "part": [-0.5, 0.1, 0.2, 0.0, 0.1, 0.1, 0.0]})
    read = pd.read_csv(io.BytesIO(csv_bytes(table)), sep=";", decimal=",", dtype={"pays": str}, encoding="utf-8-sig",
                       keep_default_na=False)
    assert list(read["pays"]) == ["'=HYPERLINK(\"http://x\",\"y\")", "'+33", "'-Autres", "'@SUM(A1)", "'\tx", "'\rx", "France"]
    assert list(read["valeur_eur"]) == [-5, 3, -2, 0, 1, 1, 7]  # numbers stay numbers
    assert list(read["part"]) == [-0.5, 0.1, 0.2, 0.0, 0.1, 0.1, 0.0]
