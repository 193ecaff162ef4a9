"""SIGKILL in the middle of a warehouse write and of a publication: nothing good is lost, and the
next build ends exactly where a clean build ends (table contents and fiches compared)."""

from __future__ import annotations

import signal

import pytest

from trade_pipeline.lib.failpoints import PUBLISH_SWAP, PUBLISH_WRITE, WAREHOUSE_WRITE

from .states import copy_state, run_cli
from .support import build_in_subprocess, state, table_checksums

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("failpoint", [WAREHOUSE_WRITE, PUBLISH_WRITE, PUBLISH_SWAP])
def test_sigkill_then_rerun_ends_as_a_clean_build(tmp_path, first_build, revised_sources, revised_clean_state,
                                                   failpoint):
    second = revised_sources[1]
    expected = revised_clean_state
    data = copy_state(first_build, tmp_path / "data")
    good = state(data)
    assert good[0] != expected[0]  # the revision changes the published figures

    # The kill needs a process of its own: a real SIGKILL, no cleanup code runs.
    killed = build_in_subprocess(data, second, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # What consumers see did not move: the last good store, whole.
    assert table_checksums(data / "published" / "trade.duckdb") == good[0]
    if failpoint == WAREHOUSE_WRITE:  # the transaction died with the process
        assert state(data)[1] == good[1]

    rerun = run_cli(data, "build", "--year", "2024", "--source", str(second))
    assert rerun.code == 0, rerun.out + rerun.err
    assert "run(s) of an interrupted build marked as failed" in rerun.out
    assert state(data) == expected
    published = data / "published"  # no temporary file or unfinished snapshot left
    assert {p.name for p in published.iterdir()} == {"trade.duckdb", "parquet", "csv", "publication.json", "current",
                                                      "history"}
    assert not [p.name for p in (published / "history").iterdir() if p.name.startswith(".")]

    again = run_cli(data, "build", "--year", "2024", "--source", str(second))
    assert "Nothing changed since the last build" in again.out
