"""SIGKILL in the middle of a warehouse write and of a publication: nothing good is lost, and the
next build ends exactly where a clean build ends (table contents, and the fiches where they are
built, compared)."""

from __future__ import annotations

import signal

import pytest

from trade_pipeline.lib.failpoints import PUBLISH_SWAP, PUBLISH_WRITE, WAREHOUSE_WRITE

from .states import copy_state, run_cli
from .support import build_in_subprocess, state, table_checksums

pytestmark = pytest.mark.slow


# The warehouse and the store's own writes are proven on builds up to the store; the last step
# of a publication also with the fiches, which the rerun must then leave as a clean build does.
@pytest.mark.parametrize(("failpoint", "fiches"), [(WAREHOUSE_WRITE, False), (PUBLISH_WRITE, False), (PUBLISH_SWAP, True)],
                         ids=[WAREHOUSE_WRITE, PUBLISH_WRITE, f"{PUBLISH_SWAP} with fiches"])
def test_sigkill_then_rerun_ends_as_a_clean_build(request, tmp_path, revised_sources, failpoint, fiches):
    second = revised_sources[1]
    start, expected = (("first_build", "revised_clean_state") if fiches else ("first_store", "revised_clean_store"))
    expected = request.getfixturevalue(expected)
    options = [] if fiches else ["--no-fiches"]
    data = copy_state(request.getfixturevalue(start), tmp_path / "data")
    good = state(data)
    assert good[0] != expected[0]  # the revision changes the published figures

    # The kill needs a process of its own: a real SIGKILL, no cleanup code runs.
    killed = build_in_subprocess(data, second, failpoint, fiches=fiches)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # What consumers see did not move: the last good store, whole.
    assert table_checksums(data / "published" / "trade.duckdb") == good[0]
    if failpoint == WAREHOUSE_WRITE:  # the transaction died with the process
        assert state(data)[1] == good[1]

    rerun = run_cli(data, "build", "--year", "2024", "--source", str(second), *options)
    assert rerun.code == 0, rerun.out + rerun.err
    assert "run(s) of an interrupted build marked as failed" in rerun.out
    assert state(data) == expected
    published = data / "published"  # no temporary file or unfinished snapshot left
    assert {p.name for p in published.iterdir()} == {"trade.duckdb", "parquet", "csv", "publication.json", "current",
                                                      "history"}
    assert not [p.name for p in (published / "history").iterdir() if p.name.startswith(".")]

    again = run_cli(data, "build", "--year", "2024", "--source", str(second), *options)
    assert "Nothing changed since the last build" in again.out
