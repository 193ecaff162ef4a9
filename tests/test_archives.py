"""Hostile archives are refused by name before anything is read from them."""

from __future__ import annotations

import pytest

from trade_pipeline.ingestion.archives import ArchiveError, ArchiveLimits, SafeZip

from .support import hostile_zip, year_zip

NAME = "202502-Regional-2024-export.zip"


@pytest.fixture
def write(tmp_path):
    def put(data: bytes, name: str = NAME):
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return put


@pytest.mark.parametrize(("kind", "message"), [
    ("traversal", f"{NAME}: member '../../evil.txt' escapes the archive with '..'; refused"),
    ("absolute", f"{NAME}: member '/tmp/evil.txt' has an absolute path; refused"),
    ("symlink", f"{NAME}: member 'Regional-2024-export/Libelle_PAYS.txt' is a symbolic link; refused"),
    ("bomb", "expands"),
])
def test_hostile_members_are_refused(write, kind, message):
    path = write(hostile_zip(kind))
    with pytest.raises(ArchiveError, match=message.replace(".", r"\.").replace("(", r"\(")) as raised:
        SafeZip(path)
    if kind == "bomb":
        assert "refused as a possible zip bomb" in str(raised.value)
    assert sorted(p.name for p in path.parent.iterdir()) == [NAME]  # nothing extracted anywhere


def test_oversized_member_is_refused(write):
    path = write(year_zip(2024, "E"))
    with pytest.raises(ArchiveError, match=r"member 'Regional-2024-export/.*' is [\d,]+ bytes uncompressed, "
                                           r"more than the 1,000 allowed"):
        SafeZip(path, ArchiveLimits(max_member_bytes=1000))


def test_too_many_members_is_refused(write):
    with pytest.raises(ArchiveError, match="members, more than the 2 allowed"):
        SafeZip(write(year_zip(2024, "E")), ArchiveLimits(max_members=2))


@pytest.mark.parametrize(("data", "holds"), [
    (b"<!DOCTYPE html><html><body>Erreur</body></html>", "an HTML page"),
    (b"", "an empty file"),
    (b"\x1f\x8b\x08\x00\x00\x00", "binary data starting with 1f 8b 08 00"),
    (b"E;1;2024;34;12;C11Z;1102;DE;5;4\r\n", "text starting with 'E;1;2024;34"),
], ids=["html", "empty", "gzip", "text"])
def test_a_file_that_is_not_a_zip_says_what_it_holds(write, data, holds):
    with pytest.raises(ArchiveError, match=f"{NAME}: not a zip file \\(it holds {holds}"):
        SafeZip(write(data))


def test_a_good_zip_reads_its_members(write):
    with SafeZip(write(year_zip(2024, "E"))) as archive:
        assert "Regional-2024-export/Region_2024_Export.txt" in archive.members
        assert archive.read("Regional-2024-export/Region_2024_Export.txt").startswith(b"E;1;2024;34;12;")
