"""Debian's Chromium, shared by the chart pictures and the fiche PDFs.

Chromium must be found *before* anything starts: a browser that is not there would make a
rendering wait forever. Without one the pipeline still writes HTML fiches,
the figures and their CSVs, and says what it skipped.

`WarmTabs` keeps one headless Chromium and a few tabs open for a whole step, each tab with its
page loaded once (plotly.js for the pictures): work is fed to them as it is produced, from the
step's own thread, so that Python prepares the next figures while Chromium draws the last ones.

Every wait on Chromium is bounded (`TRADE_PIPELINE_BROWSER_TIMEOUT`): its start, each tab, each
job (a picture, a PDF) and its closing. A browser that never answers — `BROWSER_PATH` naming
something that is not Chromium, a Chromium that hangs — fails the step with `BrowserFailed`,
one line naming the browser and what to check, and the browser's processes are killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install -y chromium (or set BROWSER_PATH)"

#: Seconds Chromium may take to start, to open a tab, or to finish one job (TRADE_PIPELINE_BROWSER_TIMEOUT).
DEFAULT_TIMEOUT_S = 60.0
#: Seconds given to a browser to close before its processes are killed.
CLOSE_TIMEOUT_S = 10.0


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine: HTML only, images and PDFs are skipped."""


class BrowserFailed(RuntimeError):
    """Chromium did not start or stopped answering; the message names it and what to check."""


def browser_name(configured: str | None) -> str:
    """The browser as a user set or finds it: `BROWSER_PATH=…`, or the `chromium` found on PATH."""
    if configured:
        return f"BROWSER_PATH={configured}"
    return f"{chromium_path(None) or 'chromium'} (found on PATH; BROWSER_PATH picks another)"


def _what_to_check(configured: str | None) -> str:
    path = configured or chromium_path(None) or "chromium"
    return (f"check that it is Chromium or Google Chrome and runs here (`{path} --headless --version`), "
            "or unset BROWSER_PATH to use Debian's chromium (apt-get install -y chromium)")


def chromium_path(configured: str | None) -> str | None:
    """The browser `configured` (the setting BROWSER_PATH, kaleido's convention), else `chromium`
    or `google-chrome` on PATH; None when it is not an executable file."""
    candidate = configured or shutil.which("chromium") or shutil.which("google-chrome")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def require_browser(configured: str | None) -> str:
    path = chromium_path(configured)
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

    def __init__(self, count: int, prepare: Prepare | None = None, renew_every: int | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, browser_path: str | None = None):
        self.count = max(1, count)
        self.prepare = prepare
        self.renew_every = renew_every
        self.timeout_s = timeout_s
        self.browser_path = browser_path  # the setting BROWSER_PATH (None: chromium on PATH)
        self._pending = threading.Semaphore(self.count * 4)
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._thread = threading.Thread(target=self._run, name="chromium-tabs", daemon=True)

    def __enter__(self) -> WarmTabs:
        self._path = require_browser(self.browser_path)
        self._thread.start()
        # The start is bounded inside the thread; this bound only guards against a bug there.
        if not self._ready.wait(self.timeout_s * (self.count + 1) + CLOSE_TIMEOUT_S * 2):
            raise BrowserFailed(f"Chromium ({self._name()}) did not start within {self.timeout_s:.0f} s; "
                                f"{_what_to_check(self.browser_path)}")
        if self._failure is not None:
            self._thread.join()
            raise self._failure
        return self

    def _name(self) -> str:
        return browser_name(self.browser_path)

    def submit(self, work: Work, job: Any) -> Future:
        """Queue a job; raises the first failure of an earlier job (nothing more is worth starting)."""
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
        # choreographer logs, as warnings, what _stop does on purpose (« unclean kill », « watchdog »).
        logging.getLogger("choreographer").setLevel(logging.ERROR)
        browser = Browser(self._path, headless=True)
        opening = asyncio.ensure_future(browser.open())
        done, _ = await asyncio.wait({opening}, timeout=self.timeout_s)
        if not done or opening.exception() is not None:
            await _stop(browser, graceful=False)  # ends what the opening waits for
            if not done:
                opening.cancel()
            with contextlib.suppress(BaseException):
                await opening
            cause = (f"did not answer within {self.timeout_s:.0f} s of its start (TRADE_PIPELINE_BROWSER_TIMEOUT)"
                     if not done else "exited as soon as it started")
            raise BrowserFailed(f"Chromium ({self._name()}) {cause}; {_what_to_check(self.browser_path)}")
        try:
            tabs = [await self._new_tab(browser) for _ in range(self.count)]
            self._ready.set()
            await asyncio.gather(*(self._worker(browser, tab) for tab in tabs))
        except BrowserFailed:
            await _stop(browser, graceful=False)
            raise
        finally:
            await _stop(browser)

    async def _new_tab(self, browser: Any) -> Any:
        async def open_tab() -> Any:
            # A window each: every tab is visible, so it draws frames (a background tab gets no
            # requestAnimationFrame and its screenshots can wait for ever).
            tab = await browser.create_tab("about:blank", window=True)
            if self.prepare is not None:
                await self.prepare(tab)
            return tab

        try:
            return await asyncio.wait_for(open_tab(), self.timeout_s)
        except TimeoutError:
            raise BrowserFailed(f"Chromium ({self._name()}) did not open a tab within {self.timeout_s:.0f} s; "
                                f"{_what_to_check(self.browser_path)}") from None

    async def _worker(self, browser: Any, tab: Any) -> None:
        done = 0
        while (item := await self._queue.get()) is not None:
            work, job, future = item
            if self._failure is not None:  # an earlier job failed: the step fails with it
                future.set_exception(self._failure)
                continue
            try:
                if self.renew_every and done == self.renew_every:
                    await asyncio.wait_for(browser.close_tab(tab), self.timeout_s)
                    tab, done = await self._new_tab(browser), 0
                future.set_result(await asyncio.wait_for(work(tab, job), self.timeout_s))
            except BaseException as error:  # noqa: BLE001 - the job's error, for its caller
                if isinstance(error, TimeoutError):
                    error = BrowserFailed(f"Chromium ({self._name()}) did not finish {getattr(job, 'label', 'a job')} "
                                          f"within {self.timeout_s:.0f} s (TRADE_PIPELINE_BROWSER_TIMEOUT); "
                                          f"{_what_to_check(self.browser_path)}")
                self._failure = self._failure or error
                future.set_exception(error)
            done += 1


async def _stop(browser: Any, graceful: bool = True) -> None:
    """Close the browser; kill its processes first when it is not answering (`graceful` False),
    or when it does not close in time: a hung browser would otherwise keep the step, and the
    pipeline lock, for ever."""
    process = getattr(browser, "subprocess", None)

    async def kill() -> None:
        if process is not None and process.poll() is None:
            # choreographer starts the browser as the leader of its own process group: its renderers go too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):  # reaped: the close below sees a closed browser at once
                await asyncio.get_running_loop().run_in_executor(None, process.wait, CLOSE_TIMEOUT_S)

    if not graceful:
        await kill()
    with contextlib.suppress(BaseException):  # closing a broken browser: what matters is that it is gone
        await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT_S)
    await kill()


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
