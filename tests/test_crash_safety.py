"""SIGKILL in the middle of a warehouse write and of a publication: nothing good is lost, and the
next build ends exactly where a clean build ends (table contents and fiches compared)."""

from __future__ import annotations

import signal

import pytest

from trade_pipeline.failpoints import PUBLISH_SWAP, PUBLISH_WRITE, WAREHOUSE_WRITE

from .support import build_in_subprocess, state, table_checksums

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("failpoint", [WAREHOUSE_WRITE, PUBLISH_WRITE, PUBLISH_SWAP])
def test_sigkill_then_rerun_ends_as_a_clean_build(tmp_path, revised_sources, revised_clean_state, failpoint):
    first, second = revised_sources
    expected = revised_clean_state

    data = tmp_path / "data"
    assert build_in_subprocess(data, first).returncode == 0
    good = state(data)
    assert good[0] != expected[0]  # the revision changes the published figures

    killed = build_in_subprocess(data, second, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # What consumers see did not move: the last good store, whole.
    assert table_checksums(data / "published" / "trade.duckdb") == good[0]
    if failpoint == WAREHOUSE_WRITE:  # the transaction died with the process
        assert state(data)[1] == good[1]

    rerun = build_in_subprocess(data, second)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "run(s) of an interrupted build marked as failed" in rerun.stdout
    assert state(data) == expected
    assert not [p.name for p in (data / "published").iterdir() if p.name != "trade.duckdb"]  # no temp left

    again = build_in_subprocess(data, second)
    assert "Nothing changed since the last build" in again.stdout
