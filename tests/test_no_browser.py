"""Without Chromium the fiches are still produced as HTML, the run says what it skipped, and
nothing hangs (kaleido's server would wait forever for a browser: lib/browser.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trade_pipeline.charts.pictures import render_pictures
from trade_pipeline.fiches.pdf import print_pdfs
from trade_pipeline.lib.browser import BrowserUnavailable, chromium_path

from .support import write_year_dir

pytestmark = pytest.mark.slow


def test_missing_browser_is_detected_before_anything_starts(tmp_path):
    missing = str(tmp_path / "no-chromium")
    assert chromium_path(missing) is None
    with pytest.raises(BrowserUnavailable, match="apt-get install -y chromium"):
        render_pictures([object()], browser_path=missing)  # type: ignore[list-item]
    with pytest.raises(BrowserUnavailable):
        print_pdfs([object()], browser_path=missing)  # type: ignore[list-item]


def test_build_without_browser_produces_html_and_says_what_was_skipped(tmp_path):
    source = write_year_dir(tmp_path / "source", 2024)
    data = tmp_path / "data"
    environment = {**os.environ, "TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster"),
                   "BROWSER_PATH": str(tmp_path / "no-chromium")}
    cli = str(Path(sys.executable).with_name("trade-pipeline"))
    result = subprocess.run([cli, "build", "--year", "2024", "--source", str(source), "--departement", "34"],
                            env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "no Chromium: chart pictures (SVG, PNG) skipped" in output
    assert "no Chromium: PDF fiches skipped, HTML only" in output
    year = data / "fiches" / "2024"
    assert (year / "departement-34.html").exists() and (year / "index.html").exists()
    assert not list(year.rglob("*.pdf")) and not list(year.rglob("*.png")) and not list(year.rglob("*.svg"))
    assert (year / "departement-34" / "charts.js").exists()  # the interactive charts still work
    assert "Version PDF" not in (year / "departement-34.html").read_text(encoding="utf-8")
