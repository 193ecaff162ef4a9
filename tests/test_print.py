"""The fiche on paper: the sample's 116 PDFs as a reader prints them, read back from the PDFs.

Every fiche has the same pages whatever its territory, no page is left with a heading alone at
its bottom or less than a third full (but the last), no text is below 6 pt and at least 95 % of
each page's text is 6,5 pt or more, no chart label is cut short, the text copies without
ligatures, and no path of the data directory is printed."""

from __future__ import annotations

import ctypes
import math
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from trade_pipeline.fiches.page import PAGES
from trade_pipeline.lib.territories import territories

pytestmark = [pytest.mark.slow, pytest.mark.browser]

A4_HEIGHT, MARGIN = 842.0, 31.2  # points; fiche.css: @page margin 11 mm top and bottom
#: Headings print at 10,5 pt (h3) and more, bold; the body text at 7,9 pt (fiche.css).
HEADING_MIN_SIZE = 10.0
LIGATURES = "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"


def _font_name(textpage, index: int) -> str:  # noqa: ANN001 - pypdfium2's PdfTextPage
    import pypdfium2.raw as pdfium_c

    buffer = ctypes.create_string_buffer(128)
    pdfium_c.FPDFText_GetFontInfo(textpage.raw, index, buffer, len(buffer), None)
    return buffer.value.decode("latin-1")


@cache
def _pages(path: Path) -> tuple:
    """Each page's characters (text, size in points, font, top and bottom from the page's top),
    the bottom of its lowest mark and its text, read with PDFium (pdfplumber read the same
    figures six times slower: the charts' vector paths are most of a page's content)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pages = []
    document = pdfium.PdfDocument(str(path))
    try:
        for page in document:
            height, textpage = page.get_height(), page.get_textpage()
            chars, sizes = [], []
            for index in range(textpage.count_chars()):
                text = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
                if pdfium_c.FPDFText_IsGenerated(textpage.raw, index) or not text.strip():
                    continue
                # The font size scaled by the character's matrix (a rotated label too): its
                # printed size in points.
                matrix = pdfium_c.FS_MATRIX()
                pdfium_c.FPDFText_GetMatrix(textpage.raw, index, matrix)
                sizes.append(pdfium_c.FPDFText_GetFontSize(textpage.raw, index) * math.hypot(matrix.c, matrix.d))
                _, bottom, _, top = textpage.get_charbox(index, loose=True)
                chars.append({"text": text, "top": height - top, "bottom": height - bottom,
                              "fontname": _font_name(textpage, index)})
            marks = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE,
                                             pdfium_c.FPDF_PAGEOBJ_SHADING))
            bottom = max([c["bottom"] for c in chars] + [height - mark.get_bounds()[1] for mark in marks],
                         default=MARGIN)
            lines = {}
            for c, size in zip(chars, sizes, strict=True):
                lines.setdefault(round(c["top"]), []).append((c, size))
            # PDFium marks a hyphen that ends a line as U+FFFE.
            text = textpage.get_text_range().replace("\ufffe", "-")
            pages.append({"sizes": sizes, "fill": (bottom - MARGIN) / (A4_HEIGHT - 2 * MARGIN),
                          "text": text, "lines": lines, "bottom": bottom})
    finally:
        document.close()
    return tuple(pages)


@pytest.fixture(scope="module")
def pdfs(sample_fiches):
    folder = sample_fiches / "fiches" / "2024"
    paths = {t.key: folder / f"{t.key}.pdf" for t in territories()}
    assert all(path.exists() for path in paths.values())
    return {key: _pages(path) for key, path in paths.items()}


def test_every_fiche_prints_on_the_same_pages(pdfs):
    counts = {key: len(pages) for key, pages in pdfs.items()}
    assert set(counts.values()) == {PAGES}, {k: v for k, v in counts.items() if v != PAGES}


def test_no_page_below_a_third_full_but_the_last(pdfs):
    thin = {(key, number + 1): round(page["fill"], 2) for key, pages in pdfs.items()
            for number, page in enumerate(pages[:-1]) if page["fill"] < 1 / 3}
    assert thin == {}


def test_no_heading_alone_at_the_bottom_of_a_page(pdfs):
    """A heading (large bold text) is followed on its page by what it introduces."""
    orphans = []
    for key, pages in pdfs.items():
        for number, page in enumerate(pages):
            tops = sorted(page["lines"])
            for top in tops:
                line = page["lines"][top]
                heading = all(size >= HEADING_MIN_SIZE and "Bold" in c["fontname"] for c, size in line)
                if heading and page["bottom"] - line[0][0]["bottom"] < 40:  # nothing under it but a line or two
                    orphans.append((key, number + 1, "".join(c["text"] for c, _ in line)))
    assert orphans == []


def test_print_sizes(pdfs):
    """No text below 6 pt; at least 95 % of each page's text at 6,5 pt or more."""
    problems = []
    for key, pages in pdfs.items():
        for number, page in enumerate(pages):
            sizes = page["sizes"]
            if not sizes:
                continue
            tiny = sum(size < 6 for size in sizes)
            small = sum(size < 6.5 for size in sizes) / len(sizes)
            if tiny or small > 0.05:
                problems.append((key, number + 1, tiny, round(small, 3)))
    assert problems == []


def test_clean_text(pdfs, sample_fiches):
    """No ligature, no chart label cut short (« … »), no path of the data directory."""
    data_dir = str(sample_fiches)
    problems = []
    for key, pages in pdfs.items():
        for number, page in enumerate(pages):
            text = page["text"]
            if any(ligature in text for ligature in LIGATURES):
                problems.append((key, number + 1, "ligature"))
            if "…" in text:
                problems.append((key, number + 1, "…"))
            if data_dir in text or re.search(r"published/history|fiches/\d{4}/|warehouse\.duckdb", text):
                problems.append((key, number + 1, "path"))
    assert problems == []


def test_the_fiche_names_its_publication_by_date_and_checksum(pdfs):
    last = pdfs["departement-34"][-1]["text"]
    assert re.search(r"publication du \d+ \w+ \d{4} à \d\d h \d\d UTC \(empreinte [0-9a-f]{12}\)", last)


def test_herault_pages_at_print_size(sample_fiches, artifacts_dir):
    """Pictures of the pages a reader looks at first (test artefacts, for a person to look at)."""
    if not shutil.which("pdftoppm"):
        message = "pdftoppm is not installed: ./scripts/setup installs poppler-utils"
        if os.environ.get("CI"):  # .ci/run installs it: a skip there would hide the check
            pytest.fail(message)
        pytest.skip(message)
    for key, first, last in (("departement-34", 1, 12), ("departement-13", 1, 1), ("region-24", 8, 8)):
        pdf = sample_fiches / "fiches" / "2024" / f"{key}.pdf"
        prefix = artifacts_dir / f"print-{key}"
        subprocess.run(["pdftoppm", "-r", "96", "-png", "-f", str(first), "-l", str(last), str(pdf), str(prefix)],
                       check=True)
    pictures = sorted(artifacts_dir.glob("print-departement-34-*.png"))
    assert len(pictures) == PAGES and all(p.stat().st_size > 20_000 for p in pictures)


def test_the_territories_are_named_as_their_users_name_them(pdfs, sample_fiches):
    """No rank or count among 101 « départements » (Monaco is not one), no « région Départements
    d'outre-mer »: a DROM names its own région; the pages of the Territoires d'industrie are printed."""
    problems = []
    for key, pages in pdfs.items():
        text = " ".join(" ".join(page["text"].split()) for page in pages)
        if re.search(r"sur 101|101 départements|région Départements d'outre-mer", text):
            problems.append(key)
    assert problems == []
    first = " ".join(pdfs["departement-9A"][0]["text"].split())
    assert "région Guadeloupe" in first and "code DGDDI 9A (INSEE 971)" in first
    monaco = " ".join(pdfs["departement-99"][0]["text"].split())
    assert "Principauté" in monaco and "ni classée ni comptée parmi les départements" in monaco
    herault = " ".join(pdfs["departement-34"][0]["text"].split())
    assert "Territoires d'industrie dans le département : Béziers – Sète" in herault
    folder = sample_fiches / "fiches" / "2024" / "territoires-industrie"
    assert len(list(folder.glob("ti-*.pdf"))) == 183
    page = " ".join(_pages(folder / "ti-7604.pdf")[0]["text"].split())
    assert "Territoire d'industrie : Béziers – Sète" in page and "Hérault" in page


def test_a_click_on_paris_in_the_inset_opens_its_fiche(sample_fiches, artifacts_dir):
    """Paris is a few pixels on the map of France: its enlarged copy in the inset is the same shape,
    and opens its fiche. Screenshots: the index map, Paris's locator map, a Territoire d'industrie."""
    import functools
    import http.server
    import threading

    from .ui_support import map_point, open_browser

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sample_fiches / "fiches"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served = f"http://127.0.0.1:{server.server_address[1]}/2024"
    try:
        with open_browser() as chromium:
            page = chromium.new_page(viewport={"width": 900, "height": 1200})
            page.goto(f"{served}/index.html", wait_until="networkidle")
            page.wait_for_function("document.documentElement.dataset.mapsReady === '1'", timeout=30_000)
            page.locator('figure[data-map="map_exports"]').screenshot(path=str(artifacts_dir / "index-map-insets.png"))
            # Paris's last ring — its enlarged copy in the inset — on the screen.
            x, y = map_point(page, 'figure[data-map="map_exports"]', "departement-75.html", last_ring=True)
            with page.expect_navigation():
                page.mouse.click(x, y)
            assert page.url.endswith("/departement-75.html")
            page.locator(".locator").screenshot(path=str(artifacts_dir / "locator-departement-75.png"))
            page.goto(f"{served}/territoires-industrie/ti-7604.html", wait_until="networkidle")
            page.screenshot(path=str(artifacts_dir / "territoire-industrie-ti-7604.png"), full_page=True)
            assert page.locator('a[href="../departement-34.html"]').count() >= 1
    finally:
        server.shutdown()
