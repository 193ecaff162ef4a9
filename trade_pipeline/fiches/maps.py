"""The maps of a year's index, in `fiches/<year>/carte/`: exports, balance and share of exports to
the United States per département, each linking to the fiches that exist."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trade_pipeline.charts.files import ChartFolder, write_charts
from trade_pipeline.charts.maps import MEASURES, choropleth_chart

MAPS_FOLDER = "carte"


def write_maps(fiches_dir: Path, year: int, values: pd.DataFrame, synthetic: bool, with_images: bool) -> ChartFolder:
    """The maps of the year's index in `fiches/<year>/carte/` (call `commit` once their pictures are drawn)."""
    year_dir = fiches_dir / str(year)
    fiches = {path.stem for path in year_dir.glob("[!.]*.html") if path.stem != "index"}
    charts = [choropleth_chart(values, measure, year, synthetic, fiches) for measure in MEASURES]
    return write_charts(year_dir / MAPS_FOLDER, MAPS_FOLDER, year, charts, with_images)
