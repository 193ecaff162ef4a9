"""HTTP for the DGDDI source: discover the regional annual zips on a listing page, download them.

Downloads stream into a temporary file next to their destination and are renamed only when
complete and recognised as zips, so a timeout, a reset or a truncated body never leaves a partial
file behind. Transient failures (timeouts, resets, 5xx, 429) are retried with exponential
backoff; a 404 or an HTML page in place of a zip fails at once with a message naming the URL.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import httpx
from bs4 import BeautifulSoup
from tenacity import (
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)
from tenacity import Retrying as _Retrying

from trade_pipeline.ingestion.archives import describe_non_zip, looks_like_zip
from trade_pipeline.ingestion.dgddi_files import FLOW_NAMES, FLOWS, classify_zip_name, publication_prefix
from trade_pipeline.lib.atomic import FILE_MODE
from trade_pipeline.settings import Settings

USER_AGENT = "trade_pipeline/0.1 (+https://github.com/; open data of DGDDI)"


class DownloadError(RuntimeError):
    """A download or discovery that failed for good; the message names the URL and the cause."""


class YearNotListed(DownloadError):
    """The listing page has no zip of the year (not published yet): no data, not a fault."""


class _Transient(Exception):
    """Worth another try (server error, rate limit, dropped connection)."""


@dataclass(frozen=True)
class ZipLink:
    url: str
    file_name: str
    year: int
    flow: str  # 'E' or 'I'

    @property
    def vintage(self) -> str:
        return publication_prefix(self.file_name)


@dataclass(frozen=True)
class Downloaded:
    url: str
    file_name: str
    path: Path
    sha256: str
    size: int
    downloaded_at: str
    etag: str | None
    last_modified: str | None


def client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(settings.http_timeout_s, connect=min(settings.http_timeout_s, 30.0))
    return httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})


def _retrying(settings: Settings) -> _Retrying:
    return _Retrying(
        retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
        stop=stop_after_attempt(max(1, settings.http_attempts)),
        wait=wait_exponential(multiplier=settings.http_backoff_s, max=60 * settings.http_backoff_s),
        reraise=False,
    )


def _classify(error: Exception) -> Exception:
    """Map httpx errors to transient (retried) or final."""
    if isinstance(error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
        return _Transient(f"{type(error).__name__}: {error or 'no detail'}")
    return error


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise _Transient(f"HTTP {status} {response.reason_phrase}")
    if status >= 400:
        raise DownloadError(f"{response.request.url}: HTTP {status} {response.reason_phrase}")


def _with_retries(settings: Settings, url: str, action):  # noqa: ANN001, ANN202 - small internal helper
    try:
        for attempt in _retrying(settings):
            with attempt:
                try:
                    return action()
                except httpx.HTTPError as error:
                    raise _classify(error) from error
    except RetryError as error:
        cause = error.last_attempt.exception()
        raise DownloadError(
            f"{url}: failed after {settings.http_attempts} attempt(s): {cause}"
        ) from cause
    raise AssertionError("unreachable")


def fetch_text(url: str, settings: Settings, http: httpx.Client | None = None) -> str:
    """GET a page (the listing) with retries."""
    own = http is None
    http = http or client(settings)
    try:
        def get() -> str:
            response = http.get(url)
            _check_status(response)
            return response.text
        return _with_retries(settings, url, get)
    finally:
        if own:
            http.close()


def _hrefs(listing_html: str, listing_url: str) -> Iterator[tuple[str, str]]:
    """(absolute URL, file name) of every link of a listing page."""
    for anchor in BeautifulSoup(listing_html, "html.parser").find_all("a", href=True):
        url = urljoin(listing_url, anchor["href"].strip())
        yield url, _file_name(url)


def zip_links(listing_html: str, listing_url: str) -> list[ZipLink]:
    """Every link to a regional annual zip on a listing page (`…Regional-YYYY-export.zip`)."""
    links = []
    for url, file_name in _hrefs(listing_html, listing_url):
        kind = classify_zip_name(file_name)
        if kind is not None and kind.year is not None:
            links.append(ZipLink(url, file_name, kind.year, kind.flow))
    return links


def _file_name(url: str) -> str:
    parsed = urlparse(url)
    # The kiosque serves files as download_no.asp?fic=<name>&rep=…: the name is a query value.
    for match in re.finditer(r"(?:^|&)(?:fic|f|file)=([^&]+)", parsed.query):
        candidate = unquote(match.group(1))
        if candidate.lower().endswith(".zip"):
            return Path(candidate).name
    return Path(unquote(parsed.path)).name


def discover_year(listing_url: str, year: int, settings: Settings, http: httpx.Client | None = None) -> dict[str, ZipLink]:
    """The export and import zips of `year` on the listing page (latest vintage of each)."""
    html = fetch_text(listing_url, settings, http)
    links = zip_links(html, listing_url)
    if not links:
        anchors = len(BeautifulSoup(html, "html.parser").find_all("a", href=True))
        zips = len(re.findall(r"\.zip\b", html, flags=re.IGNORECASE))
        raise DownloadError(
            f"{listing_url}: no regional annual zip link (…Regional-YYYY-export.zip) on the listing page "
            f"({anchors} links, {zips} mentions of '.zip'): the page layout may have changed. "
            "Set TRADE_PIPELINE_SOURCE to a zip URL or a local directory instead."
        )
    chosen: dict[str, ZipLink] = {}
    for flow in ("E", "I"):
        of_year = [link for link in links if link.year == year and link.flow == flow]
        if not of_year:
            years = sorted({link.year for link in links})
            raise YearNotListed(
                f"{listing_url}: no {FLOW_NAMES[flow]} zip for {year} on the listing page "
                f"(years listed: {', '.join(map(str, years))})"
            )
        chosen[flow] = max(of_year, key=lambda link: (link.vintage, link.url))
    return chosen


#: Zips of the regional latest publication: `202512-stat-regional-ce-export.zip` (DGDDI's name is
#: not known; this is the national one's pattern with `regional`, docs/latest-quarters.md), or
#: any zip starting with its month and naming `regional` and a flow.
_LATEST_ZIP = re.compile(r"(?i)^(?P<vintage>20\d\d(?:0[1-9]|1[0-2]))-(?=.*regional)(?!.*regional[_-]\d{4}[_-])"
                         r".*?(?P<flow>export|import)\.zip$")


@dataclass(frozen=True)
class LatestLink:
    url: str
    file_name: str
    vintage: str
    flow: str


def latest_links(listing_html: str, listing_url: str) -> list[LatestLink]:
    """Every link to a regional latest-publication zip on a listing page."""
    links = []
    for url, file_name in _hrefs(listing_html, listing_url):
        if match := _LATEST_ZIP.match(file_name):
            links.append(LatestLink(url, file_name, match["vintage"], FLOWS[match["flow"].lower()]))
    return links


def discover_latest(listing_url: str, settings: Settings, http: httpx.Client | None = None) -> dict[str, LatestLink]:
    """The export and import zips of the newest latest publication on the listing page (empty
    when the page lists none; one flow without the other is refused)."""
    links = latest_links(fetch_text(listing_url, settings, http), listing_url)
    if not links:
        return {}
    newest = max(link.vintage for link in links)
    chosen = {}
    for flow in ("E", "I"):
        of_flow = sorted({link.url: link for link in links if link.vintage == newest and link.flow == flow}.values(),
                         key=lambda link: link.url)
        if len(of_flow) != 1:
            found = ", ".join(link.url for link in of_flow) or "none"
            raise DownloadError(f"{listing_url}: the latest publication {newest} needs one {FLOW_NAMES[flow]} zip, "
                                f"the listing has: {found}")
        chosen[flow] = of_flow[0]
    return chosen


def available_vintages(listing_url: str, settings: Settings, http: httpx.Client | None = None) -> list[ZipLink]:
    """All regional annual zips on the listing page (for the new-vintage sensor)."""
    return zip_links(fetch_text(listing_url, settings, http), listing_url)


def download(url: str, destination_dir: Path, settings: Settings, http: httpx.Client | None = None,
             file_name: str | None = None) -> Downloaded:
    """Download a zip into `destination_dir` (atomically: temp file, then rename)."""
    destination_dir.mkdir(parents=True, exist_ok=True)
    name = file_name or _file_name(url) or "download.zip"
    own = http is None
    http = http or client(settings)
    try:
        def attempt() -> Downloaded:
            return _download_once(http, url, destination_dir, name)
        return _with_retries(settings, url, attempt)
    finally:
        if own:
            http.close()


def _download_once(http: httpx.Client, url: str, destination_dir: Path, name: str) -> Downloaded:
    digest = hashlib.sha256()
    size = 0
    handle, temp_name = tempfile.mkstemp(prefix=".part-", suffix=".zip", dir=destination_dir)
    os.fchmod(handle, FILE_MODE)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out, http.stream("GET", url) as response:
            _check_status(response)
            head = b""
            for chunk in response.iter_bytes(1024 * 1024):
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            expected = response.headers.get("content-length")
            if expected is not None and int(expected) != size:
                raise _Transient(f"truncated body: {size:,} of {int(expected):,} bytes")
            if not looks_like_zip(head):
                content_type = response.headers.get("content-type", "unknown type")
                raise DownloadError(f"{url}: expected a zip, received {describe_non_zip(head)} ({content_type})")
            out.flush()
            os.fsync(out.fileno())
            etag = response.headers.get("etag")
            last_modified = response.headers.get("last-modified")
        final = destination_dir / name
        os.replace(temp, final)
        return Downloaded(url, name, final, digest.hexdigest(), size, datetime.now(UTC).isoformat(timespec="seconds"),
                          etag, last_modified)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def iter_chunks(path: Path, size: int = 1024 * 1024) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
