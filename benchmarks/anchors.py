"""The anchors the year benchmark compares the pipeline with, in the same run on the same machine.

- **One plain DuckDB script** computing the same marts (its SQL rendered from
  `trade_pipeline.aggregation.marts`) from the same zips: unzip, `read_csv`, marts — no
  validation, no orchestration, no publication.
- **plotly.js itself** drawing the year's figures (read from the fiche folders' `charts.js`, at
  the sizes of their manifests) as SVG and PNG (scale 2) in two Chromium tabs that keep it
  loaded — the least any pipeline must pay for those pictures. Run as its own script:

      .venv/bin/python benchmarks/anchors.py plotly FICHES_YEAR_DIR OUT_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trade_pipeline.aggregation.marts import MART_QUERIES, MartSettings, territory_cells_sql  # noqa: E402
from trade_pipeline.charts.files import read_figures  # noqa: E402
from trade_pipeline.charts.maps import locator_chart  # noqa: E402
from trade_pipeline.lib.territories import parse_territory_key, territory, territory_keys  # noqa: E402
from trade_pipeline.tables import FILE_COLUMNS, TRADE_FLOWS  # noqa: E402

YEAR = 2024


def year_files(unzipped: Path, year: int) -> tuple[dict[str, Path], dict[str, Path]]:
    """The data files (E, I) and label files (pays, a129, cpf4) of a year's unzipped archives."""
    export, import_ = unzipped / f"Regional-{year}-export", unzipped / f"Regional-{year}-import"
    return ({"E": export / f"Region_{year}_Export.txt", "I": import_ / f"Region_{year}_Import.txt"},
            {"pays": export / "Libelle_PAYS.txt", "a129": export / "Libelle_A129.txt",
             "cpf4": export / "Libelle_CPF4_rev2.1.txt"})


def plain_sql_script(unzipped: Path, database: Path, years: Sequence[int] = (YEAR,)) -> str:
    """One DuckDB script computing the same marts for `years` from the unzipped text files, no
    validation: every year's rows in one table, then each year's marts in turn."""
    columns = ", ".join(f"'{name}': '{TRADE_FLOWS.column(name).type}'" for name in FILE_COLUMNS)
    files, label_sql = [], []
    for year in years:
        data, labels = year_files(unzipped, year)
        files += [f"'{path}'" for path in data.values()]
        for kind, path in labels.items():
            label_sql.append(f"""
            SELECT {year} AS year, '{kind}' AS nomenclature, trim(column0, ' \ufeff') AS code, trim(column1) AS label,
                   column2::INTEGER AS valid_from, column3::INTEGER AS valid_to, 'plain' AS source
            FROM read_csv('{path}', delim = ';', header = false, quote = '"', all_varchar = true)""")
    keys = ", ".join("('{}', '{}')".format(*parse_territory_key(key)) for key in territory_keys())
    settings = MartSettings()
    per_year = []
    for position, year in enumerate(years):
        # The same views the pipeline opens for a year (marts.open_scope), then its marts.
        marts = "\n".join(
            (f"CREATE TABLE {mart.name} AS " if position == 0 else f"INSERT INTO {mart.name} ")
            + f"{mart.sql(settings).replace('$year', str(year))};" for mart in MART_QUERIES.values())
        per_year.append(f"""
        CREATE OR REPLACE TEMP VIEW cells AS {territory_cells_sql(year)};
        CREATE OR REPLACE TEMP VIEW previous_cells AS {territory_cells_sql(year - 1)};
        CREATE OR REPLACE TEMP VIEW labels_of_year AS
            SELECT nomenclature, code, arg_max(label, valid_from) AS label FROM labels
            WHERE year = {year} AND valid_from <= {year * 100 + 12} AND valid_to >= {year * 100 + 1}
            GROUP BY nomenclature, code;
        {marts}""")
    return f"""
        SET threads = 2;
        SET enable_progress_bar = false;
        CREATE TABLE trade_flows AS SELECT * FROM read_csv([{', '.join(files)}], delim = ';', header = false,
            quote = '', auto_detect = false, columns = {{{columns}}});
        CREATE TABLE labels AS {' UNION ALL '.join(label_sql)};
        CREATE TABLE year_cells AS
            SELECT year, department_code, region_code, flow, a129_code, cpf4_code, country_code,
                   sum(value_eur)::BIGINT AS value_eur, sum(mass_kg)::BIGINT AS mass_kg
            FROM trade_flows GROUP BY ALL;
        CREATE TEMP TABLE scope AS SELECT * FROM (VALUES {keys}) t(level, territory_code);
        {''.join(per_year)}
        CHECKPOINT;
        """


PLAIN_RUNNER = """
import sys, zipfile, pathlib, duckdb
work, database, script = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]).read_text()
for archive in sorted(work.glob('*.zip')):
    with zipfile.ZipFile(archive) as z:
        z.extractall(work / 'unzipped')
for labels in (work / 'unzipped').rglob('Libelle_CPF4*.txt'):  # Windows-1252 → UTF-8 for read_csv
    labels.write_text(labels.read_bytes().decode('cp1252'), encoding='utf-8')
with duckdb.connect(database) as connection:
    connection.execute(script)
"""


def compare(dagster_store: Path, plain_store: Path) -> dict[str, bool]:
    """Are the marts of both sides identical (as sets of rows)?

    Names are left out (the plain script reads the label files without our normalisation) and
    so are floating-point shares (summation order); codes, values, ranks and flags must match.
    """
    same = {}
    with duckdb.connect(str(plain_store), read_only=True) as connection:
        connection.execute(f"ATTACH '{dagster_store}' AS dagster (READ_ONLY)")
        for name in ("partner_balance", "product_breakdown", "flow_links", "exposure"):
            columns = [c for c, in connection.execute(
                f"SELECT column_name FROM information_schema.columns WHERE table_catalog = 'dagster' "
                f"AND table_name = '{name}' AND data_type NOT IN ('DOUBLE') AND column_name NOT LIKE '%_name'").fetchall()]
            listed = ", ".join(columns)
            differing = connection.execute(f"""
                SELECT count(*) FROM ((SELECT {listed} FROM dagster.main.{name} EXCEPT SELECT {listed} FROM main.{name})
                UNION ALL (SELECT {listed} FROM main.{name} EXCEPT SELECT {listed} FROM dagster.main.{name}))""").fetchall()[0][0]
            same[name] = differing == 0
        totals = connection.execute("""
            SELECT count(*) FROM dagster.main.territory_totals d JOIN main.territory_totals p USING (year, level, territory_code)
            WHERE d.exports_eur <> p.exports_eur OR d.imports_eur <> p.imports_eur""").fetchall()[0][0]
        same["territory_totals"] = totals == 0
    return same


def rows(source: Path, year: int = YEAR) -> dict[str, int]:
    """Rows per flow of a year's archives in `source`."""
    counts = {}
    for archive in sorted(source.glob(f"*-Regional-{year}-*.zip")):
        with zipfile.ZipFile(archive) as z:
            member = next(m for m in z.namelist() if m.endswith((f"{year}_Export.txt", f"{year}_Import.txt")))
            with z.open(member) as handle:
                counts["E" if "Export" in member else "I"] = sum(1 for _ in handle)
    return counts


def year_figures(year_dir: Path) -> list[tuple[str, dict, int, int]]:
    """(name, figure, width, height) of every chart of a year's fiche folders."""
    figures = []
    for folder in sorted(p for p in year_dir.iterdir() if p.is_dir() and (p / "manifest.json").exists()):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        drawn = read_figures(folder)
        for name, entry in manifest["charts"].items():
            # The locator is a picture only (not in charts.js): the same figure, made again.
            figure = drawn[name] if name in drawn else locator_chart(territory(folder.name)).figure
            figures.append((f"{folder.name}/{name}", figure, entry["width"], entry["height"]))
    return figures


# Plotly.toImage returns data URLs; the page hands them back as text, the script writes files.
_DRAW = """async ([figure, width, height]) => {
  const svg = await Plotly.toImage(figure, {format: "svg", width, height});
  const png = await Plotly.toImage(figure, {format: "png", width, height, scale: 2});
  return [decodeURIComponent(svg.slice(svg.indexOf(",") + 1)), png.slice(png.indexOf(",") + 1)];
}"""


async def _plotly_anchor(year_dir: Path, out: Path, tabs: int) -> dict:
    import base64

    import plotly
    from playwright.async_api import async_playwright

    from trade_pipeline.lib.browser import require_browser

    figures = year_figures(year_dir)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    page_html = out / "plotly.html"
    out.mkdir(parents=True, exist_ok=True)
    page_html.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{plotly_js.as_uri()}">'
                         "</script></head><body></body></html>", encoding="utf-8")
    queue: asyncio.Queue = asyncio.Queue()
    for item in figures:
        queue.put_nowait(item)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=require_browser(None), args=["--disable-gpu"])
        pages = []
        for _ in range(tabs):
            page = await browser.new_page()
            await page.goto(page_html.as_uri())
            await page.wait_for_function("window.Plotly !== undefined")
            pages.append(page)
        start = time.perf_counter()

        async def worker(page) -> None:  # noqa: ANN001
            while not queue.empty():
                name, figure, width, height = queue.get_nowait()
                svg, png = await page.evaluate(_DRAW, [figure, width, height])
                target = out / name.replace("/", "__")
                target.with_suffix(".svg").write_text(svg, encoding="utf-8")
                target.with_suffix(".png").write_bytes(base64.b64decode(png))

        await asyncio.gather(*(worker(page) for page in pages))
        seconds = time.perf_counter() - start
        await browser.close()
    return {"figures": len(figures), "drawing_seconds": round(seconds, 1)}


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "plotly":
        raise SystemExit(__doc__)
    print(json.dumps(asyncio.run(_plotly_anchor(Path(sys.argv[2]), Path(sys.argv[3]), tabs=2))))
