"""The fiche PDFs: A4, vector charts, printed by Chromium in a few warm tabs.

A tab navigates once per folder (a year's fiches), then each next fiche of that folder replaces
the document's content (`Page.setDocumentContent`): the same URL base, so the same relative
links and pictures, without a navigation each time. It costs a third of a navigation (one
document less to create, and the région's and France's pictures stay in the tab's image cache);
the PDFs are the same (text, links, drawing commands: compared page by page when this was chosen).

Every PDF is printed to a temporary name and renamed: a fiche's PDF is never half-written.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from trade_pipeline.lib.browser import DEFAULT_TIMEOUT_S, WarmTabs, open_page, temporary_path


@dataclass(frozen=True)
class PdfJob:
    """Print `html` to `pdf`; then, when `replaces` is given, put `html` (a staged page) there:
    the PDF first, so that a crash in between leaves a page that differs from the new one, which
    the next run writes and prints again."""

    html: Path
    pdf: Path
    replaces: Path | None = None

    @property
    def label(self) -> str:
        return f"the PDF of {self.html.name}"


#: A4 at 96 dpi, and the preview shown in the Dagster UI: the top of the first page (title,
#: totals, exposure) at a size where its text can be read.
A4_PIXELS = (794, 1123)
PREVIEW_CLIP = (794, 760)
PREVIEW_SCALE = 0.85

#: A tab prints this many fiches, then a new tab (a new renderer process) takes its place. A
#: renderer keeps growing with the documents it showed (0.7 GiB after 58 fiches: the PDFs' peak
#: of a year); renewed every 30, the year's printing peaks at 1.3 GiB instead of 1.8–1.9, in the
#: same time (measured: 116 fiches, 2 tabs, 21 s either way).
FICHES_PER_TAB = 30


def print_pdfs(jobs: Iterable[PdfJob], tabs: int = 2, on_printed: Callable[[], object] | None = None,
               timeout_s: float = DEFAULT_TIMEOUT_S, browser_path: str | None = None) -> dict[Path, bytes]:
    """Print HTML pages to A4 PDFs (vector) in warm tabs of one headless Chromium; returns a JPEG
    of each page's top (its preview in the Dagster UI). `jobs` may be produced while earlier ones
    print (the pages are written meanwhile); `on_printed()` after each PDF."""
    iterator = iter(jobs)
    first = next(iterator, None)
    if first is None:
        return {}
    done: list[tuple[PdfJob, Future]] = []
    printer = _Printer()
    with WarmTabs(tabs, prepare=_a4_viewport, renew_every=FICHES_PER_TAB, timeout_s=timeout_s,
                  browser_path=browser_path) as warm:
        for job in itertools.chain([first], iterator):
            future = warm.submit(printer.print_one, job)
            if on_printed is not None:
                future.add_done_callback(lambda _: on_printed())
            done.append((job, future))
    return {job.pdf: preview for job, future in done if (preview := future.result())}


async def _a4_viewport(tab) -> None:  # noqa: ANN001
    await tab.send_command("Page.enable")
    await tab.send_command("Emulation.setDeviceMetricsOverride", params={
        "width": A4_PIXELS[0], "height": A4_PIXELS[1], "deviceScaleFactor": 1, "mobile": False})


#: Resolves once every picture of the page is decoded (a missing one as a broken image, as on
#: a normal load), the fonts are ready and a frame with them has been drawn: then the page is
#: what a load event would have shown. Without that frame, a screenshot of a replaced document
#: can wait for ever for a frame nothing asks for (seen on the last fiche, the other tabs idle).
_PICTURES_READY = """Promise.all([document.fonts.ready,
  ...Array.from(document.images, image => image.decode().catch(() => null))])
  .then(() => new Promise(drawn => requestAnimationFrame(() => requestAnimationFrame(drawn))))
  .then(() => document.images.length)"""


class _Printer:
    """Prints fiches in warm tabs; remembers which folder each tab's document is in."""

    def __init__(self) -> None:
        self.folders: dict[str, tuple[Path, str]] = {}  # tab's target id -> (folder, frame id)

    async def _show(self, tab, html: Path, timeout_s: float) -> None:  # noqa: ANN001
        shown = self.folders.get(tab.target_id)
        if shown is not None and shown[0] == html.parent:
            replaced = await asyncio.wait_for(tab.send_command("Page.setDocumentContent", params={
                "frameId": shown[1], "html": html.read_text(encoding="utf-8")}), timeout_s)
            if "error" in replaced:
                raise RuntimeError(f"{html.name}: Chromium could not show the page ({replaced['error']})")
        else:
            # `?print`: the page shows the SVG pictures and loads no script (the URL, and so this
            # query, stays while the content is replaced).
            await open_page(tab, html.resolve().as_uri() + "?print", timeout_s)
            tree = await tab.send_command("Page.getFrameTree")
            self.folders[tab.target_id] = (html.parent, tree["result"]["frameTree"]["frame"]["id"])
        ready = await asyncio.wait_for(tab.send_command("Runtime.evaluate", params={
            "expression": _PICTURES_READY, "awaitPromise": True, "returnByValue": True}), timeout_s)
        if "error" in ready or "exceptionDetails" in ready.get("result", {}):
            raise RuntimeError(f"{html.name}: Chromium could not show the page ({ready})")

    async def print_one(self, tab, job: PdfJob, timeout_s: float = 60.0) -> bytes | None:  # noqa: ANN001
        await self._show(tab, job.html, timeout_s)
        response = await asyncio.wait_for(tab.send_command("Page.printToPDF", params={
            "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
            # Tagged (structure tree, language): screen readers can read the fiche. Untagged
            # would print 20 % faster; accessibility is worth more to a public fiche.
            "generateTaggedPDF": True}), timeout_s)
        if "error" in response:
            raise RuntimeError(f"{job.html.name}: Chromium could not print ({response['error']})")
        temporary = temporary_path(job.pdf)
        temporary.write_bytes(base64.b64decode(response["result"]["data"]))
        os.replace(temporary, job.pdf)
        if job.replaces is not None:
            os.replace(job.html, job.replaces)
        shot = await asyncio.wait_for(tab.send_command("Page.captureScreenshot", params={
            "format": "jpeg", "quality": 70, "optimizeForSpeed": True,
            "clip": {"x": 0, "y": 0, "width": PREVIEW_CLIP[0], "height": PREVIEW_CLIP[1], "scale": PREVIEW_SCALE},
        }), timeout_s)
        return base64.b64decode(shot["result"]["data"]) if "result" in shot else None
