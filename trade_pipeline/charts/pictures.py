"""Chart pictures: plotly.js itself, in warm Chromium tabs, draws each figure as SVG, and the PNG
is that SVG drawn on a canvas — what kaleido does (`Plotly.toImage` with kaleido's options; the
PNG bytes are the same as kaleido's, tested), without reloading a page for every image.

Every picture is written to a temporary name and renamed: an interrupted run never leaves half
an image.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import plotly

from trade_pipeline.lib.browser import DEFAULT_TIMEOUT_S, Progress, WarmTabs, open_page, temporary_path

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


#: A tab draws this many charts, then a new tab (a new renderer process, plotly.js loaded again,
#: ≈ 0.3 s) takes its place: the renderer's memory grows with every picture it drew, and the
#: charts of a year (≈ 1 200) would otherwise reach the build's peak. Measured, full year.
PICTURES_PER_TAB = 150


@dataclass(frozen=True)
class PictureJob:
    """The SVG and PNG pictures of one chart."""

    figure: dict
    svg: Path
    png: Path
    width: int
    height: int
    png_scale: float = 2.0

    @property
    def label(self) -> str:
        return f"the chart {self.svg}"


#: Written into every SVG file, after kaleido's picture is made: typographic ligatures off, so that
#: text copied from a fiche's PDF reads « flux », not « ﬂux » (the PNG is kaleido's, as drawn).
NO_LIGATURES = '<style>text{font-variant-ligatures:none;font-feature-settings:"liga" 0,"clig" 0}</style>'

#: kaleido's own call (kaleido/vendor/kaleido_scopes.js `render`): the same options give the same
#: pictures; the PNG is the SVG drawn on a white canvas, as plotly.js draws its own PNG.
_RENDER = """async (figure, width, height, scale) => {
  const svg = await Plotly.toImage(
    {data: figure.data, layout: figure.layout, config: {mapboxAccessToken: null, plotGlPixelRatio: 2}},
    {format: "svg", width: width, height: height, scale: 1, imageDataOnly: true, setBackground: ""});
  const image = new Image();
  image.src = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg)));
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale); canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d");
  context.fillStyle = "white"; context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return [svg, canvas.toDataURL("image/png").split(",")[1]];
}"""


@lru_cache(maxsize=1)
def _plotly_page() -> Path:
    """A page that loads plotly.js (the one the fiches ship) and nothing else."""
    folder = Path(tempfile.mkdtemp(prefix="trade-pipeline-plotly-"))
    page = folder / "plotly.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{PLOTLY_JS.as_uri()}"></script>'
                    "</head><body></body></html>", encoding="utf-8")
    return page


async def _load_plotly(tab) -> None:  # noqa: ANN001
    await open_page(tab, _plotly_page().as_uri())


def with_style(svg: str, style: str) -> str:
    """The SVG with `style` as the first element inside its root."""
    end = svg.index(">", svg.index("<svg")) + 1
    return svg[:end] + style + svg[end:]


async def _render_one(tab, job: PictureJob, timeout_s: float = 60.0) -> None:  # noqa: ANN001
    arguments = ", ".join(json.dumps(a, ensure_ascii=False) for a in (job.figure, job.width, job.height, job.png_scale))
    response = await asyncio.wait_for(tab.send_command("Runtime.evaluate", params={
        "expression": f"({_RENDER})({arguments})", "awaitPromise": True, "returnByValue": True}), timeout_s)
    result = response.get("result", {})
    value = (result.get("result") or {}).get("value")
    if "exceptionDetails" in result or "error" in response or not value or "<svg" not in value[0]:
        detail = result.get("exceptionDetails", {}).get("exception", {}).get("description") or response.get("error")
        first_line = str(detail or "no picture").splitlines()[0]  # plotly.js's message, not its stack
        raise RuntimeError(f"Chromium could not draw the chart {job.svg} ({first_line})")
    svg, png = value
    svg = with_style(svg, NO_LIGATURES)
    for path, data in ((job.svg, svg.encode("utf-8")), (job.png, base64.b64decode(png))):
        temporary = temporary_path(path)
        temporary.write_bytes(data)
        os.replace(temporary, path)


def render_pictures(jobs: Iterable[PictureJob], tabs: int = 2,
                    progress: Callable[[int, int], object] | None = None, total: int | None = None,
                    timeout_s: float = DEFAULT_TIMEOUT_S, browser_path: str | None = None) -> int:
    """Draw the pictures of every job; `jobs` may be produced while earlier ones are drawn.

    Returns the number drawn; raises on the first chart Chromium could not draw, naming it, and
    BrowserFailed when Chromium does not answer within `timeout_s` (its start, a tab, a chart).
    `progress(done, total)` is called every few seconds when `total` is known.
    """
    iterator = iter(jobs)
    first = next(iterator, None)
    if first is None:
        return 0
    counter = Progress(total or 0, progress if total else None)
    futures = []
    with WarmTabs(tabs, prepare=_load_plotly, renew_every=PICTURES_PER_TAB, timeout_s=timeout_s,
                  browser_path=browser_path) as warm:
        for job in itertools.chain([first], iterator):
            future = warm.submit(_render_one, job)
            future.add_done_callback(lambda _: counter.step())
            futures.append(future)
    for future in futures:
        future.result()
    return len(futures)
