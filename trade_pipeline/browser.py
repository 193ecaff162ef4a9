"""Debian's Chromium, shared by the chart pictures and the fiche PDFs.

Chromium must be found *before* anything starts: a browser that is not there would make a
rendering wait forever (stack_notes.md §6). Without one the pipeline still writes HTML fiches,
the figures and their CSVs, and says what it skipped.

`WarmTabs` keeps one headless Chromium and a few tabs open for a whole step, each tab with its
page loaded once (plotly.js for the pictures): work is fed to them as it is produced, from the
step's own thread, so that Python prepares the next figures while Chromium draws the last ones.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
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
Prepare = Callable[[Any], Awaitable[None]]


async def open_page(tab: Any, url: str, timeout_s: float = 60.0) -> None:
    """Navigate a tab and wait for its load event."""
    await tab.send_command("Page.enable")
    loaded = tab.subscribe_once("Page.loadEventFired")
    await tab.send_command("Page.navigate", params={"url": url})
    await asyncio.wait_for(loaded, timeout_s)


class WarmTabs:
    """`count` tabs of one headless Chromium, open for the duration of a `with` block.

        with WarmTabs(2, prepare=load_page) as tabs:
            futures = [tabs.submit(work, job) for job in jobs]   # work(tab, job) is a coroutine
            results = [f.result() for f in futures]

    Submitting returns a `concurrent.futures.Future`; the tabs take jobs in order as they become
    free. It waits while `count × 4` jobs are pending, so that the producer does not run far
    ahead of Chromium (memory, and progress that means something). Leaving the block waits for
    every job; a job's error is its future's.

    `renew_every`: after that many jobs a tab is closed and a new one opened (and prepared) in
    its place. A tab's renderer process keeps what every document it showed left behind (the
    fiches' pictures: 0.7 GiB after 58 fiches); a new tab gets a new, empty process.
    """

    def __init__(self, count: int, prepare: Prepare | None = None, renew_every: int | None = None):
        self.count = max(1, count)
        self.prepare = prepare
        self.renew_every = renew_every
        self._pending = threading.Semaphore(self.count * 4)
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._thread = threading.Thread(target=self._run, name="chromium-tabs", daemon=True)

    def __enter__(self) -> WarmTabs:
        require_browser()
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure
        return self

    def submit(self, work: Work, job: Any) -> Future:
        future: Future = Future()
        assert self._loop is not None and self._queue is not None
        if self._failure is not None:
            raise self._failure
        self._pending.acquire()
        future.add_done_callback(lambda _: self._pending.release())
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (work, job, future))
        return future

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._queue is not None:
            for _ in range(self.count):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # noqa: BLE001 - reported to the caller
            self._failure = self._failure or error
            self._ready.set()
            while self._queue is not None and not self._queue.empty():  # nobody will take them now
                item = self._queue.get_nowait()
                if item is not None:
                    item[2].set_exception(error)

    async def _serve(self) -> None:
        from choreographer import Browser

        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        async with Browser(headless=True) as browser:
            tabs = [await self._new_tab(browser) for _ in range(self.count)]
            self._ready.set()
            await asyncio.gather(*(self._worker(browser, tab) for tab in tabs))

    async def _new_tab(self, browser: Any) -> Any:
        # A window each: every tab is visible, so it draws frames (a background tab gets no
        # requestAnimationFrame and its screenshots can wait for ever).
        tab = await browser.create_tab("about:blank", window=True)
        if self.prepare is not None:
            await self.prepare(tab)
        return tab

    async def _worker(self, browser: Any, tab: Any) -> None:
        done = 0
        while (item := await self._queue.get()) is not None:
            if self.renew_every and done == self.renew_every:
                await browser.close_tab(tab)
                tab, done = await self._new_tab(browser), 0
            work, job, future = item
            try:
                future.set_result(await work(tab, job))
            except BaseException as error:  # noqa: BLE001 - the job's error, for its caller
                future.set_exception(error)
            done += 1


class Progress:
    """Calls `report(done, total)` at most every `every_s` seconds, and once at the end. Steps
    may come from the step's thread and from Chromium's (work done there)."""

    def __init__(self, total: int, report: Callable[[int, int], object] | None, every_s: float = 5.0):
        self.total, self.report, self.every_s = total, report, every_s
        self.done, self._last = 0, time.monotonic()
        self._lock = threading.Lock()

    def step(self, count: int = 1) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            due = self.report is not None and (now - self._last >= self.every_s or self.done == self.total)
            if due:
                self._last = now
            done = self.done
        if due:
            self.report(done, self.total)
