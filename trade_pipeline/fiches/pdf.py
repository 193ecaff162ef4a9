"""The fiche PDFs: A4, vector charts, printed by Chromium in a few warm tabs.

Every PDF is printed to a temporary name and renamed: a fiche's PDF is never half-written.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trade_pipeline.browser import Progress, WarmTabs, temporary_path


@dataclass(frozen=True)
class PdfJob:
    html: Path
    pdf: Path


#: A4 at 96 dpi, and the preview shown in the Dagster UI: the top of the first page (title,
#: totals, exposure) at a size where its text can be read.
A4_PIXELS = (794, 1123)
PREVIEW_CLIP = (794, 760)
PREVIEW_SCALE = 0.85


def print_pdfs(jobs: Sequence[PdfJob], tabs: int = 2,
               progress: Callable[[int, int], object] | None = None) -> dict[Path, bytes]:
    """Print HTML pages to A4 PDFs (vector) in warm tabs of one headless Chromium; returns a JPEG
    of each page's top (its preview in the Dagster UI). `progress(done, total)` every few seconds."""
    if not jobs:
        return {}
    counter = Progress(len(jobs), progress)
    futures = []
    with WarmTabs(tabs, prepare=_a4_viewport) as warm:
        for job in jobs:
            futures.append(warm.submit(_print_one, job))
            futures[-1].add_done_callback(lambda _: counter.step())
    return {job.pdf: preview for job, future in zip(jobs, futures, strict=True) if (preview := future.result())}


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
    temporary = temporary_path(job.pdf)
    temporary.write_bytes(base64.b64decode(response["result"]["data"]))
    os.replace(temporary, job.pdf)
    shot = await asyncio.wait_for(tab.send_command("Page.captureScreenshot", params={
        "format": "jpeg", "quality": 70, "optimizeForSpeed": True,
        "clip": {"x": 0, "y": 0, "width": PREVIEW_CLIP[0], "height": PREVIEW_CLIP[1], "scale": PREVIEW_SCALE},
    }), timeout_s)
    return base64.b64decode(shot["result"]["data"]) if "result" in shot else None
