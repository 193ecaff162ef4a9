"""The fiches as a reader gets them: files at stable paths, a real browser, the PDF."""

import functools
import http.server
import json
import re
import stat
import threading
import unicodedata

import dagster as dg
import pypdf
import pytest

from trade_pipeline.fiches.page import PAGES
from trade_pipeline.lib.territories import territories

from .ui_support import map_point, open_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NB = "\u202f"
OWN_CHARTS = ["partners", "activities_imports", "activities_exports", "flows_exports", "flows_imports", "evolution",
              "contributions_exportations", "contributions_importations", "united_states", "united_states_imports"]


def console_problems(page) -> list[str]:  # noqa: ANN001
    """What the page logs that a reader's console would show as a problem: errors, warnings,
    and plotly.js's warnings (`console.trace("WARN: …")`)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning", "trace") or m.text.startswith("WARN") else None)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems


@pytest.fixture(scope="module")
def year_dir(sample_fiches):
    return sample_fiches / "fiches" / "2024"


@pytest.fixture(scope="module")
def served(sample_fiches):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sample_fiches / "fiches"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/2024"
    server.shutdown()


def test_files_at_stable_paths(year_dir):
    for key in ("departement-34", "region-12", "france-FR"):
        assert (year_dir / f"{key}.html").exists() and (year_dir / f"{key}.pdf").exists()
        for chart in [*OWN_CHARTS, "locator"]:
            for suffix in ("svg", "png", "csv"):
                assert (year_dir / key / f"{chart}.{suffix}").stat().st_size > 100, (key, chart, suffix)
    for key in ("region-12", "france-FR"):
        assert (year_dir / key / "flows_exports_compact.svg").exists()
    assert not (year_dir / "departement-34" / "flows_exports_compact.svg").exists()
    assert (year_dir / "index.html").exists()
    for measure in ("map_exports", "map_balance", "map_united_states"):  # the index's maps
        for suffix in ("svg", "png"):
            assert (year_dir / "carte" / f"{measure}.{suffix}").stat().st_size > 10_000, (measure, suffix)
        # One row per département in the store, each once.
        lines = (year_dir / "carte" / f"{measure}.csv").read_text(encoding="utf-8-sig").splitlines()
        codes = [line.split(";")[0] for line in lines[1:]]
        assert lines[0].startswith("code_departement;departement;") and "34" in codes
        assert sorted(codes) == sorted(t.code for t in territories() if t.level == "departement"), measure
    assert list((year_dir.parent / "assets").glob("plotly-*.min.js"))


def test_fiche_files_can_be_served_by_another_user(year_dir):
    """A web server running as another user must be able to read every file (umask 022 here)."""
    files = [path for path in year_dir.rglob("*") if path.is_file()]
    assert len(files) > 50
    unreadable = [str(path) for path in files if not path.stat().st_mode & stat.S_IROTH]
    assert unreadable == []


def test_herault_fiche_shows_the_published_figures(year_dir):
    html = (year_dir / "departement-34.html").read_text(encoding="utf-8")
    assert f"2{NB}674,2{NB}M€" in html and f"4{NB}818,7{NB}M€" in html
    assert f"5,4{NB}%" in html and f"0,46{NB}%" in html and f"12,8{NB}%" in html and f"0,70{NB}%" in html
    assert "Données fictives de démonstration" in html
    # The région's and France's comparison charts come from their own folders, not copies.
    assert 'src="region-12/flows_exports_compact.svg"' in html and 'src="france-FR/flows_imports_compact.svg"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the network: works offline
    assert '"../assets/plotly-' in html
    assert "sur un an :" in html  # 2023 was built: the change is there


def test_csv_behind_each_chart_opens_in_french_excel(year_dir):
    text = (year_dir / "departement-34" / "partners.csv").read_bytes()
    assert text.startswith("\ufeff".encode()) and b";" in text.splitlines()[0]
    assert text.splitlines()[0].decode("utf-8-sig") == "code_pays;pays;exportations_eur;importations_eur;solde_eur"


def test_real_browser_renders_the_fiche_without_console_errors(served, artifacts_dir):
    with open_browser() as chromium:
        page = chromium.new_page(viewport={"width": 900, "height": 1300})
        problems = console_problems(page)
        page.goto(f"{served}/departement-34.html", wait_until="networkidle")
        page.wait_for_function("document.documentElement.dataset.chartsReady === '1'", timeout=30_000)
        assert problems == []
        assert page.locator("g.sankey").count() == 2 + 4  # own exports/imports + région and France
        assert page.locator("g.trace.treemap").count() == 2
        # Every chart of the page is drawn by plotly.js (and the région's and France's Sankeys).
        charts = page.locator(".interactive[data-chart]").count()
        assert charts == len(OWN_CHARTS) + 4 and \
            page.locator(".interactive.js-plotly-plot").count() == charts
        assert page.locator("#chart-evolution g.scatterlayer g.trace").count() == 4  # flows and shares of France
        assert page.locator("#chart-contributions_exportations g.barlayer g.trace").count() == 2  # two panels
        # The latest quarters' box, filled from the « Conjoncture » page's script (on screen only).
        box = page.locator("#conjoncture")
        box.wait_for(state="visible", timeout=10_000)
        assert "T1–T3\u202f2025 · provisoire (publication de décembre 2025)" in box.inner_text()
        assert box.locator("a").get_attribute("href") == "../conjoncture/departement-34.html"
        page.screenshot(path=str(artifacts_dir / "fiche-departement-34.png"), full_page=True)
        for section in ("synthese", "evolution", "contributions", "etats-unis"):
            shot = artifacts_dir / f"fiche-departement-34-{section}.png"
            page.locator(f"section#{section}").screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000, section


@pytest.mark.parametrize("name", ["departement-34.html", "region-12.html", "index.html"])
def test_a_phone_shows_the_page_without_horizontal_scrolling(served, artifacts_dir, name):
    """At 390 px (a phone held upright): nothing wider than the screen — tables reflow, the charts
    are their pictures at the screen's width — the locator covers no text, and nothing is logged."""
    with open_browser() as chromium:
        page = chromium.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                 has_touch=True)
        problems = console_problems(page)
        page.goto(f"{served}/{name}", wait_until="networkidle")
        if name != "index.html":
            page.wait_for_function("document.documentElement.dataset.chartsReady === '1'", timeout=30_000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} is {width} px wide"
        wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && e.offsetParent !== null)
            .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
        assert wider == []
        if name != "index.html":
            overlaps = page.evaluate("""() => {
                const map = document.querySelector('.locator img').getBoundingClientRect();
                return [...document.querySelectorAll('h1, .subtitle, .banner, .intro')].filter(e => {
                    const r = e.getBoundingClientRect();
                    return r.left < map.right && map.left < r.right && r.top < map.bottom && map.top < r.bottom;
                }).map(e => e.className || e.tagName);
            }""")
            assert overlaps == []
        assert problems == []
        page.screenshot(path=str(artifacts_dir / f"phone-{name.replace('.html', '')}.png"), full_page=True)


def test_index_map_is_drawn_and_a_click_on_a_departement_opens_its_fiche(served, year_dir, artifacts_dir):
    with open_browser() as chromium:
        page = chromium.new_page(viewport={"width": 900, "height": 1200})
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{served}/index.html", wait_until="networkidle")
        page.wait_for_function("document.documentElement.dataset.mapsReady === '1'", timeout=30_000)
        page.select_option("#measure", "map_balance")
        page.wait_for_selector('figure[data-map="map_balance"] .js-plotly-plot')
        assert page.locator('figure[data-map="map_exports"]').is_hidden()
        page.locator('figure[data-map="map_balance"]').screenshot(path=str(artifacts_dir / "index-map.png"))
        links = page.evaluate("""() => document.querySelector('figure[data-map="map_balance"] .js-plotly-plot')
            .data.map(t => (t.customdata || [])[0]).filter(Boolean)""")
        assert links and all((year_dir / link).exists() for link in links)  # only fiches that exist
        # Where Hérault is drawn on the screen (the middle of its shape, through plotly's own axes).
        x, y = map_point(page, 'figure[data-map="map_balance"]', "departement-34.html")
        with page.expect_navigation():
            page.mouse.click(x, y)
        assert page.url.endswith("/departement-34.html")
        assert problems == []


def test_the_whole_year_downloads_as_one_csv_and_one_xlsx(year_dir):
    import openpyxl

    from trade_pipeline.fiches.year_data import year_tables

    tables = year_tables(year_dir.parent, 2024)
    assert set(OWN_CHARTS) | {"locator"} <= set(tables)
    with open(year_dir / "donnees-2024.csv", encoding="utf-8-sig") as handle:
        header, *lines = handle.read().splitlines()
    assert header.startswith("graphique;code_territoire;territoire;")
    assert len(lines) == sum(len(t) for t in tables.values())
    workbook = openpyxl.load_workbook(year_dir / "donnees-2024.xlsx", read_only=True)
    assert set(workbook.sheetnames) == {name[:31] for name in tables}
    evolution = list(workbook["evolution"].values)
    columns = evolution[0]
    herault = [dict(zip(columns, row, strict=True)) for row in evolution[1:] if row[0] == "departement-34"]
    assert {row["annee"]: row["exportations_eur"] for row in herault}[2024] == 2_674_200_000  # a number, not text


def test_index_page_sorts_by_every_column(served):
    with open_browser() as chromium:
        page = chromium.new_page()
        page.goto(f"{served}/index.html")
        def column(index: int) -> list[str]:
            return page.locator(f"#fiches tbody tr td:nth-child({index})").all_inner_texts()
        def exports() -> list[float]:
            return [float(v) for v in page.locator("#fiches tbody tr td:nth-child(5)").evaluate_all(
                "cells => cells.map(c => c.dataset.value)")]
        page.click("#fiches th:nth-child(5) button")  # exports, ascending by value
        assert exports() == sorted(exports()) and column(1)[-1] == "France"
        page.click("#fiches th:nth-child(5) button")  # again: descending
        assert exports() == sorted(exports(), reverse=True) and column(1)[0] == "France"
        page.click("#fiches th:nth-child(1) button")  # names, alphabetically (accents as in French)
        names = column(1)
        assert (names[0], names[-1]) == ("Ain", "Yvelines") and names.index("Hérault") < names.index("Île-de-France")
        assert page.locator("#fiches th:nth-child(1)").get_attribute("aria-sort") == "ascending"


def test_index_page_searches_by_name_or_code(served):
    with open_browser() as chromium:
        page = chromium.new_page()
        page.goto(f"{served}/index.html")
        rows = page.locator("#fiches tbody tr")
        assert rows.count() == len(territories())

        def shown() -> list[str]:
            return [r.locator("td").first.locator("a").inner_text() for r in rows.all() if r.is_visible()]

        page.fill("#search", "herault")  # accents are optional
        assert shown() == ["Hérault"]
        page.fill("#search", "12")  # DGDDI's code of the région (and Aveyron's)
        assert sorted(shown()) == ["Aveyron", "Occitanie"]
        page.fill("#search", "76")  # INSEE's (and Seine-Maritime's)
        assert sorted(shown()) == ["Occitanie", "Seine-Maritime"]
        page.fill("#search", "Béziers")  # a Territoire d'industrie, named under the row it was found by
        assert shown() == ["Hérault"]
        assert "Béziers – Sète" in rows.filter(visible=True).first.inner_text()


def test_pdf_is_a4_with_the_expected_pages(year_dir):
    for key in ("departement-34", "region-12", "france-FR"):
        reader = pypdf.PdfReader(year_dir / f"{key}.pdf")
        assert len(reader.pages) == PAGES, key
        width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
        assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    # NFKC: the PDF's text has narrow no-break spaces.
    pages = [unicodedata.normalize("NFKC", page.extract_text())
             for page in pypdf.PdfReader(year_dir / "departement-34.pdf").pages]
    first = pages[0]
    assert "2 674,2 M€" in first and "4 818,7 M€" in first and "Données fictives de démonstration" in first
    # One section per page, in the fiche's order (a section never spills onto the next page); the
    # national fiche's four infographics in its order: partners, activities, exports, imports.
    headings = ["Évolution", "Ce qui a fait varier les échanges", "Focus États-Unis", "Principaux pays partenaires",
                "Principales activités", "Flux d'exportations", "Flux d'exportations de l'Occitanie et de la France",
                "Flux d'importations", "Flux d'importations de l'Occitanie et de la France", "À lire avant d'interpréter",
                "Sources et informations pratiques"]
    assert [page.split("\n")[0] for page in pages[1:]] == headings


def _pdf_content(path) -> dict:
    reader = pypdf.PdfReader(path)
    links = [str(a.get_object()["/A"].get("/URI")) for page in reader.pages for a in page.get("/Annots") or []
             if a.get_object().get("/A") is not None]
    return {"pages": len(reader.pages), "text": [page.extract_text() for page in reader.pages], "links": links,
            "title": reader.metadata.get("/Title"), "drawing": [len(page.get_contents().get_data()) for page in reader.pages]}


def test_pdfs_printed_in_one_warm_tab_equal_pdfs_printed_each_after_a_fresh_load(year_dir, tmp_path):
    """print_pdfs replaces a tab's document for each next fiche of a folder instead of navigating:
    the PDFs must be what a fresh load of each page prints — text, links, title, drawing."""
    from trade_pipeline.fiches.pdf import PdfJob, print_pdfs

    keys = ["departement-34", "region-12", "france-FR"]
    (tmp_path / "warm").mkdir()
    previews = print_pdfs([PdfJob(year_dir / f"{k}.html", tmp_path / "warm" / f"{k}.pdf") for k in keys], tabs=1)
    assert set(previews) == {tmp_path / "warm" / f"{k}.pdf" for k in keys}
    (tmp_path / "fresh").mkdir()
    # Three tabs for three fiches: each tab takes one, so each page is a fresh load.
    print_pdfs([PdfJob(year_dir / f"{k}.html", tmp_path / "fresh" / f"{k}.pdf") for k in keys], tabs=3)
    for key in keys:
        assert _pdf_content(tmp_path / "warm" / f"{key}.pdf") == _pdf_content(tmp_path / "fresh" / f"{key}.pdf"), key
    assert _pdf_content(tmp_path / "warm" / "region-12.pdf")["title"].startswith("Commerce extérieur 2024 — Occitanie")
    root = pypdf.PdfReader(tmp_path / "warm" / "france-FR.pdf").trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "fr"  # tagged, for screen readers
    # A changed page waits beside the fiche while its PDF prints; then the PDF, then the page,
    # are put in place: a fiche whose PDF fails keeps its old page and PDF, a pair.
    staged, page = tmp_path / "warm" / ".departement-34.new.html", tmp_path / "warm" / "departement-34.html"
    staged.write_bytes((year_dir / "departement-34.html").read_bytes())
    page.write_text("old page")
    print_pdfs([PdfJob(staged, tmp_path / "warm" / "departement-34.pdf", replaces=page)], tabs=1)
    assert not staged.exists() and page.read_bytes() == (year_dir / "departement-34.html").read_bytes()


def test_png_is_what_kaleido_itself_renders(year_dir, tmp_path):
    import kaleido

    from trade_pipeline.charts.files import read_figures

    figures = read_figures(year_dir / "departement-34")
    manifest = json.loads((year_dir / "departement-34" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["charts"]["partners"]
    reference = tmp_path / "kaleido-partners.png"
    kaleido.write_fig_from_object_sync([{"fig": figures["partners"], "path": str(reference), "opts": {
        "format": "png", "width": entry["width"], "height": entry["height"], "scale": 2}}], kopts={"mathjax": False})
    assert reference.read_bytes() == (year_dir / "departement-34" / "partners.png").read_bytes()


def test_fiche_materializations_carry_the_path_and_a_preview(sample_fiches):
    instance = dg.DagsterInstance.from_config(str(sample_fiches / "dagster"))
    record = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey("fiches"), asset_partitions=["departement-34|2024"]), limit=1).records[0]
    metadata = record.asset_materialization.metadata
    assert metadata["fiche"].value.endswith("fiches/2024/departement-34.html")
    assert metadata["preview"].value.startswith("![Aperçu de la fiche](data:image/jpeg;base64,")


def test_the_latest_quarters_pages_load_without_errors_and_their_map_opens_a_territory(served, artifacts_dir):
    root = served.rsplit("/", 1)[0]
    with open_browser() as chromium:
        page = chromium.new_page(viewport={"width": 900, "height": 1200})
        problems = console_problems(page)
        page.goto(f"{root}/conjoncture/index.html", wait_until="networkidle")
        page.wait_for_selector("figure.map .interactive.js-plotly-plot", timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "conjoncture-index.png"), full_page=False)
        page.get_by_label("Rechercher un territoire (nom ou code)").fill("bouches")
        visible = page.locator("#territories tbody tr:not(.hidden)")
        assert visible.count() == 1 and "Bouches-du-Rhône" in visible.inner_text()
        visible.locator("a").click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/conjoncture/departement-13.html")
        text = page.locator("body").inner_text()
        assert "les Bouches-du-Rhône ont exporté" in text and "provisoire (décembre 2025)" in text
        page.screenshot(path=str(artifacts_dir / "conjoncture-departement-13.png"), full_page=True)
        assert problems == []
