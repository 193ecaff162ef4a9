"""Writing files so that a crash leaves the old content or the new, never half of either."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's or a directory's entries to disk (a rename is durable once its dir is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Read once at import: os.umask can only be read by setting it, which is racy in threads.
FILE_MODE = 0o666 & ~_current_umask()


def sql_path(path: Path) -> str:
    """A path inside a single-quoted SQL string literal (DuckDB's COPY, ATTACH)."""
    return str(path).replace("'", "''")


def write_atomically(path: Path, data: bytes, before_replace: Callable[[], None] | None = None) -> None:
    """Write to a temporary file in the same directory, flush it, rename it over `path`.
    `before_replace()` runs just before the rename (it may raise: then nothing is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600 files; the fiches and the store are meant to be served and
        # shared, so give them the permissions an ordinary open() would.
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(temporary, path)
        fsync_path(path.parent)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def holds(path: Path, data: bytes) -> bool:
    """Whether the file at `path` holds exactly `data`."""
    return path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write only when the content differs: an identical refresh leaves files (and mtimes) alone."""
    if holds(path, data):
        return False
    write_atomically(path, data)
    return True


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link to an unchanged file (no copy, no disk); a copy where the file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


#: renameat2(2)'s flag that swaps two paths in one step (Linux ≥ 3.15; glibc ≥ 2.28 has the call).
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing directories atomically; False where the system cannot (then nothing moved)."""
    import ctypes

    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0


def replace_directory(new: Path, target: Path) -> None:
    """Put the complete directory `new` in the place of `target`, so that a reader sees all of the
    old directory or all of the new one, never a mix: one atomic swap of the two (renameat2), the
    old content removed afterwards. Where the file system cannot swap, two renames: a reader may
    then find no directory for an instant — still never a mix."""
    fsync_path(new)
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)  # the old content, now at the staging name
    else:
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    fsync_path(target.parent)
