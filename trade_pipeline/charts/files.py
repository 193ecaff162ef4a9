"""A territory's chart folder: `fiches/<year>/<level>-<code>/`.

    <chart>.svg, <chart>.png   the picture (rendered by Chromium)
    <chart>.csv                the data behind it (`;`, decimal comma, UTF-8 with BOM: opens in Excel)
    charts.js                  the figures for the interactive fiche (a script, so it loads from file://)
    manifest.json              titles, alt texts and a hash per chart
    .tables.json               every chart's table, typed (charts/table.py): what the fiche and the
                               year's data files are made from

A chart whose hash did not change is neither rewritten nor rendered again. A folder that changes
is made whole beside the old one (`.<folder>.new/`: the unchanged files hard-linked, the changed
ones written, the pictures drawn there) and swapped in at once when its pictures are drawn
(`atomic.replace_directory`): a reader — a fiche, the year's data files — sees the old folder or
the new one, never new data beside old pictures; a chart that fails to draw leaves the old
folder as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from trade_pipeline.charts.figures import Chart
from trade_pipeline.charts.pictures import PictureJob
from trade_pipeline.charts.table import ChartTable
from trade_pipeline.lib.atomic import holds, link_or_copy, replace_directory, write_atomically
from trade_pipeline.lib.spreadsheets import csv_bytes

IMAGE_FORMATS = ("svg", "png")
PNG_SCALE = 2.0  # sharp on high-density screens and in slides
MANIFEST = "manifest.json"
TABLES = ".tables.json"


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


def read_tables(folder: Path) -> dict[str, ChartTable]:
    """The typed table of every chart of a folder, by chart name (in the order of its charts)."""
    stored = json.loads((folder / TABLES).read_text(encoding="utf-8"))
    return {name: ChartTable.from_json(table) for name, table in stored.items()}


def _tables_bytes(charts: list[Chart]) -> bytes:
    return json.dumps({chart.name: chart.table.to_json() for chart in charts}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"charts": {}}


def staging_dir(folder: Path) -> Path:
    """Where the next version of a chart folder is made before it is swapped in."""
    return folder.with_name(f".{folder.name}.new")


@dataclass
class ChartFolder:
    key: str
    folder: Path
    manifest: dict
    written: list[str] = field(default_factory=list)  # files rewritten this time
    pictures: list[PictureJob] = field(default_factory=list)  # charts whose pictures to render (in `staging`)
    #: The new version being made, when anything changed (None: the folder stays as it is).
    staging: Path | None = None

    @property
    def content_hash(self) -> str:
        return self.manifest["content_hash"]

    def commit(self) -> None:
        """Once the pictures are drawn: the manifest last, then the new folder in place of the old."""
        if self.staging is None:
            return
        write_atomically(self.staging / MANIFEST, _manifest_bytes(self.manifest))
        replace_directory(self.staging, self.folder)
        self.staging = None

    def abandon(self) -> None:
        """Drop the new version (its pictures could not be drawn): the old folder stays whole."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None


@contextmanager
def abandoned_on_failure(folders: Iterable[ChartFolder]) -> Iterator[None]:
    """Drop the new versions of `folders` (evaluated on failure: a generator over a list being
    filled sees every folder prepared so far) when the block fails: the old folders stay whole."""
    try:
        yield
    except BaseException:
        for folder in list(folders):
            folder.abandon()
        raise


def _manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode()


def write_charts(folder: Path, key: str, year: int | str, charts: list[Chart], with_images: bool) -> ChartFolder:
    """Prepare the new version of the folder when anything changed — tables and figures written,
    unchanged files linked, the pictures to (re)render listed — and call
    :meth:`ChartFolder.commit` once they are drawn (or :meth:`ChartFolder.abandon`)."""
    previous = read_manifest(folder)
    entries, figures = {}, {}
    result = ChartFolder(key, folder, {})
    files: dict[str, bytes | None] = {}  # name → new bytes, or None: the unchanged file of the folder
    for chart in charts:
        figure_json = json.dumps(chart.figure, ensure_ascii=False, separators=(",", ":"))
        table = csv_bytes(chart.table.frame)
        digest = hashlib.sha256(b"\0".join([figure_json.encode(), table, chart.alt.encode()])).hexdigest()
        # The pictures depend on the figure alone: a table that changed beyond the precision
        # drawn (a share's sixth decimal) rewrites the CSV, not the pictures.
        picture = hashlib.sha256(figure_json.encode()).hexdigest()
        entries[chart.name] = {"title": chart.title, "alt": chart.alt, "hash": digest, "figure_hash": picture,
                               "width": chart.width, "height": chart.height, "csv": f"{chart.name}.csv",
                               "images": [f"{chart.name}.{fmt}" for fmt in IMAGE_FORMATS]}
        if chart.interactive:  # charts.js carries what the page draws, not the picture-only charts
            figures[chart.name] = chart.figure
        files[f"{chart.name}.csv"] = None if holds(folder / f"{chart.name}.csv", table) else table
        unchanged = previous["charts"].get(chart.name, {}).get("figure_hash") == picture
        svg, png = (f"{chart.name}.{fmt}" for fmt in IMAGE_FORMATS)
        if with_images and not (unchanged and (folder / svg).exists() and (folder / png).exists()):
            result.pictures.append(PictureJob(chart.figure, Path(svg), Path(png), chart.width, chart.height, PNG_SCALE))
        elif unchanged and (folder / svg).exists() and (folder / png).exists():
            files[svg] = files[png] = None  # kept; a changed figure never keeps its old pictures
    script = figures_script(key, figures)
    files["charts.js"] = None if holds(folder / "charts.js", script) else script
    tables = _tables_bytes(charts)
    files[TABLES] = None if holds(folder / TABLES, tables) else tables
    content = hashlib.sha256("".join(e["hash"] for e in entries.values()).encode()).hexdigest()
    result.manifest = {"territory": key, "year": year, "content_hash": content, "charts": entries}
    written = [name for name, data in files.items() if data is not None]
    if not (written or result.pictures or not holds(folder / MANIFEST, _manifest_bytes(result.manifest))):
        shutil.rmtree(staging_dir(folder), ignore_errors=True)  # what an interrupted run may have left
    else:
        result.staging = _stage(folder, files)
        result.written = written + [name for job in result.pictures for name in (job.svg.name, job.png.name)]
        result.pictures = [PictureJob(job.figure, result.staging / job.svg, result.staging / job.png, job.width,
                                      job.height, job.png_scale) for job in result.pictures]
    return result


def _stage(folder: Path, files: dict[str, bytes | None]) -> Path:
    """The next version of `folder`: the changed files written, the unchanged ones linked."""
    staging = staging_dir(folder)
    shutil.rmtree(staging, ignore_errors=True)  # a version an interrupted run left
    staging.mkdir(parents=True)
    for name, data in files.items():
        if data is None:
            link_or_copy(folder / name, staging / name)
        else:
            write_atomically(staging / name, data)
    return staging
