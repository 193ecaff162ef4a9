"""Reliability end to end, through `trade-pipeline` on a data directory with a good build: what
the user sees, and that nothing published or stored changed (the detection of each fault is
tested in test_reliability.py)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import resource
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from .states import NO_BROWSER, copy_state, run_cli
from .support import fiche_checksums, state, table_checksums

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("trade-pipeline"))


def rewritten_zip(archive: Path, target: Path, keep: float = 1.0, extra: dict[str, bytes] | None = None) -> Path:
    """A copy of a DGDDI zip whose data file keeps only its first `keep` of lines (plus members)."""
    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist()}
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in {**members, **(extra or {})}.items():
            if name.endswith("_Export.txt") and keep < 1:
                lines = data.splitlines(keepends=True)
                data = b"".join(lines[: int(len(lines) * keep)])
            out.writestr(name, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(sink.getvalue())
    return target


def source_with(tmp_path: Path, first: Path, keep: float = 1.0, loose: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / "source"
    for archive in sorted(first.glob("*.zip")):
        rewritten_zip(archive, folder / archive.name, keep if "export" in archive.name else 1.0)
    for name, data in (loose or {}).items():
        (folder / name).write_bytes(data)
    return folder


def everything(data: Path) -> tuple:
    store = data / "published" / "trade.duckdb"
    current = (data / "raw" / "2024" / "current.json").read_bytes()
    return hashlib.sha256(store.read_bytes()).hexdigest(), current, fiche_checksums(data)


@pytest.fixture
def built(tmp_path, first_build):
    return copy_state(first_build, tmp_path / "data")


def test_a_truncated_copy_beside_the_data_file_is_refused_and_changes_nothing(built, tmp_path, revised_sources):
    export = zipfile.ZipFile(next(revised_sources[0].glob("*export*.zip")))
    member = next(n for n in export.namelist() if n.endswith("_Export.txt"))
    lines = export.read(member).splitlines(keepends=True)
    source = source_with(tmp_path, revised_sources[0], loose={"Regional_2024_Export.txt": b"".join(lines[:len(lines) // 3])})
    before = everything(built)
    result = run_cli(built, "build", "--year", "2024", "--source", str(source))
    assert result.code == 1
    assert "several files could each be the export data of 2024" in result.err
    assert "Regional_2024_Export.txt" in result.err and member.rsplit("/", 1)[-1] in result.err
    assert everything(built) == before


def test_a_partial_year_is_refused_until_accepted(built, tmp_path, revised_sources):
    source = source_with(tmp_path, revised_sources[0], keep=0.3)
    before = everything(built)
    refused = run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches")
    assert refused.code == 1
    assert "consistent_with_stored" in refused.err and "for the vintage of 2024 already stored" in refused.err
    assert "build again with --accept-change" in refused.err
    assert everything(built) == before
    # Three refused builds: the files behind the warehouse and the published store stay.
    current = (built / "raw" / "2024" / "current.json").read_bytes()
    for keep in (0.2, 0.25, 0.35):
        source = source_with(tmp_path / str(keep), revised_sources[0], keep=keep)
        assert run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches").code == 1
    assert (built / "raw" / "2024" / "current.json").read_bytes() == current
    kept = sorted(p.name for p in (built / "raw" / "2024").iterdir() if p.is_dir())
    good = [line for line in current.decode().splitlines() if '"directory"' in line][0].split('"')[3]
    assert good in kept and (built / "raw" / "2024" / good).is_dir()
    assert all((built / "raw" / "2024" / good / f.name).exists() for f in (built / "raw" / "2024" / good).iterdir())
    # Accepted, it goes through, and the acceptance is recorded in the check.
    accepted = run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches", "--accept-change")
    assert accepted.code == 0, accepted.err[-3000:]
    assert re.search("consistent_with_stored FAILED \\(\\d+ failing: exports 2024: [\\d\u202f,]+ M€ against", accepted.out), \
        accepted.out  # what failed, said in the summary
    assert everything(built)[0] != before[0]


def build_with_a_full_disk(data: Path, source: Path, limit: int) -> subprocess.CompletedProcess:
    """`trade-pipeline build --no-fiches` where no file may grow beyond `limit` bytes (RLIMIT_FSIZE): what a
    full disk does to DuckDB's writes, without filling the machine's disk."""
    def no_bigger_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    environment = {**os.environ, "TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster"),
                   "BROWSER_PATH": NO_BROWSER}
    return subprocess.run([CLI, "build", "--year", "2024", "--source", str(source), "--no-fiches"], env=environment,
                          preexec_fn=no_bigger_files, capture_output=True, text=True, timeout=600)


def consistent(warehouse: Path) -> tuple[int, int]:
    """The slices step's changes are all there or not at all (the territories' slices are the sum
    of the year's cells, every territory has its marts); returns the totals of the year's rows and
    cells, which the caller finds to be either the old year's or the new one's, each whole."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows, cells = connection.execute("""SELECT (SELECT sum(value_eur) FROM trade_flows WHERE year = 2024),
                                                   (SELECT sum(value_eur) FROM year_cells WHERE year = 2024)""").fetchone()
        france = connection.execute("""SELECT exports_eur + imports_eur FROM territory_versions
                                       WHERE year = 2024 AND level = 'france'""").fetchone()[0]
        marts = connection.execute("SELECT count(*) FROM mart_territory_totals WHERE year = 2024").fetchone()[0]
    assert cells == france and marts == 116
    return rows, cells


@pytest.mark.parametrize("room", [64 * 1024, 1024 * 1024], ids=["64 KiB left", "1 MiB left"])
def test_a_full_disk_says_so_and_leaves_each_change_whole(tmp_path, first_store, revised_sources, revised_clean_store,
                                                          room):
    built = copy_state(first_store, tmp_path / "data")  # up to the store: where the big writes are
    published = table_checksums(built / "published" / "trade.duckdb")
    before = consistent(built / "warehouse" / "warehouse.duckdb")
    limit = max(p.stat().st_size for p in built.rglob("*") if p.is_file()) + room
    failed = build_with_a_full_disk(built, revised_sources[1], limit)
    assert failed.returncode == 1, failed.stdout[-2000:] + failed.stderr[-2000:]
    # The write that hits the limit may be the warehouse's, the store's or Dagster's run history
    # (which one depends on how the files grew): each says what failed and what to do.
    assert re.search(r"could not write — (File too large|disk I/O error)", failed.stderr), failed.stderr[-2000:]
    assert "free some space, then build again" in failed.stderr
    assert "cannot rollback" not in failed.stdout + failed.stderr and "Traceback" not in failed.stderr
    assert table_checksums(built / "published" / "trade.duckdb") == published
    store = built / "published"  # no temporary file nor unfinished snapshot left
    assert not [p for p in [*store.iterdir(), *(store / "history").iterdir()] if p.name.startswith(".")]
    assert len(list((store / "history").iterdir())) == 1
    # The build may stop between two steps (the rows revised, their slices not yet): each step's
    # change is whole — the old year's totals or the new one's, never a part of them.
    after_failure = consistent(built / "warehouse" / "warehouse.duckdb")
    rerun = run_cli(built, "build", "--year", "2024", "--source", str(revised_sources[1]), "--no-fiches")
    assert rerun.code == 0, rerun.err[-3000:]
    assert state(built) == revised_clean_store
    final = consistent(built / "warehouse" / "warehouse.duckdb")
    assert all(now in (old, new) for now, old, new in zip(after_failure, before, final, strict=True))


def test_a_15_mib_field_gives_a_short_report_and_stores_little(built, tmp_path, revised_sources):
    export = next(revised_sources[0].glob("*export*.zip"))
    with zipfile.ZipFile(export) as archive:
        member = next(n for n in archive.namelist() if n.endswith("_Export.txt"))
        data = archive.read(member)
    first, rest = data.split(b"\n", 1)
    fields = first.split(b";")
    fields[6] = b"7" * (15 * 1024 * 1024)  # code_CPF4
    source = tmp_path / "huge"
    rewritten_zip(export, source / export.name, extra={member: b";".join(fields) + b"\n" + rest})
    for archive in revised_sources[0].glob("*import*.zip"):
        (source / archive.name).write_bytes(archive.read_bytes())
    storage = sum(p.stat().st_size for p in (built / "dagster").rglob("*") if p.is_file())
    result = run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches")
    assert result.code == 1
    assert len(result.out) + len(result.err) < 20_000
    assert f"… ({15 * 1024 * 1024:,} characters)" in result.err
    grown = sum(p.stat().st_size for p in (built / "dagster").rglob("*") if p.is_file()) - storage
    assert grown < 2 * 1024 * 1024, grown


def test_a_data_error_prints_its_message_and_keeps_the_traces_for_verbose(built, tmp_path, revised_sources):
    export = next(revised_sources[0].glob("*export*.zip"))
    with zipfile.ZipFile(export) as archive:
        member = next(n for n in archive.namelist() if n.endswith("_Export.txt"))
        lines = archive.read(member).split(b"\n")
    lines[4] = lines[4].replace(b";2024;", b";2023;")
    source = tmp_path / "bad"
    rewritten_zip(export, source / export.name, extra={member: b"\n".join(lines)})
    for archive in revised_sources[0].glob("*import*.zip"):
        (source / archive.name).write_bytes(archive.read_bytes())
    quiet = run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches")
    assert quiet.code == 1 and "line 5, column 3 annee (year): '2023' is not the year being loaded" in quiet.err
    for output in (quiet.out, quiet.err):
        assert "Traceback" not in output and "Stack Trace" not in output
    verbose = run_cli(built, "build", "--year", "2024", "--source", str(source), "--no-fiches", "--verbose")
    assert verbose.code == 1 and "Stack Trace" in verbose.out + verbose.err
