"""Where a year's raw files come from (`TRADE_PIPELINE_SOURCE`), fetched into a staging folder.

* `sample`  — the embedded synthetic sample (default, offline);
* `dgddi`   — the regional annual zips listed on the DGDDI « Bases complètes » page;
* a local path — a directory of DGDDI zips or `.txt` files, or one zip;
* an `http(s)://` URL of a zip.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trade_pipeline.ingestion import download as http
from trade_pipeline.ingestion.archives import ArchiveLimits, SafeZip
from trade_pipeline.ingestion.dgddi_files import classify_data_member, classify_zip_name
from trade_pipeline.ingestion.latest_publication import holds_latest_publication, vintage_of, vintage_or_refuse
from trade_pipeline.ingestion.raw_store import RawFile, sha256_file
from trade_pipeline.ingestion.sample import is_sample_file, sample_files, sample_latest_files
from trade_pipeline.lib.nomenclature import label_kind
from trade_pipeline.settings import DGDDI_SOURCE, SAMPLE_SOURCE, SAMPLE_YEARS, Settings


class YearNotInSource(RuntimeError):
    """The source has no file of the year (the sample's years, a directory, DGDDI's listing): the
    year has no data there yet — not a fault of the files. `raw_trade_files` then materializes
    nothing and says why; `trade-pipeline build` of that year stops with the reason."""


class SourceError(RuntimeError):
    """The configured source cannot provide the year; the message says why and what to do."""


#: What a source can fail with, expectedly: each message names the file, member, line or URL.
def expected_errors() -> tuple[type[Exception], ...]:
    from trade_pipeline.ingestion.archives import ArchiveError
    from trade_pipeline.ingestion.dgddi_files import DataFileError
    from trade_pipeline.ingestion.download import DownloadError
    from trade_pipeline.lib.nomenclature import LabelFileError

    return SourceError, YearNotInSource, DownloadError, ArchiveError, DataFileError, LabelFileError


@dataclass(frozen=True)
class Fetched:
    files: list[RawFile]
    source: str
    synthetic: bool


def archive_limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(max_member_bytes=settings.max_member_bytes,
                         max_compression_ratio=settings.max_compression_ratio)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_year_in_source(settings: Settings, year: int) -> None:
    """Raise YearNotInSource when the source plainly has no file of `year` — before a build asks
    for it. Anything else (the site down, a damaged file) is left to the fetch, which reports it."""
    source = settings.source
    if source == SAMPLE_SOURCE:
        _check_sample_year(year)
    elif source == DGDDI_SOURCE:
        try:
            http.discover_year(settings.listing_url, year, settings)
        except http.YearNotListed as unlisted:
            raise YearNotInSource(str(unlisted)) from None
        except http.DownloadError:
            return
    elif not source.startswith(("http://", "https://")) and Path(source).is_dir():
        try:
            files_of_year(Path(source), year, settings)
        except YearNotInSource:
            raise
        except expected_errors():  # a hostile or damaged zip: the fetch refuses it, naming it
            return


def fetch_year(settings: Settings, year: int, staging: Path) -> Fetched:
    """Put the raw files of `year` from the configured source into `staging`."""
    source = settings.source
    if source == SAMPLE_SOURCE:
        return _fetch_sample(year, staging)
    if source == DGDDI_SOURCE:
        try:
            links = http.discover_year(settings.listing_url, year, settings)
        except http.YearNotListed as unlisted:
            raise YearNotInSource(str(unlisted)) from None
        with http.client(settings) as session:
            files = [_downloaded(http.download(link.url, staging, settings, session, link.file_name))
                     for link in links.values()]
        return Fetched(files, f"dgddi:{settings.listing_url}", synthetic=False)
    if source.startswith(("http://", "https://")):
        return Fetched([_downloaded(http.download(source, staging, settings))], source, synthetic=False)
    return _fetch_local(Path(source), year, staging, settings)


def _downloaded(item: http.Downloaded) -> RawFile:
    return RawFile(item.file_name, item.sha256, item.size, item.url, item.downloaded_at, item.etag, item.last_modified)


def _check_sample_year(year: int) -> None:
    if year not in SAMPLE_YEARS:
        raise YearNotInSource(
            f"the embedded sample covers {SAMPLE_YEARS[0]}–{SAMPLE_YEARS[-1]}, not {year}: choose one of those years "
            "(in the UI: the partition of the run), or another source — `--source`, TRADE_PIPELINE_SOURCE, or in the "
            "UI the `source` of the `settings` resource in the launchpad: dgddi, a directory, a zip or its URL"
        )


def _fetch_sample(year: int, staging: Path) -> Fetched:
    _check_sample_year(year)
    files = []
    for item in sample_files(year):
        path = staging / item.name
        path.write_bytes(item.data)
        files.append(RawFile(item.name, sha256_file(path), len(item.data), "sample", _now()))
    return Fetched(files, SAMPLE_SOURCE, synthetic=True)


def _fetch_local(path: Path, year: int, staging: Path, settings: Settings) -> Fetched:
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory (TRADE_PIPELINE_SOURCE / --source)")
    chosen = [path] if path.is_file() else files_of_year(path, year, settings)
    files = []
    for item in chosen:
        target = staging / item.name
        shutil.copyfile(item, target)
        files.append(RawFile(item.name, sha256_file(target), target.stat().st_size, str(item.resolve()), _now()))
    # Files that `trade-pipeline sample` wrote stay labelled synthetic wherever they are copied.
    return Fetched(files, str(path), synthetic=any(is_sample_file(item) for item in chosen))


def files_of_year(directory: Path, year: int, settings: Settings) -> list[Path]:
    chosen = [p for p in sorted(directory.iterdir()) if p.is_file() and belongs_to_year(p, year, settings)]
    if any(_is_annual_data(p, year, settings) for p in chosen):
        # The latest publications beside the year's annual file feed the latest quarters, not
        # this year: a new one each month must not make the year's files change.
        chosen = [p for p in chosen if not holds_latest_publication(p, archive_limits(settings))]
    if not chosen:
        raise YearNotInSource(
            f"{directory}: no DGDDI file for {year} (looked for …Regional-{year}-export.zip, "
            f"Region_{year}_Export.txt, REGIONAL_CPF4PAYSE.txt and their import twins)"
        )
    return chosen


def _is_annual_data(path: Path, year: int, settings: Settings) -> bool:
    if path.suffix.lower() == ".txt":
        return (kind := classify_data_member(path.name)) is not None and kind.year == year
    if (named := classify_zip_name(path.name)) is not None:
        return named.year == year
    with SafeZip(path, archive_limits(settings)) as archive:
        return any((k := classify_data_member(m)) is not None and k.year == year for m in archive.members)


def belongs_to_year(path: Path, year: int, settings: Settings) -> bool:
    """Does this file of a source directory belong to `year` (data of the year, or labels)?"""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        kind = classify_data_member(path.name)
        return (kind is not None and kind.year in (year, None)) or label_kind(path.name) is not None
    if suffix != ".zip":
        return False
    named = classify_zip_name(path.name)
    if named is not None:
        return named.year == year
    # A zip without the year in its name: look inside (refusing hostile archives here too).
    with SafeZip(path, archive_limits(settings)) as archive:
        return any((k := classify_data_member(m)) is not None and k.year in (year, None) for m in archive.members)


# --------------------------------------------------------------------------------------------
# The latest publications (« dernière publication »): ingestion/latest_publication.py
# --------------------------------------------------------------------------------------------


def fetch_latest(settings: Settings, staging: Path) -> dict[str, Fetched]:
    """The latest publications the source offers, vintage → its files, each vintage in its own
    folder `staging/<vintage>/`. Empty when the source has none (not an error: the latest
    quarters are then simply not shown). The sample offers its two synthetic vintages; DGDDI's
    listing its newest; a directory every vintage in it (with the label files beside them)."""
    source = settings.source
    if source == SAMPLE_SOURCE:
        by_vintage: dict[str, list[RawFile]] = {}
        for item in sample_latest_files():
            folder = staging / (vintage_of(item.name) or "")
            folder.mkdir(exist_ok=True)
            (folder / item.name).write_bytes(item.data)
            by_vintage.setdefault(folder.name, []).append(
                RawFile(item.name, sha256_file(folder / item.name), len(item.data), "sample", _now()))
        return {vintage: Fetched(files, SAMPLE_SOURCE, synthetic=True) for vintage, files in by_vintage.items()}
    if source == DGDDI_SOURCE:
        links = http.discover_latest(settings.listing_url, settings)
        if not links:
            return {}
        vintage = next(iter(links.values())).vintage
        with http.client(settings) as session:
            files = [_downloaded(http.download(link.url, staging / vintage, settings, session, link.file_name))
                     for link in links.values()]
        return {vintage: Fetched(files, f"dgddi:{settings.listing_url}", synthetic=False)}
    if source.startswith(("http://", "https://")):
        return {}  # one zip URL is one year's (or one vintage's) file: the year's fetch reads it
    path = Path(source)
    if not path.is_dir():
        return {}
    limits = archive_limits(settings)
    items = [p for p in sorted(path.iterdir()) if p.is_file()]
    latest = [p for p in items if holds_latest_publication(p, limits)]
    labels = [p for p in items if p.suffix.lower() == ".txt" and label_kind(p.name) is not None]
    fetched = {}
    for vintage in sorted({vintage_or_refuse(p.name) for p in latest}):
        folder = staging / vintage
        folder.mkdir()
        chosen = [p for p in latest if vintage_of(p.name) == vintage] + labels
        files = []
        for item in chosen:
            shutil.copyfile(item, folder / item.name)
            files.append(RawFile(item.name, sha256_file(folder / item.name), item.stat().st_size, str(item.resolve()),
                                 _now()))
        fetched[vintage] = Fetched(files, str(path), synthetic=any(is_sample_file(item) for item in chosen))
    return fetched

