"""What the configured source offers now, as one fingerprint per year (for the new-vintage sensor),
and one for its latest publications (the latest-publication sensor).

A fingerprint changes when a year's files change: a new or re-issued zip on the DGDDI listing
(the name carries the publication month), a changed ETag / Last-Modified / size of a zip URL,
a changed checksum of the files of a local directory. The embedded sample never changes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from trade_pipeline.ingestion import download as http
from trade_pipeline.ingestion.latest_publication import holds_latest_publication
from trade_pipeline.ingestion.raw_store import sha256_file
from trade_pipeline.ingestion.sample_model import LATEST_VINTAGES, SEED
from trade_pipeline.ingestion.sources import YearNotInSource, archive_limits, files_of_year
from trade_pipeline.settings import DGDDI_SOURCE, SAMPLE_SOURCE, SAMPLE_YEARS, Settings

#: The year key of a source whose files do not say which year they hold (one zip URL).
ANY_YEAR = 0


def fingerprints(settings: Settings) -> dict[int, str]:
    """year → fingerprint of what the source holds for that year."""
    source = settings.source
    if source == SAMPLE_SOURCE:
        return {year: f"sample:{SEED}" for year in SAMPLE_YEARS}
    if source == DGDDI_SOURCE:
        by_year: dict[int, list[str]] = {}
        for link in http.available_vintages(settings.listing_url, settings):
            by_year.setdefault(link.year, []).append(f"{link.flow}:{link.file_name}")
        return {year: "|".join(sorted(names)) for year, names in by_year.items()}
    if source.startswith(("http://", "https://")):
        with http.client(settings) as session:
            response = session.head(source)
            response.raise_for_status()
        headers = response.headers
        return {ANY_YEAR: "|".join(headers.get(h, "") for h in ("etag", "last-modified", "content-length"))}
    return _local(Path(source), settings)


def _local(path: Path, settings: Settings) -> dict[int, str]:
    if path.is_file():
        return {ANY_YEAR: sha256_file(path)}
    result = {}
    candidates = [p for p in sorted(path.iterdir()) if p.is_file()] if path.is_dir() else []
    years = {int(part) for p in candidates for part in _years_in(p.name)}
    for year in sorted(years):
        digest = hashlib.sha256()
        try:
            chosen = files_of_year(path, year, settings)
        except YearNotInSource:
            chosen = []
        for item in chosen:
            digest.update(f"{item.name}:{sha256_file(item)}\n".encode())
        result[year] = digest.hexdigest()
    return result


def _years_in(name: str) -> list[str]:
    return [match for match in re.findall(r"(?<!\d)(20\d{2})(?!\d)", name) if 2000 < int(match) < 2100]


def latest_fingerprint(settings: Settings) -> str | None:
    """A fingerprint of the latest publications the source offers (None: it offers none): the
    newest month's zips on the DGDDI listing, the files of a directory, the sample's vintages."""
    source = settings.source
    if source == SAMPLE_SOURCE:
        return f"sample:{SEED}:{','.join(LATEST_VINTAGES)}"
    if source == DGDDI_SOURCE:
        links = http.latest_links(http.fetch_text(settings.listing_url, settings), settings.listing_url)
        return "|".join(sorted(f"{link.flow}:{link.file_name}" for link in links)) or None
    path = Path(source)
    if source.startswith(("http://", "https://")) or not path.is_dir():
        return None
    limits = archive_limits(settings)
    chosen = [p for p in sorted(path.iterdir()) if p.is_file() and holds_latest_publication(p, limits)]
    if not chosen:
        return None
    return hashlib.sha256("".join(f"{p.name}:{sha256_file(p)}\n" for p in chosen).encode()).hexdigest()
