"""Debian's Chromium, shared by the chart pictures and the fiche PDFs.

Chromium must be found *before* anything starts: without a browser, kaleido's sync server hangs
on the first export (stack_notes.md §6). Without one the pipeline still writes HTML fiches, the
figures and their CSVs, and says what it skipped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install -y chromium (or set BROWSER_PATH)"


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine: HTML only, images and PDFs are skipped."""


def chromium_path() -> str | None:
    """BROWSER_PATH (kaleido's convention), else `chromium` or `google-chrome` on PATH."""
    candidate = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("google-chrome")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def require_browser() -> str:
    path = chromium_path()
    if path is None:
        raise BrowserUnavailable(f"no Chromium found: {INSTALL_HINT}")
    return path


def temporary_path(path: Path) -> Path:
    """Where a picture or PDF is written before it is renamed over `path` (never half a file)."""
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


Work = Callable[[Any, Any], Awaitable[Any]]


async def in_tabs(jobs: Sequence[Any], work: Work, tabs: int, prepare: Callable[[Any], Awaitable[None]] | None = None
                  ) -> list[Any]:
    """Run `work(tab, job)` over the jobs in `tabs` tabs of one headless Chromium; results in job order."""
    from choreographer import Browser

    require_browser()
    results: list[Any] = [None] * len(jobs)
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
