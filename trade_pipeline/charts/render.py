"""Static rendering with Debian's Chromium: chart pictures through kaleido's batch API, fiche PDFs
through the same browser library (choreographer, which kaleido drives).

Chromium must be found *before* anything starts: without a browser, kaleido's sync server hangs
on the first export (stack_notes.md §6). Every writer here renders to a temporary name and
renames, so an interrupted run never leaves half an image or half a PDF.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "apt-get install -y chromium (or set BROWSER_PATH)"


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine: HTML only, images and PDFs are skipped."""


def chromium_path() -> str | None:
    candidate = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("google-chrome")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def require_browser() -> str:
    path = chromium_path()
    if path is None:
        raise BrowserUnavailable(f"no Chromium found: {INSTALL_HINT}")
    return path


@dataclass(frozen=True)
class PictureJob:
    """The SVG and PNG pictures of one chart."""

    figure: dict
    svg: Path
    png: Path
    width: int
    height: int
    png_scale: float = 2.0


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


def render_pictures(jobs: Sequence[PictureJob], tabs: int = 2) -> None:
    """SVG through kaleido's batch API (one browser for all charts), then PNG from that SVG.

    Plotly's PNG export is its SVG drawn on a canvas; kaleido reloads its page for every image
    (~0.2 s each), so the PNGs are drawn from the SVGs in one page of the same Chromium instead:
    the bytes are identical to kaleido's own PNG (a test checks it), in less than half the time.
    """
    if not jobs:
        return
    require_browser()
    import kaleido  # lazy: only steps that render pay for it

    specs = [{"fig": job.figure, "path": str(_temporary(job.svg)),
              "opts": {"format": "svg", "width": job.width, "height": job.height}} for job in jobs]
    try:
        # mathjax=False: kaleido would fetch MathJax from a CDN, doubling the time offline.
        errors = kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False, "n": max(1, tabs)})
        # kaleido returns its errors instead of raising them, and plotly.js may draw nothing
        # without any error: a picture that was not written must fail the step, by name.
        missing = [str(job.svg) for job in jobs if not _temporary(job.svg).exists()]
        if missing or errors:
            raise RuntimeError(f"kaleido did not render {len(missing)} chart(s): {', '.join(missing[:5])}"
                               + (f" — {'; '.join(map(str, errors[:3]))}" if errors else ""))
        for job in jobs:
            os.replace(_temporary(job.svg), job.svg)
    finally:
        for job in jobs:
            _temporary(job.svg).unlink(missing_ok=True)
    asyncio.run(_in_tabs(list(jobs), _rasterise_one, tabs))


_RASTERISE = """async (url, width, height, scale) => {
  const image = new Image(); image.src = url; await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale); canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d");
  context.fillStyle = "white"; context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/png").split(",")[1];
}"""


async def _in_tabs(jobs: list, work, tabs: int, prepare=None) -> list:  # noqa: ANN001 - internal helper
    """Run `work(tab, job)` over the jobs in `tabs` tabs of one browser; results in job order."""
    from choreographer import Browser

    results: list = [None] * len(jobs)
    queue: asyncio.Queue = asyncio.Queue()
    for index, job in enumerate(jobs):
        queue.put_nowait((index, job))

    async with Browser(headless=True) as browser:
        async def worker() -> None:
            tab = await browser.create_tab("about:blank")
            if prepare is not None:
                await prepare(tab)
            while not queue.empty():
                index, job = queue.get_nowait()
                results[index] = await work(tab, job)

        await asyncio.gather(*(worker() for _ in range(max(1, min(tabs, len(jobs))))))
    return results


async def _rasterise_one(tab, job: PictureJob, timeout_s: float = 60.0) -> None:  # noqa: ANN001
    url = "data:image/svg+xml;base64," + base64.b64encode(job.svg.read_bytes()).decode()
    arguments = ", ".join(json.dumps(a) for a in (url, job.width, job.height, job.png_scale))
    response = await asyncio.wait_for(tab.send_command("Runtime.evaluate", params={
        "expression": f"({_RASTERISE})({arguments})", "awaitPromise": True, "returnByValue": True}), timeout_s)
    result = response.get("result", {})
    if "exceptionDetails" in result or "error" in response:
        raise RuntimeError(f"{job.svg.name}: Chromium could not draw the PNG "
                           f"({result.get('exceptionDetails', response.get('error'))})")
    temporary = _temporary(job.png)
    temporary.write_bytes(base64.b64decode(result["result"]["value"]))
    os.replace(temporary, job.png)


@dataclass(frozen=True)
class PdfJob:
    html: Path
    pdf: Path


#: A4 at 96 dpi, and the scale of the first-page thumbnail shown in the Dagster UI.
A4_PIXELS = (794, 1123)
THUMBNAIL_SCALE = 0.32


def print_pdfs(jobs: Sequence[PdfJob], tabs: int = 2) -> dict[Path, bytes]:
    """Print HTML pages to A4 PDFs (vector) in one headless Chromium; returns a small JPEG of
    each page's top (its preview)."""
    if not jobs:
        return {}
    require_browser()
    previews = asyncio.run(_in_tabs(list(jobs), _print_one, tabs, prepare=_a4_viewport))
    return {job.pdf: preview for job, preview in zip(jobs, previews, strict=True) if preview}


async def _a4_viewport(tab) -> None:  # noqa: ANN001
    await tab.send_command("Page.enable")
    await tab.send_command("Emulation.setDeviceMetricsOverride", params={
        "width": A4_PIXELS[0], "height": A4_PIXELS[1], "deviceScaleFactor": 1, "mobile": False})


async def _print_one(tab, job: PdfJob, timeout_s: float = 60.0) -> bytes | None:  # noqa: ANN001
    loaded = tab.subscribe_once("Page.loadEventFired")
    # `?print`: the page shows the SVG pictures and loads no script.
    await tab.send_command("Page.navigate", params={"url": job.html.resolve().as_uri() + "?print"})
    await asyncio.wait_for(loaded, timeout_s)
    response = await asyncio.wait_for(tab.send_command("Page.printToPDF", params={
        "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}), timeout_s)
    if "error" in response:
        raise RuntimeError(f"{job.html.name}: Chromium could not print ({response['error']})")
    temporary = _temporary(job.pdf)
    temporary.write_bytes(base64.b64decode(response["result"]["data"]))
    os.replace(temporary, job.pdf)
    shot = await asyncio.wait_for(tab.send_command("Page.captureScreenshot", params={
        "format": "jpeg", "quality": 60,
        "clip": {"x": 0, "y": 0, "width": A4_PIXELS[0], "height": A4_PIXELS[1], "scale": THUMBNAIL_SCALE},
    }), timeout_s)
    return base64.b64decode(shot["result"]["data"]) if "result" in shot else None
