"""SIGKILL in the middle of a warehouse write (a year's rows, a monthly publication's rows) and of
a publication: nothing good is lost, and the next build ends exactly where a clean build ends
(table contents, and the fiches where they are built, compared)."""

from __future__ import annotations

import shutil
import signal

import pytest

from trade_pipeline.lib.failpoints import PROVISIONAL_WRITE, PUBLISH_SWAP, PUBLISH_WRITE, WAREHOUSE_WRITE

from .states import copy_state, run_cli
from .support import build_in_subprocess, state, table_checksums

pytestmark = pytest.mark.slow


# The warehouse and the store's own writes are proven on builds up to the store, against a clean
# build of the revision; the last step of a publication also with the fiches, which the rerun must
# then leave as the same build not killed does. The fiches' part on Hérault, Occitanie and France
# (`--departement 34`): the same steps as for 116 territories (this test alone: 180 → 142 s of CPU).
@pytest.mark.parametrize(("failpoint", "fiches"), [(WAREHOUSE_WRITE, False), (PUBLISH_WRITE, False), (PUBLISH_SWAP, True)],
                         ids=[WAREHOUSE_WRITE, PUBLISH_WRITE, f"{PUBLISH_SWAP} with fiches"])
def test_sigkill_then_rerun_ends_as_a_clean_build(request, tmp_path, revised_sources, failpoint, fiches):
    second = revised_sources[1]
    if fiches:
        start, departements = request.getfixturevalue("first_build"), ("34",)
        options = [f"--departement={code}" for code in departements]
        clean = copy_state(start, tmp_path / "clean")
        built = run_cli(clean, "build", "--year", "2024", "--source", str(second), *options)
        assert built.code == 0, built.out + built.err
        expected = state(clean)
        assert expected[2] != state(start)[2]  # the fiches the rerun must rewrite changed
    else:
        start, departements = request.getfixturevalue("first_store"), ()
        options, expected = ["--no-fiches"], request.getfixturevalue("revised_clean_store")
    data = copy_state(start, tmp_path / "data")
    good = state(data)
    assert good[0] != expected[0]  # the revision changes the published figures

    # The kill needs a process of its own: a real SIGKILL, no cleanup code runs.
    killed = build_in_subprocess(data, second, failpoint, fiches=fiches, departements=departements)
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


def test_sigkill_in_a_latest_publication_write_then_rerun_ends_as_a_clean_build(tmp_path, first_store,
                                                                                revised_sources):
    """A monthly publication's rows are replaced in one transaction: killed inside it, the
    warehouse keeps the quarters it had, consumers see the last good store, and the next build
    ends where a clean build of the same files ends."""
    source = tmp_path / "source"
    shutil.copytree(revised_sources[0], source)
    assert run_cli(tmp_path, "sample", "--out", str(source), "--latest", "202512").code == 0
    data, clean = copy_state(first_store, tmp_path / "data"), copy_state(first_store, tmp_path / "clean")
    vintage_tables = ("provisional_flows", "latest_publications")
    good, good_vintages = state(data), table_checksums(data / "warehouse" / "warehouse.duckdb", vintage_tables)

    killed = build_in_subprocess(data, source, PROVISIONAL_WRITE, fiches=False)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert state(data) == good
    assert table_checksums(data / "warehouse" / "warehouse.duckdb", vintage_tables) == good_vintages

    rerun = run_cli(data, "build", "--year", "2024", "--source", str(source), "--no-fiches")
    assert rerun.code == 0, rerun.out + rerun.err
    assert "run(s) of an interrupted build marked as failed" in rerun.out
    assert run_cli(clean, "build", "--year", "2024", "--source", str(source), "--no-fiches").code == 0
    mine, theirs = state(data), state(clean)
    for part, what in enumerate(("store", "warehouse", "fiches")):
        assert mine[part] == theirs[part], what
    vintages = table_checksums(data / "warehouse" / "warehouse.duckdb", ("provisional_flows",))
    assert vintages == table_checksums(clean / "warehouse" / "warehouse.duckdb", ("provisional_flows",))
    assert vintages["provisional_flows"][0] > 0  # December's rows are there
