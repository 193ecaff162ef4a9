"""Are two data directories' outputs the same in content? (a build before and after a change)

Published tables row for row (load timestamps aside), CSVs, figure scripts and manifests byte
for byte, SVGs by their text and path count (plotly's random ids aside), PNGs by size, PDFs by
their text, HTML without its cache-busting `?v=` hashes, workbooks by their cells.

    .venv/bin/python benchmarks/compare_outputs.py DATA_DIR_BEFORE DATA_DIR_AFTER
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import duckdb
import pypdf

from trade_pipeline.fiches.page import BUILD_SPECIFIC

TIMESTAMPS = ("published_at", "loaded_at", "ingested_at", "fetched_at")


def _tables(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = [n for (n,) in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        frames = {}
        for name in names:
            frame = connection.execute(f'SELECT * FROM "{name}"').df()
            if name == "metadata":
                frame = frame[~frame["key"].isin([*TIMESTAMPS, "content_checksum"])]
            frame = frame.drop(columns=[c for c in frame.columns if c in TIMESTAMPS])
            frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True) if len(frame) else frame
        return frames


def _svg(path: Path) -> tuple[list[str], int]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"<text[^>]*>(.*?)</text>", text, flags=re.S), text.count("<path")


def _png_size(path: Path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


#: What two builds of the same figures differ by: cache-busting `?v=` hashes, and what a fiche
#: says of the build (the publication it names, the page hash that covers it).
_BUILD_SPECIFIC = re.compile(r"\?v=[0-9a-f]+|" + BUILD_SPECIFIC)


def _html(path: Path) -> str:
    return _BUILD_SPECIFIC.sub("", path.read_text(encoding="utf-8"))


def _xlsx(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's cells, empty ones at a row's end aside (two writers of the same cells make
    different zips, and only one of them records the sheet's dimensions)."""
    import openpyxl

    def cells(row: tuple) -> tuple:
        end = len(row)
        while end and row[end - 1] is None:
            end -= 1
        return row[:end]

    workbook = openpyxl.load_workbook(path, read_only=True)
    return {sheet.title: [cells(row) for row in sheet.values] for sheet in workbook.worksheets}


SAME_BY = {".svg": _svg, ".png": _png_size, ".pdf": _pdf_text, ".html": _html, ".xlsx": _xlsx}


def compare(before: Path, after: Path) -> list[str]:
    problems = []
    old, new = _tables(before / "published/trade.duckdb"), _tables(after / "published/trade.duckdb")
    problems += [f"table {name} only on one side" for name in set(old) ^ set(new)]
    problems += [f"table {name} differs" for name in sorted(set(old) & set(new)) if not old[name].equals(new[name])]
    files = {}
    for side in (before, after):
        root = side / "fiches"
        files[side] = {p.relative_to(root) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}
    problems += [f"{path} only on one side" for path in sorted(files[before] ^ files[after])]
    for path in sorted(files[before] & files[after]):
        same = SAME_BY.get(path.suffix, lambda p: p.read_bytes())
        if path.suffix == ".pdf":  # the publication line is the PDF's text too
            same = lambda p: re.sub(r"Données de la publication du .*?/\.", "", _pdf_text(p), flags=re.S)  # noqa: E731
        if same(before / "fiches" / path) != same(after / "fiches" / path):
            problems.append(f"{path} differs")
    print(f"{len(old)} tables and {len(files[before] & files[after])} files compared")
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found[:50]) or "same content")
    sys.exit(1 if found else 0)
