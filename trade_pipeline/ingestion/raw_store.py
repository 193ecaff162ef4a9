"""The raw store: the files of each year exactly as fetched, content-addressed, swapped atomically.

Layout under `$TRADE_PIPELINE_DATA_DIR/raw/`:

    <year>/<version>/<files as fetched>   one folder per distinct content (never modified)
    latest/<vintage>/…                    the same, per latest publication (`latest_store`)
    <year>/fetched.json                   the version fetched last (not validated yet, maybe never)
    <year>/current.json                   the version the warehouse holds: validated
    <year>/published.json                 the version the published store holds
    .staging/                             downloads in progress (removed on success and failure)

The version of a year is the sha256 of its files' sha256s: the same bytes give the same version,
so an identical refresh rewrites nothing. A fetched version becomes current only once its year
passed validation (`promote`); the versions that are current, published or fetched last are
never pruned, whatever was fetched since. Pointers are replaced with `os.replace`, so a crash
leaves either the old or the new version, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from trade_pipeline.lib.atomic import fsync_path, write_atomically

_CHUNK = 1024 * 1024
CURRENT, FETCHED, PUBLISHED = "current.json", "fetched.json", "published.json"


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

    @property
    def provenance(self) -> str:
        """Where the files come from (the source, each file's name and origin), as a digest: the
        same bytes fetched from elsewhere are the same content with another provenance."""
        where = [self.source, str(self.synthetic), *sorted(f"{f.name}\0{f.origin}" for f in self.files)]
        return hashlib.sha256("\n".join(where).encode()).hexdigest()

    @property
    def data_version(self) -> str:
        """The Dagster data version of the files and of the rows validated from them: their
        content and their provenance — a new provenance alone is recorded and published too."""
        return f"{self.version}-{self.provenance[:12]}"

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

    def _read(self, year: int, pointer: str) -> RawVersion | None:
        path = self._year_dir(year) / pointer
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return RawVersion(
            year=data["year"], version=data["version"], source=data["source"], synthetic=data["synthetic"],
            files=tuple(RawFile(**f) for f in data["files"]), directory=self._year_dir(year) / data["directory"],
            extra=data.get("extra", {}),
        )

    def _point(self, year: int, pointer: str, raw: RawVersion) -> None:
        write_atomically(self._year_dir(year) / pointer, json.dumps(raw.to_json(), indent=2, ensure_ascii=False).encode())

    def stored_keys(self) -> list[int]:
        """The years (or, in the store of latest publications, the vintages) with files."""
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if p.is_dir() and p.name.isdigit())

    def current(self, year: int) -> RawVersion | None:
        """The validated version: the one the warehouse holds."""
        return self._read(year, CURRENT)

    def fetched(self, year: int) -> RawVersion | None:
        """The version fetched last, to be validated (a store older than this pointer: current)."""
        return self._read(year, FETCHED) or self.current(year)

    def promote(self, year: int, raw: RawVersion) -> None:
        """`raw` passed validation and is in the warehouse: it becomes current."""
        self._point(year, CURRENT, raw)
        self._prune(year)

    def pin_published(self, year: int, version: str) -> None:
        """The published store holds `version` of `year`: keep its files."""
        raw = self.current(year)
        if raw is not None and raw.version == version and self._pinned(year, PUBLISHED) != version:
            self._point(year, PUBLISHED, raw)

    def _pinned(self, year: int, pointer: str) -> str | None:
        raw = self._read(year, pointer)
        return raw.version if raw else None

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
        """Keep the staged files as the fetched version of `year` (not current yet: `promote`).

        Returns the version and whether it differs from the one fetched before (its content, or
        only its provenance: the same bytes from another source, recorded as such). The same
        content from the same place changes nothing on disk.
        """
        version = version_of(files)
        candidate = RawVersion(year, version, source, synthetic, tuple(files), Path(), dict(extra or {}))
        fetched = self.fetched(year)
        if fetched is not None and fetched.version == version and fetched.directory.exists():
            if fetched.provenance == candidate.provenance:
                return fetched, False
            if all((fetched.directory / f.name).exists() for f in files):  # same bytes, same names: kept as they are
                raw = replace(candidate, directory=fetched.directory)
                self._point(year, FETCHED, raw)
                return raw, True
        year_dir = self._year_dir(year)
        year_dir.mkdir(parents=True, exist_ok=True)
        target = year_dir / version[:16]
        if target.exists() and not all((target / f.name).exists() for f in files):
            target = year_dir / f"{version[:16]}-{candidate.provenance[:8]}"  # the same bytes under other names
        if not target.exists():
            moving = year_dir / f".{version[:16]}.incoming"
            shutil.rmtree(moving, ignore_errors=True)
            moving.mkdir()
            for f in files:
                os.replace(staged / f.name, moving / f.name)
            fsync_path(moving)
            os.replace(moving, target)
        raw = RawVersion(year, version, source, synthetic, tuple(files), target, dict(extra or {}))
        self._point(year, FETCHED, raw)
        self._prune(year)
        return raw, True

    def _prune(self, year: int, versions_kept: int = 3) -> None:
        """Keep the versions current, published and fetched last, and the few newest (audit,
        rollback); drop older ones and leftovers of interrupted moves."""
        year_dir = self._year_dir(year)
        keep = {raw.directory.name for pointer in (CURRENT, PUBLISHED, FETCHED)
                if (raw := self._read(year, pointer)) is not None}
        folders = sorted((p for p in year_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in folders:
            if stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
        versions = [p for p in folders if not p.name.startswith(".")]
        for old in versions[versions_kept:]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)


def latest_store(raw_dir: Path) -> RawStore:
    """The raw store of the latest publications: the same layout, keyed by vintage (YYYYMM)."""
    return RawStore(raw_dir / "latest")
