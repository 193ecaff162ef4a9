"""Readers of the published store during a refresh, and two refreshes started at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .states import copy_state, run_cli
from .support import build_in_subprocess, state, table_checksums

pytestmark = pytest.mark.slow

#: A downstream consumer as docs/consumers.md tells it to read: one read-only connection per read, all
#: its queries in one transaction. Each observation ties the store's checksum to digests of two
#: tables; a mixed state would pair one version's checksum with another version's rows.
CONSUMER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import duckdb

    store, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), open(sys.argv[3], "w")
    while not stop.exists():
        try:
            with duckdb.connect(str(store), read_only=True) as connection:
                connection.execute("BEGIN TRANSACTION")
                checksum = connection.execute(
                    "SELECT value FROM metadata WHERE key = 'content_checksum'").fetchone()[0]
                totals = connection.execute(
                    "SELECT count(*), sum(exports_eur), sum(imports_eur) FROM territory_totals").fetchone()
                links = connection.execute("SELECT count(*), sum(value_eur) FROM flow_links").fetchone()
                connection.execute("COMMIT")
            out.write(json.dumps({"checksum": checksum, "totals": [str(v) for v in totals],
                                  "links": [str(v) for v in links]}) + "\\n")
        except Exception as error:  # noqa: BLE001 - every error is a finding
            out.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\\n")
        out.flush()
        time.sleep(0.01)
""")


def test_readers_never_fail_nor_see_a_mixed_state_during_a_refresh(tmp_path, first_store, revised_sources):
    second = revised_sources[1]
    data = copy_state(first_store, tmp_path / "data")
    store = data / "published" / "trade.duckdb"
    before = table_checksums(store)

    stop, log = tmp_path / "stop", tmp_path / "reads.jsonl"
    consumer = subprocess.Popen([sys.executable, "-c", CONSUMER, str(store), str(stop), str(log)])
    try:
        time.sleep(1.0)
        # The consumer is the other process; the refresh goes up to the store it reads.
        refresh = run_cli(data, "build", "--year", "2024", "--source", str(second), "--no-fiches")
        time.sleep(1.0)
    finally:
        stop.touch()
        consumer.wait(timeout=60)
    assert refresh.code == 0, refresh.out + refresh.err
    assert table_checksums(store) != before  # the refresh did replace the store

    reads = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r for r in reads if "error" in r] == []
    versions: dict[str, set] = {}
    for read in reads:
        versions.setdefault(read["checksum"], set()).add((tuple(read["totals"]), tuple(read["links"])))
    assert len(versions) == 2, versions.keys()  # the old store, then the new one
    assert all(len(contents) == 1 for contents in versions.values()), versions  # never mixed
    first_seen = [r["checksum"] for r in reads]
    switch = first_seen.index(first_seen[-1])
    assert set(first_seen[:switch]) == {first_seen[0]} and set(first_seen[switch:]) == {first_seen[-1]}
    assert len(reads) > 100


def test_two_refreshes_at_once_never_corrupt(tmp_path, first_store, revised_sources, revised_clean_store):
    second = revised_sources[1]
    data = copy_state(first_store, tmp_path / "data")

    # A short lock timeout: the second refresh gives up with a clear message instead of waiting.
    pair = [build_in_subprocess(data, second, wait=False, lock_timeout=2, fiches=False) for _ in range(2)]
    errors = [process.communicate(timeout=900)[1] for process in pair]
    codes = [process.returncode for process in pair]
    assert sorted(codes) == [0, 3]
    message = errors[codes.index(3)]
    assert "another trade_pipeline process (pid " in message and f"is writing to {data}" in message
    assert "Try again when it has finished" in message
    assert state(data) == revised_clean_store

    # With the default timeout, the second one waits for the first, then finds nothing to do.
    pair = [build_in_subprocess(data, second, wait=False, fiches=False) for _ in range(2)]
    for process in pair:
        process.communicate(timeout=900)
    assert [process.returncode for process in pair] == [0, 0]
    assert state(data) == revised_clean_store
    assert not list(Path(data / "published").glob(".*tmp*"))
