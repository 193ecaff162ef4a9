"""Chromium that does not answer: every wait is bounded, the failure names BROWSER_PATH and what
to check, the browser's processes are gone; and a chart folder is never left half new."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from trade_pipeline.charts.chart import Chart
from trade_pipeline.charts.files import read_manifest, staging_dir, write_charts
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib.browser import BrowserFailed, WarmTabs

#: A « browser » that starts and never answers (what a wrong BROWSER_PATH can be).
HANGING = "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 600\n"


def hanging_browser(folder: Path) -> Path:
    program = folder / "hanging-browser"
    program.write_text(HANGING)
    program.chmod(0o755)
    return program


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_browser_that_never_answers_fails_within_the_timeout_and_is_killed(tmp_path):
    started = time.monotonic()
    with pytest.raises(BrowserFailed) as failed, WarmTabs(1, timeout_s=3, browser_path=str(hanging_browser(tmp_path))):
        pass
    assert time.monotonic() - started < 3 + 15  # the timeout, then the kill (never for ever)
    message = str(failed.value)
    assert f"BROWSER_PATH={tmp_path / 'hanging-browser'}" in message and "did not answer within 3 s" in message
    assert "--headless --version" in message and "\n" not in message
    assert not alive(int((tmp_path / "pid").read_text()))


def test_a_browser_that_exits_at_once_says_so_naming_browser_path():
    started = time.monotonic()
    with pytest.raises(BrowserFailed, match=r"Chromium \(BROWSER_PATH=/bin/false\) exited as soon as it started; "
                                             r"check that it is Chromium"), WarmTabs(1, timeout_s=30, browser_path="/bin/false"):
        pass
    assert time.monotonic() - started < 15


@pytest.mark.browser
def test_a_job_chromium_does_not_finish_fails_the_step_and_nothing_more_starts():
    async def never(tab, job):  # noqa: ANN001, ANN202
        await asyncio.sleep(3600)

    async def quick(tab, job):  # noqa: ANN001, ANN202
        return job

    class Job:
        label = "the chart x.svg"

    started = time.monotonic()
    # 10 s: Chromium itself must start within the timeout, which takes seconds on a busy machine.
    with pytest.raises(BrowserFailed, match=r"did not finish the chart x\.svg within 10 s"), \
            WarmTabs(1, timeout_s=10) as tabs:
        first = tabs.submit(never, Job())
        while not first.done():
            time.sleep(0.1)
        tabs.submit(quick, "later")  # refused: the step has failed
    assert time.monotonic() - started < 10 + 15


@pytest.mark.slow
def test_a_build_whose_browser_hangs_after_publishing_says_so_and_releases_the_lock(tmp_path, first_build,
                                                                                    revised_sources):
    """The revision is published, then the charts wait on a browser that never answers: the build
    fails within the timeout with one line naming BROWSER_PATH, says the store *was* published
    and what was not drawn, leaves every chart folder as it was, and another build can start."""
    from trade_pipeline.lib.warehouse import holding_pipeline_lock
    from trade_pipeline.publication.history import current_publication
    from trade_pipeline.settings import get_settings

    from .states import copy_state, pipeline_environment, run_cli
    from .support import fiche_checksums

    data = copy_state(first_build, tmp_path / "data")
    before = current_publication(data / "published")
    charts = {p: p.read_bytes() for p in (data / "fiches" / "2024").rglob("*") if p.is_file()}
    browser = hanging_browser(tmp_path)
    started = time.monotonic()
    result = run_cli(data, "build", "--year", "2024", "--source", str(revised_sources[1]), pictures=True,
                     BROWSER_PATH=str(browser), TRADE_PIPELINE_BROWSER_TIMEOUT="3")
    assert result.code == 1 and time.monotonic() - started < 180
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"BROWSER_PATH={browser}" in errors[0] and "Traceback" not in result.err
    after = current_publication(data / "published")
    assert after.id != before.id
    assert f"The store was published before the failure: {after.label()}" in result.err
    assert "Not made by this build: territory_charts, fiches, fiche_index" in result.err
    assert "Nothing already published was changed" not in result.err
    # Every chart folder and fiche as it was: no new data beside old pictures, no staging left.
    assert {p: p.read_bytes() for p in (data / "fiches" / "2024").rglob("*") if p.is_file()} == charts
    assert not alive(int((tmp_path / "pid").read_text()))
    with pipeline_environment(data), holding_pipeline_lock(get_settings(), timeout=0):  # the lock is free
        pass
    assert fiche_checksums(data)  # still readable


def _chart(name: str, value: int) -> Chart:
    figure = {"data": [{"type": "bar", "x": ["a"], "y": [value]}], "layout": {}}
    table = ChartTable.of((Column("valeur_eur", "Valeur", Kind.EUR),), {"valeur_eur": [value]})
    return Chart(name, f"titre {name}", figure, table, f"texte {name}", 400, 300)


def _draw(folder) -> None:  # noqa: ANN001 - what Chromium does for each picture job
    for job in folder.pictures:
        job.svg.write_text(f"<svg>{job.figure['data'][0]['y'][0]}</svg>")
        job.png.write_bytes(b"png")


def test_a_chart_folder_shows_all_of_its_old_version_until_the_new_one_is_whole(tmp_path):
    folder = tmp_path / "2024" / "departement-34"
    first = write_charts(folder, "departement-34", 2024, [_chart("a", 1), _chart("b", 2)], with_images=True)
    _draw(first)
    first.commit()
    old = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert set(old) == {"a.csv", "a.svg", "a.png", "b.csv", "b.svg", "b.png", "charts.js", "manifest.json", ".tables.json"}

    second = write_charts(folder, "departement-34", 2024, [_chart("a", 1), _chart("b", 3)], with_images=True)
    assert [job.svg.name for job in second.pictures] == ["b.svg"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == old  # nothing new shows before the pictures
    second.abandon()  # Chromium failed: the old folder, whole; nothing left aside
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == old and not staging_dir(folder).exists()

    third = write_charts(folder, "departement-34", 2024, [_chart("a", 1), _chart("b", 3)], with_images=True)
    _draw(third)
    third.commit()
    new = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert new["b.svg"] == b"<svg>3</svg>" and new["a.svg"] == old["a.svg"] and new["b.csv"] != old["b.csv"]
    assert read_manifest(folder)["content_hash"] == third.content_hash and not staging_dir(folder).exists()
    assert os.stat(folder / "a.svg").st_ino  # the unchanged pictures were linked, not drawn again
    unchanged = write_charts(folder, "departement-34", 2024, [_chart("a", 1), _chart("b", 3)], with_images=True)
    assert unchanged.staging is None and unchanged.pictures == [] and unchanged.written == []
