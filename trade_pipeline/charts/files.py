"""A territory's chart folder: `fiches/<year>/<level>-<code>/`.

    <chart>.svg, <chart>.png   the picture (rendered by Chromium)
    <chart>.csv                the data behind it (`;`, decimal comma, UTF-8 with BOM: opens in Excel)
    charts.js                  the figures for the interactive fiche (a script, so it loads from file://)
    manifest.json              titles, alt texts and a hash per chart

A chart whose hash did not change is neither rewritten nor rendered again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from trade_pipeline.atomic import write_if_changed
from trade_pipeline.charts.figures import Chart
from trade_pipeline.charts.pictures import PictureJob
from trade_pipeline.exports import csv_bytes

IMAGE_FORMATS = ("svg", "png")
PNG_SCALE = 2.0  # sharp on high-density screens and in slides


def territory_dir(fiches_dir: Path, year: int, key: str) -> Path:
    return fiches_dir / str(year) / key


_FIGURES_PREFIX = "(window.TRADE_CHARTS = window.TRADE_CHARTS || {})["


def figures_script(key: str, figures: dict) -> bytes:
    """charts.js: the folder's figures as a script (it loads from file://, where JSON would not)."""
    return (_FIGURES_PREFIX + json.dumps(key) + "] = "
            + json.dumps(figures, ensure_ascii=False, separators=(",", ":")) + ";\n").encode("utf-8")


def read_figures(folder: Path) -> dict:
    """The figures of a chart folder, as written by :func:`figures_script`."""
    script = (folder / "charts.js").read_text(encoding="utf-8")
    return json.loads(script[script.index("] = ") + 4:].rstrip().removesuffix(";"))


def read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"charts": {}}


@dataclass
class ChartFolder:
    key: str
    folder: Path
    manifest: dict
    written: list[str] = field(default_factory=list)  # files rewritten this time
    pictures: list[PictureJob] = field(default_factory=list)  # charts whose pictures to render

    @property
    def content_hash(self) -> str:
        return self.manifest["content_hash"]

    def commit(self) -> None:
        """Record the manifest, after the images: a crash in between renders them again."""
        data = json.dumps(self.manifest, ensure_ascii=False, indent=1).encode()
        if write_if_changed(self.folder / "manifest.json", data):
            self.written.append("manifest.json")


def write_charts(folder: Path, key: str, year: int, charts: list[Chart], with_images: bool) -> ChartFolder:
    """Write the tables and figures that changed, list the images to (re)render; call
    :meth:`ChartFolder.commit` once they are."""
    previous = read_manifest(folder)
    entries, figures = {}, {}
    result = ChartFolder(key, folder, {})
    for chart in charts:
        figure_json = json.dumps(chart.figure, ensure_ascii=False, separators=(",", ":"))
        table = csv_bytes(chart.table)
        digest = hashlib.sha256(b"\0".join([figure_json.encode(), table, chart.alt.encode()])).hexdigest()
        # The pictures depend on the figure alone: a table that changed beyond the precision
        # drawn (a share's sixth decimal) rewrites the CSV, not the pictures.
        picture = hashlib.sha256(figure_json.encode()).hexdigest()
        entries[chart.name] = {"title": chart.title, "alt": chart.alt, "hash": digest, "figure_hash": picture,
                               "width": chart.width, "height": chart.height, "csv": f"{chart.name}.csv",
                               "images": [f"{chart.name}.{fmt}" for fmt in IMAGE_FORMATS]}
        if chart.interactive:  # charts.js carries what the page draws, not the picture-only charts
            figures[chart.name] = chart.figure
        if write_if_changed(folder / f"{chart.name}.csv", table):
            result.written.append(f"{chart.name}.csv")
        unchanged = previous["charts"].get(chart.name, {}).get("figure_hash") == picture
        svg, png = (folder / f"{chart.name}.{fmt}" for fmt in IMAGE_FORMATS)
        if with_images and not (unchanged and svg.exists() and png.exists()):
            result.pictures.append(PictureJob(chart.figure, svg, png, chart.width, chart.height, PNG_SCALE))
            result.written += [svg.name, png.name]
    if write_if_changed(folder / "charts.js", figures_script(key, figures)):
        result.written.append("charts.js")
    content = hashlib.sha256("".join(e["hash"] for e in entries.values()).encode()).hexdigest()
    result.manifest = {"territory": key, "year": year, "content_hash": content, "charts": entries}
    return result
