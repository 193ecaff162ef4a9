"""Reading DGDDI zips without trusting them.

Nothing is ever extracted to disk by member name: members are read into memory after their
names, types and sizes were checked. Hostile archives are refused with a message naming the zip
and the member: path traversal (`../`), absolute paths, symlinks, zip bombs (size and ratio
caps), oversized members, and files that are not zips at all.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


class ArchiveError(ValueError):
    """A zip that cannot be read safely; the message names the file (and member)."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_member_bytes: int = 2 * 1024**3
    max_compression_ratio: float = 200.0
    max_total_bytes: int = 8 * 1024**3
    max_members: int = 1000


def looks_like_zip(head: bytes) -> bool:
    return head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC))


def describe_non_zip(head: bytes) -> str:
    """A short, human description of what a file that should be a zip holds instead."""
    text = head[:200].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        return "an HTML page"
    if not head:
        return "an empty file"
    try:
        head[:200].decode("utf-8")
        return f"text starting with {head[:40].decode('utf-8', 'replace')!r}"
    except UnicodeDecodeError:
        return f"binary data starting with {head[:8].hex(' ')}"


def _check_member_name(zip_name: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    if "\x00" in name:
        raise ArchiveError(f"{zip_name}: member {name!r} has a NUL byte in its name; refused")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise ArchiveError(f"{zip_name}: member {name!r} has an absolute path; refused")
    if ".." in PurePosixPath(unified).parts:
        raise ArchiveError(f"{zip_name}: member {name!r} escapes the archive with '..'; refused")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError(f"{zip_name}: member {name!r} is a symbolic link; refused")


class SafeZip:
    """A zip whose members were all checked; read members with :meth:`read`."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None, display_name: str | None = None):
        self.path = Path(path)
        self.name = display_name or self.path.name
        self.limits = limits or ArchiveLimits()
        with open(self.path, "rb") as handle:
            head = handle.read(512)
        if not looks_like_zip(head):
            raise ArchiveError(f"{self.name}: not a zip file (it holds {describe_non_zip(head)})")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as error:
            raise ArchiveError(f"{self.name}: damaged or truncated zip ({error})") from error
        try:
            self._check_members()
        except Exception:
            self._zip.close()
            raise

    def _check_members(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_members:
            raise ArchiveError(f"{self.name}: {len(infos)} members, more than the {self.limits.max_members} allowed")
        total = 0
        seen: set[str] = set()
        for info in infos:
            _check_member_name(self.name, info)
            if info.filename in seen:  # zipfile would read the last one silently
                raise ArchiveError(f"{self.name}: holds two members named {info.filename!r}; refused rather than "
                                   "choosing one")
            seen.add(info.filename)
            if info.is_dir():
                continue
            if info.file_size > self.limits.max_member_bytes:
                raise ArchiveError(
                    f"{self.name}: member {info.filename!r} is {info.file_size:,} bytes uncompressed, "
                    f"more than the {self.limits.max_member_bytes:,} allowed"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > self.limits.max_compression_ratio:
                raise ArchiveError(
                    f"{self.name}: member {info.filename!r} expands {ratio:,.0f}× "
                    f"(more than {self.limits.max_compression_ratio:,.0f}×): refused as a possible zip bomb"
                )
            total += info.file_size
        if total > self.limits.max_total_bytes:
            raise ArchiveError(f"{self.name}: {total:,} bytes uncompressed in all, more than allowed")

    @property
    def members(self) -> list[str]:
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def read(self, member: str) -> bytes:
        """The bytes of one member, never more than its declared size (headers can lie)."""
        info = self._zip.getinfo(member)
        chunks = []
        size = 0
        try:
            with self._zip.open(info) as handle:
                while chunk := handle.read(1024 * 1024):
                    size += len(chunk)
                    if size > info.file_size or size > self.limits.max_member_bytes:
                        raise ArchiveError(f"{self.name}: member {member!r} is larger than its header says; refused")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:  # CRC, truncation
            raise ArchiveError(f"{self.name}: member {member!r} is damaged ({error})") from error
        return b"".join(chunks)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
