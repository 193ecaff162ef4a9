"""The raw store: the files of each year exactly as fetched, content-addressed, swapped atomically.

Layout under `$TRADE_PIPELINE_DATA_DIR/raw/`:

    <year>/<version>/<files as fetched>   one folder per distinct content (never modified)
    <year>/current.json                   which version is current, with provenance
    .staging/                             downloads in progress (removed on success and failure)

The version of a year is the sha256 of its files' sha256s: the same bytes give the same version,
so an identical refresh rewrites nothing. `current.json` is replaced with `os.replace`, so a
crash leaves either the old or the new version current, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trade_pipeline.atomic import fsync_path, write_atomically

_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class RawFile:
    name: str
    sha256: str
    size: int
    origin: str  # URL, local path or 'sample'
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class RawVersion:
    year: int
    version: str
    source: str
    synthetic: bool
    files: tuple[RawFile, ...]
    directory: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return [self.directory / f.name for f in self.files]

    def to_json(self) -> dict:
        data = asdict(self)
        data["directory"] = self.directory.name
        return data


def version_of(files: list[RawFile]) -> str:
    """sha256 over the sorted sha256 of the files: independent of names and fetch times."""
    return hashlib.sha256("\n".join(sorted(f.sha256 for f in files)).encode()).hexdigest()


class RawStore:
    def __init__(self, root: Path):
        self.root = root

    def _year_dir(self, year: int) -> Path:
        return self.root / str(year)

    def current(self, year: int) -> RawVersion | None:
        pointer = self._year_dir(year) / "current.json"
        if not pointer.exists():
            return None
        data = json.loads(pointer.read_text(encoding="utf-8"))
        return RawVersion(
            year=data["year"], version=data["version"], source=data["source"], synthetic=data["synthetic"],
            files=tuple(RawFile(**f) for f in data["files"]), directory=self._year_dir(year) / data["directory"],
            extra=data.get("extra", {}),
        )

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private folder for a fetch in progress; always removed afterwards."""
        base = self.root / ".staging"
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=base))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, year: int, staged: Path, files: list[RawFile], source: str, synthetic: bool,
               extra: dict[str, str] | None = None) -> tuple[RawVersion, bool]:
        """Make the staged files the current version of `year`.

        Returns the version and whether anything changed. The same content as the current
        version changes nothing on disk.
        """
        version = version_of(files)
        current = self.current(year)
        if current is not None and current.version == version and current.directory.exists():
            return current, False
        year_dir = self._year_dir(year)
        year_dir.mkdir(parents=True, exist_ok=True)
        target = year_dir / version[:16]
        if not target.exists():
            moving = year_dir / f".{version[:16]}.incoming"
            shutil.rmtree(moving, ignore_errors=True)
            moving.mkdir()
            for f in files:
                os.replace(staged / f.name, moving / f.name)
            fsync_path(moving)
            os.replace(moving, target)
        raw = RawVersion(year, version, source, synthetic, tuple(files), target, dict(extra or {}))
        write_atomically(year_dir / "current.json", json.dumps(raw.to_json(), indent=2, ensure_ascii=False).encode())
        self._prune(year, keep={target.name})
        return raw, True

    def _prune(self, year: int, keep: set[str], versions_kept: int = 3) -> None:
        """Keep the last few versions (audit, rollback); drop older ones and leftovers."""
        year_dir = self._year_dir(year)
        folders = sorted((p for p in year_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in folders:
            if stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
        versions = [p for p in folders if not p.name.startswith(".")]
        for old in versions[versions_kept:]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
