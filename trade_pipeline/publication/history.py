"""The history of publications, `published/history/<id>/`, and the stable paths that lead to the
current one: reading it (`trade-pipeline publications`, `export --publication`), making a
finished snapshot current in one atomic swap, removing what a crash left, pruning the oldest.

    published/trade.duckdb, parquet/, csv/, publication.json  → current/…
    published/current                                          → history/<id>
    published/history/<id>/                                    every kept publication, whole
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Set
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from trade_pipeline.lib.atomic import fsync_path
from trade_pipeline.lib.french import long_date

#: The part of a table without a `year` column (one file for all of it).
WHOLE = "all"

HISTORY = "history"
CURRENT = "current"
MANIFEST = "publication.json"
#: What the stable paths of published/ lead to, inside the current snapshot.
STABLE_ENTRIES = ("trade.duckdb", "parquet", "csv", MANIFEST)



@dataclass(frozen=True)
class Publication:
    """One snapshot of published/history/: what `trade-pipeline publications` lists."""

    id: str
    published_at: str  # ISO 8601, UTC
    checksum: str
    years: list[int]
    raw_versions: dict[str, str]  # year → raw version
    tables: dict[str, int]  # table → rows
    parts: dict[str, dict[str, str]] = field(default_factory=dict)  # table → part (year or "all") → fingerprint
    same_content_as: str | None = None  # an earlier publication with the same checksum
    folder: Path | None = None

    @property
    def duckdb_path(self) -> Path:
        assert self.folder is not None
        return self.folder / "trade.duckdb"

    def label(self) -> str:
        """« publication du 2 décembre 2026 à 17 h 58 UTC (empreinte 3fa2c1d4e5f6) »."""
        moment = datetime.fromisoformat(self.published_at)
        return (f"publication du {long_date(moment.date())} à {moment:%H} h {moment:%M} UTC "
                f"(empreinte {self.checksum[:12]})")


def read_publication(folder: Path) -> Publication | None:
    """The publication of a snapshot folder (None when it has no readable manifest)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Publication(**{k: manifest[k] for k in Publication.__dataclass_fields__ if k in manifest},
                           folder=folder)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def current_publication(published_dir: Path) -> Publication | None:
    """The publication the stable paths lead to (None before the first one)."""
    current = published_dir / CURRENT
    return read_publication(current.resolve()) if current.is_symlink() else None


def publications(published_dir: Path) -> list[Publication]:
    """Every kept publication, the newest first."""
    history = published_dir / HISTORY
    if not history.is_dir():
        return []
    found = [read_publication(folder) for folder in history.iterdir() if not folder.name.startswith(".")]
    return sorted((p for p in found if p is not None), key=lambda p: (p.published_at, p.id), reverse=True)


def find_publication(published_dir: Path, wanted: str | None) -> Publication:
    """The current publication, or the one whose id (or id prefix) is `wanted`."""
    from trade_pipeline.settings import SettingsError

    if wanted is None:
        current = current_publication(published_dir)
        if current is None:
            raise SettingsError(f"{published_dir}: nothing published yet (run trade-pipeline build first)")
        return current
    kept = publications(published_dir)
    matches = [p for p in kept if p.id == wanted] or [p for p in kept if p.id.startswith(wanted)]
    if len(matches) != 1:
        listed = ", ".join(p.id for p in kept[:10]) or "none"
        what = "matches several publications" if matches else "is not a kept publication"
        raise SettingsError(f"--publication {wanted}: {what} (kept: {listed}; trade-pipeline publications lists them)")
    return matches[0]


def part_files(folder: Path, table: str, part: str) -> tuple[Path, Path]:
    """The Parquet and the CSV file of a table-year in a snapshot folder. The CSV is gzipped: as
    plain text it was most of a publication's size (1.6 of 2.5 GB for ten years at DGDDI's
    scale), and DuckDB, pandas, R and `zcat` read `.csv.gz` as they read `.csv`."""
    return folder / "parquet" / table / f"{part}.parquet", folder / "csv" / table / f"{part}.csv.gz"


def remove_unfinished(published_dir: Path) -> None:
    """What a crashed publication left: its staging folder, temporary links, and a snapshot
    renamed into history/ but never made current (its `.pending-<id>` marker is still there)."""
    history = published_dir / HISTORY
    current = published_dir / CURRENT
    current_name = Path(os.readlink(current)).name if current.is_symlink() else None
    for marker in history.glob(".pending-*"):
        name = marker.name.removeprefix(".pending-")
        if name != current_name:  # made current after all, the process died just after the swap
            shutil.rmtree(history / name, ignore_errors=True)
        marker.unlink(missing_ok=True)
    for path in [*history.glob(".staging-*"), *published_dir.glob(".*.tmp")]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def new_id(history: Path, now: datetime) -> str:
    """`2026-12-02T17-58-28Z`: sortable, readable, a valid file name; `-2`, `-3` the same second."""
    base = now.strftime("%Y-%m-%dT%H-%M-%SZ")
    candidate, n = base, 1
    while any((history / name).exists() for name in (candidate, f".staging-{candidate}", f".pending-{candidate}")):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def manifest_bytes(publication: Publication) -> bytes:
    manifest = {k: v for k, v in asdict(publication).items() if k != "folder"}
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def make_current(published_dir: Path, folder: Path) -> None:
    """Point published/current at `folder` (one atomic rename), and the stable paths through it."""
    link = published_dir / f".{CURRENT}.{os.getpid()}.tmp"
    link.unlink(missing_ok=True)
    os.symlink(Path(HISTORY) / folder.name, link)
    os.replace(link, published_dir / CURRENT)
    for entry in STABLE_ENTRIES:
        stable = published_dir / entry
        if stable.is_symlink() and os.readlink(stable) == str(Path(CURRENT) / entry):
            continue
        # First publication, or a data directory of the single-file layout: its trade.duckdb
        # file is replaced by the link in one rename (a reader of the old file keeps it).
        temporary = published_dir / f".{entry}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        os.symlink(Path(CURRENT) / entry, temporary)
        if stable.is_dir() and not stable.is_symlink():
            shutil.rmtree(stable)
        os.replace(temporary, stable)
    fsync_path(published_dir)


def prune(published_dir: Path, kept: int, cited: Set[str]) -> list[str]:
    """Remove the oldest snapshots beyond `kept` — never the current one, nor one that `cited`
    holds (a fiche on disk names it: its reader must find it)."""
    current = current_publication(published_dir)
    pruned = []
    for old in publications(published_dir)[kept:]:
        if (current is not None and old.id == current.id) or old.id in cited:
            continue
        shutil.rmtree(old.folder, ignore_errors=True)
        pruned.append(old.id)
    return pruned
