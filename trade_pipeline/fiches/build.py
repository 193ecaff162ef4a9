"""The fiche of a territory and year: one HTML page (and its PDF), and the index page of a year.

Paths are stable, for links:

    fiches/<year>/<level>-<code>.html, .pdf     the fiche
    fiches/<year>/<level>-<code>/               its charts (SVG, PNG, CSV, charts.js)
    fiches/<year>/index.html                    every fiche of the year, searchable
    fiches/assets/plotly-<version>.min.js       plotly.js, shipped once (works offline)

A département's fiche shows its région's and France's comparison charts from their folders. The
page carries a hash of everything it shows (its figures and the comparison charts): when that
hash is unchanged the HTML is byte-identical and neither it nor the PDF is written again.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import plotly

from trade_pipeline import french
from trade_pipeline.aggregation.territory_view import TerritoryData, top_flows
from trade_pipeline.atomic import holds, write_atomically, write_if_changed
from trade_pipeline.charts.files import ChartFolder, territory_dir, write_charts
from trade_pipeline.charts.maps import MEASURES, choropleth_chart, geometry
from trade_pipeline.charts.united_states import united_states_figures
from trade_pipeline.exports import csv_bytes, read_csv_cells, xlsx_bytes
from trade_pipeline.fiches.notes import METHODOLOGY, data_notes
from trade_pipeline.provenance import ATTRIBUTION, SYNTHETIC_BANNER, SYNTHETIC_LABEL
from trade_pipeline.publication.store import Publication
from trade_pipeline.territories import territories, territory, territory_key, territory_keys

RANKS = "①②③④⑤"
LEVEL_LABELS = {"departement": "Département", "region": "Région", "france": "France entière"}
PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"
#: Printed pages of a fiche: the summary, one per section, the methodology.
PAGES = 9

_COLUMN_LABELS = {
    "code_pays": "Code", "pays": "Pays", "exportations_eur": "Exportations", "importations_eur": "Importations",
    "solde_eur": "Solde", "code_a129": "Code A129", "activite": "Activité", "valeur_eur": "Valeur", "part": "Part",
    "rang": "Rang", "code_produit": "Code produit", "produit": "Produit", "top5": "Top 5",
    "annee": "Année", "solde_hors_energie_eur": "Solde hors énergie",
    "part_france_exportations": "Part des exportations françaises",
    "part_france_importations": "Part des importations françaises",
    "dimension": "Dimension", "code": "Code", "libelle": "Libellé", "variation_eur": "Variation",
    "contribution_points": "Contribution",
    "exportations_etats_unis_eur": "Vers les États-Unis", "exportations_produit_eur": "Toutes destinations",
    "part_du_produit_vers_etats_unis": "Part des États-Unis",
    "code_departement": "Code", "departement": "Département", "exports_eur": "Exportations", "balance_eur": "Solde",
    "classe": "Classe de couleur", "role": "Sur la carte",
}


def _is_share(column: str) -> bool:
    return column == "part" or column.startswith("part_")


def fiche_paths(fiches_dir: Path, year: int, key: str) -> tuple[Path, Path]:
    folder = fiches_dir / str(year)
    return folder / f"{key}.html", folder / f"{key}.pdf"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("trade_pipeline.fiches", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.globals["zip"] = zip
    return environment


@lru_cache(maxsize=1)
def _css() -> str:
    return (resources.files("trade_pipeline.fiches") / "templates" / "fiche.css").read_text(encoding="utf-8")


def ensure_assets(fiches_dir: Path) -> Path:
    """Ship plotly.js once next to the fiches (no CDN: the pages work offline)."""
    target = fiches_dir / "assets" / PLOTLY_JS
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        temporary = target.with_suffix(".tmp")
        shutil.copyfile(source, temporary)
        temporary.replace(target)
    return target


# --------------------------------------------------------------------------------------------
# What the page says
# --------------------------------------------------------------------------------------------


def _share_line(share: float | None, what: str, of_whom: str) -> str | None:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return None
    return f"soit {french.pct(share)} de la valeur {what} {of_whom}"


def _change_line(now: float, before: float | None) -> str | None:
    if before is None or (isinstance(before, float) and math.isnan(before)) or not before:
        return None
    return f"sur un an : {french.signed_pct((now - before) / before)} ({french.signed_eur(now - before)})"


def totals_boxes(data: TerritoryData) -> list[dict]:
    totals, t = data.totals, data.territory
    region = territory(t.region_key) if t.region_key else None
    boxes = []
    for flow, key, label, what in (("E", "exports", "Exportations", "exportée"),
                                   ("I", "imports", "Importations", "importée")):
        details = [
            _share_line(totals.get(f"{key}_share_of_region"), what, f"par {region.name_with_article}") if region else None,
            _share_line(totals.get(f"{key}_share_of_france"), what, "au niveau national"),
            _change_line(totals[f"{key}_eur"], (data.previous or {}).get(flow)),
        ]
        if t.level == "france":
            details.insert(0, "somme de tous les départements (base CAF/FAB)")
        boxes.append({"kind": key, "label": label, "value": french.headline(totals[f"{key}_eur"]),
                      "sign_class": "", "details": [d for d in details if d]})
    balance, excl = totals["balance_eur"], totals["balance_excl_energy_eur"]
    mark = "▲" if balance >= 0 else "▼"
    boxes.append({"kind": "balance", "label": "Solde commercial", "sign_class": "surplus" if balance >= 0 else "deficit",
                  "value": f"{mark} {french.signed_eur(balance)}",
                  "details": [f"hors énergie : {french.signed_eur(excl)}",
                              f"{'excédent' if balance >= 0 else 'déficit'} (exportations FAB − importations CAF)"]})
    boxes.append({"kind": "diversity", "label": "Diversité des exportations", "sign_class": "",
                  "value": f"{int(totals['exported_products'])} produits",
                  "details": [f"exportés (CPF4) vers {int(totals['export_destinations'])} pays et territoires"]})
    return boxes


def _hhi_words(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    level = "faible" if value < 0.15 else "modérée" if value < 0.25 else "forte"
    return f"{french.number(value, 2)} ({level})"


#: The exposure indicators as the fiche names them (a noun phrase: it also reads in a sentence).
INDICATOR_LABELS = {
    "exports_share_united_states": "Part des exportations vers les États-Unis",
    "exports_share_eu": "Part des exportations vers l'Union européenne",
    "exports_share_china": "Part des exportations vers la Chine",
    "exports_first_partner_share": "Premier client",
    "exports_first_product_share": "Premier produit exporté (A129)",
    "imports_first_partner_share": "Premier fournisseur",
    "exports_partner_hhi": "Concentration des clients (indice de Herfindahl)",
    "exports_product_hhi": "Concentration des produits exportés",
    "energy_share_of_imports": "Part de l'énergie dans les importations",
}
#: The indicators a « stands out » sentence may name (shares of a flow, read as such).
_COMPARED_SHARES = ("exports_share_united_states", "exports_share_eu", "exports_share_china", "energy_share_of_imports")
#: How far from France's value an indicator must be for the sentence to name it (ratio).
STANDS_OUT = 1.25
_LEVEL_WORDS = {"departement": "départements", "region": "régions"}


def _level_count(level: str) -> int:
    return sum(1 for t in territories() if t.level == level)


def _rank_text(rank: object, among: object, level: str) -> str:
    if level == "france" or rank is None or pd.isna(rank):
        return "–"
    rank = int(rank)
    return f"{rank}{'er' if rank == 1 and level == 'departement' else 're' if rank == 1 else 'e'} sur {int(among)}"


def exposure_items(data: TerritoryData) -> list[dict]:
    """The exposure table: each indicator, France's value and the territory's rank (when every
    territory of its level is in the store — a rank among a few would mislead)."""
    e, level = data.exposure, data.territory.level
    compared = data.comparison if data.comparison is not None else pd.DataFrame()
    complete = level != "france" and len(compared) and int(compared["ranked_among"].max()) == _level_count(level)

    def partner(code: str | None) -> str:
        match = data.partners[data.partners["country_code"] == code]
        return match["short"].iloc[0] if len(match) else (code or "–")

    def product(code: str | None, flow: str) -> str:
        match = data.products[(data.products["product_code"] == code) & (data.products["flow"] == flow)]
        return match["short"].iloc[0] if len(match) else (code or "–")

    shown = {
        "exports_first_partner_share": lambda v: f"{partner(e['exports_first_partner_code'])} ({french.pct(v)})",
        "exports_first_product_share": lambda v: f"{product(e['exports_first_product_code'], 'E')} ({french.pct(v)})",
        "imports_first_partner_share": lambda v: f"{partner(e['imports_first_partner_code'])} ({french.pct(v)})",
        "exports_partner_hhi": _hhi_words, "exports_product_hhi": _hhi_words,
    }
    items = []
    for indicator, label in INDICATOR_LABELS.items():
        row = compared.loc[indicator] if indicator in compared.index else None
        formatter = shown.get(indicator, french.pct)
        france_formatter = _hhi_words if indicator.endswith("_hhi") else french.pct
        items.append({
            "indicator": indicator, "label": label, "value": formatter(e[indicator]),
            "france": france_formatter(row["france_value"]) if row is not None else "–",
            "rank": _rank_text(row["rank"], row["ranked_among"], level) if row is not None and complete else "–",
        })
    return items


def exposure_notes(data: TerritoryData) -> list[str]:
    """Under the exposure table: where the territory stands out from France, and why ranks may be
    missing."""
    level = data.territory.level
    if level == "france" or data.comparison is None or data.comparison.empty:
        return []
    compared = data.comparison
    notes = []
    expected, present = _level_count(level), int(compared["ranked_among"].max())
    if present != expected:
        notes.append(f"Rangs non calculés : seul{'s' if present > 1 else ''} {present} "
                     f"{_LEVEL_WORDS[level] if present > 1 else _LEVEL_WORDS[level][:-1]} sur {expected} "
                     f"{'sont' if present > 1 else 'est'} dans la base pour {data.year}.")
    far = []
    for indicator in _COMPARED_SHARES:
        if indicator not in compared.index:
            continue
        value, france = compared.loc[indicator, "value"], compared.loc[indicator, "france_value"]
        if pd.isna(value) or pd.isna(france) or value <= 0 or france <= 0:
            continue
        ratio = float(value) / float(france)
        if ratio >= STANDS_OUT or ratio <= 1 / STANDS_OUT:
            far.append((abs(math.log(ratio)), indicator, float(value), float(france), ratio > 1))
    name = french.subject(data.territory.name_with_article)
    if not far:
        notes.append(f"{name} a un profil d'échanges proche de celui de la France sur ces indicateurs.")
        return notes
    phrases = [f"une {INDICATOR_LABELS[indicator][0].lower() + INDICATOR_LABELS[indicator][1:]} "
               f"{'plus élevée' if higher else 'plus faible'} ({french.pct(value)} contre {french.pct(france)})"
               for _, indicator, value, france, higher in sorted(far, reverse=True)[:2]]
    notes.append(f"Par rapport à la France, {data.territory.name_with_article} se distingue par {' et '.join(phrases)}.")
    return notes


def united_states_lead(data: TerritoryData) -> str:
    """The key figures of the United States focus, in one sentence."""
    figures = united_states_figures(data)
    text = (f"Exportations vers les États-Unis : {french.headline(figures.exports_eur)}, soit "
            f"{french.pct(figures.share_of_exports)} des exportations")
    if data.territory.level != "france" and figures.france_share is not None:
        text += f" (France : {french.pct(figures.france_share)})"
    if figures.change_eur is not None:
        text += (f" ; sur un an : {french.signed_pct(figures.change_pct)} "
                 f"({french.signed_eur(figures.change_eur)})")
    return text + "."


def _format_cell(column: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if column.endswith("_eur"):
        return french.eur(float(value))
    if _is_share(column):
        return french.pct(float(value))
    if column == "contribution_points":
        return french.points(float(value))
    if column == "top5":
        return "oui" if value else ""
    return str(value)


def _french_number(text: str) -> float:
    """A number as the CSVs write it (decimal comma); NaN when the cell holds none."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return math.nan


def _table(csv_path: Path) -> dict:
    """A chart's CSV as the table shown under it, its cells formatted the French way."""
    header, rows = read_csv_cells(csv_path)
    numeric = set(_numeric_columns(header))

    def typed(column: str, text: str) -> object:
        if column in numeric:
            return _french_number(text)
        return text == "oui" if column == "top5" else text

    return {"columns": [{"label": _COLUMN_LABELS.get(c, c), "number": c in numeric} for c in header],
            "rows": [[_format_cell(c, typed(c, text)) for c, text in zip(header, row, strict=True)] for row in rows]}


@dataclass(frozen=True)
class ChartRef:
    """A chart of some territory's folder, as a fiche refers to it (paths relative to the fiche)."""

    key: str
    name: str
    manifest: dict

    @property
    def entry(self) -> dict:
        return self.manifest["charts"][self.name]

    def as_dict(self, folder: Path) -> dict:
        return {"territory": self.key, "name": self.name, "alt": self.entry["alt"], "title": self.entry["title"],
                "svg": f"{self.key}/{self.name}.svg", "png": f"{self.key}/{self.name}.png",
                "csv": f"{self.key}/{self.name}.csv", "width": self.entry["width"], "height": self.entry["height"],
                "table": _table(folder / self.key / f"{self.name}.csv")}


def comparison_keys(data: TerritoryData) -> list[str]:
    """The territories whose charts a fiche shows beside its own: its région, France."""
    return data.territory.comparison_keys


#: What two fiches of the same figures made by two builds differ by: the publication they name
#: (its date, in the head and on the methodology page) and the page's hash, which covers it.
BUILD_SPECIFIC = (r'<p class="publication".*?</p>|<meta name="trade-pipeline-content"[^>]*>'
                  r'|<meta name="trade-pipeline-publication"[^>]*>')


def publication_line(publication: Publication | None) -> dict:
    """The sentence that names the publication a fiche's figures come from (a reader can cite
    it, and find it again in published/history/)."""
    if publication is None:
        return {"id": "", "text": "Données non encore publiées (aucune publication dans published/)."}
    return {"id": publication.id,
            "text": f"Données de la {publication.label()}, conservée dans published/history/{publication.id}/."}


def render_fiche(data: TerritoryData, manifests: dict[str, dict], fiches_dir: Path, with_pdf: bool,
                 publication: Publication | None = None) -> str:
    """The fiche's HTML. `manifests` holds the chart manifests of the territory and its comparisons;
    `publication` is the one its figures come from."""
    year_dir = fiches_dir / str(data.year)
    own = manifests[data.key]
    comparisons = comparison_keys(data)

    def chart(name: str) -> dict:
        item = ChartRef(data.key, name, own).as_dict(year_dir)
        item["top5"] = []
        if name.startswith("flows_"):
            flow = "E" if name.endswith("exports") else "I"
            item["top5"] = [(rank, origin, destination, french.eur(value))
                            for rank, origin, destination, value in top_flows(data.links, flow)]
        return item

    def comparison(key: str, name: str) -> dict:
        entry = manifests[key]["charts"][name]
        other = territory(key)
        return {"territory": key, "name": name, "alt": entry["alt"], "svg": f"{key}/{name}.svg",
                "width": entry["width"], "height": entry["height"], "fiche": f"{key}.html",
                "caption": other.name}

    sections = [
        {"id": "evolution", "heading": "Évolution", "charts": [chart("evolution")], "comparisons": []},
        {"id": "contributions", "heading": "Ce qui a fait varier les échanges",
         "charts": [chart("contributions_exportations"), chart("contributions_importations")], "comparisons": []},
        {"id": "etats-unis", "heading": "Focus États-Unis", "lead": united_states_lead(data),
         "charts": [chart("united_states")], "comparisons": []},
        {"id": "partenaires", "heading": "Principaux pays partenaires", "charts": [chart("partners")], "comparisons": []},
        {"id": "activites", "heading": "Principales activités",
         "charts": [chart("activities_imports"), chart("activities_exports")], "comparisons": []},
        {"id": "flux-exportations", "heading": "Flux d'exportations", "charts": [chart("flows_exports")],
         "comparisons": [comparison(k, "flows_exports_compact") for k in comparisons]},
        {"id": "flux-importations", "heading": "Flux d'importations", "charts": [chart("flows_imports")],
         "comparisons": [comparison(k, "flows_imports_compact") for k in comparisons]},
    ]
    locator = ChartRef(data.key, "locator", own).as_dict(year_dir)
    t = data.territory
    shown = [own["content_hash"]] + [manifests[k]["content_hash"] for k in comparisons]
    parent = territory(t.region_key).name if t.region_key else None
    _, pdf = fiche_paths(fiches_dir, data.year, data.key)
    context = {
        "year": data.year, "name": t.name, "code_label": t.code, "level_label": LEVEL_LABELS[t.level],
        "parent": parent, "synthetic": data.synthetic, "synthetic_banner": SYNTHETIC_BANNER,
        "synthetic_label": SYNTHETIC_LABEL, "totals": totals_boxes(data), "exposure": exposure_items(data),
        "exposure_notes": exposure_notes(data),
        "is_france": t.level == "france", "locator": locator, "map_attribution": geometry()["attribution"],
        "notes": [n for n in data_notes(data) if n.kind != "synthetic"], "sections": sections,
        "methodology": METHODOLOGY, "attribution": ATTRIBUTION, "ranks": RANKS, "css": _css(),
        "plotly_src": f"../assets/{PLOTLY_JS}",
        "chart_scripts": [f"{k}/charts.js" for k in [data.key, *comparisons]],
        "pdf": pdf.name if with_pdf else None, "publication": publication_line(publication),
        "headline": f"{t.name} {data.year} : exportations {french.headline(data.total('E'))}, "
                    f"importations {french.headline(data.total('I'))}",
    }
    html = _environment().get_template("fiche.html.j2").render(**context)
    # Everything the page shows, in one hash: same hash, same bytes — nothing is rewritten.
    digest = hashlib.sha256((html + "|".join(shown)).encode()).hexdigest()
    return html.replace("<head>", f'<head>\n<meta name="trade-pipeline-content" content="{digest}">', 1)


def staged_page(html_path: Path) -> Path:
    """Where a changed page waits, beside the fiche, while its PDF is printed from it (a hidden
    `.html` file: Chromium opens a file:// page by its extension)."""
    return html_path.with_name(f".{html_path.stem}.new.html")


def write_fiche(data: TerritoryData, manifests: dict[str, dict], fiches_dir: Path, with_pdf: bool,
                publication: Publication | None = None) -> tuple[Path, bool]:
    """Write the fiche's HTML if it changed; returns the path written and whether it changed.

    With `with_pdf`, a changed page is written beside the fiche (`staged_page`): its PDF is
    printed from it, then the PDF and the page are put in place (fiches/pdf.py), so that a fiche
    whose PDF could not be printed keeps its old page and PDF, a matching pair."""
    html_path, _ = fiche_paths(fiches_dir, data.year, data.key)
    html = render_fiche(data, manifests, fiches_dir, with_pdf, publication).encode("utf-8")
    if holds(html_path, html):
        return html_path, False
    target = staged_page(html_path) if with_pdf else html_path
    write_atomically(target, html)
    return target, True


def read_manifests(fiches_dir: Path, year: int, keys: list[str]) -> dict[str, dict]:
    result = {}
    for key in keys:
        path = territory_dir(fiches_dir, year, key) / "manifest.json"
        if not path.exists():
            raise FileNotFoundError(f"no charts for {key} in {year} ({path}): materialize territory_charts first")
        result[key] = json.loads(path.read_text(encoding="utf-8"))
    return result


# --------------------------------------------------------------------------------------------
# The index of a year
# --------------------------------------------------------------------------------------------


MAPS_FOLDER = "carte"


def department_values(connection: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """What the maps of a year show, per département: exports, balance, share of exports to the US."""
    return connection.execute("""
        SELECT t.territory_code AS department_code, t.exports_eur, (t.exports_eur - t.imports_eur) AS balance_eur,
               e.exports_share_united_states
        FROM mart_territory_totals t JOIN mart_exposure e USING (year, level, territory_code)
        WHERE t.year = ? AND t.level = 'departement' ORDER BY t.territory_code""", [year]).df()


def write_maps(fiches_dir: Path, year: int, values: pd.DataFrame, synthetic: bool, with_images: bool) -> ChartFolder:
    """The maps of the year's index in `fiches/<year>/carte/` (call `commit` once their pictures are drawn)."""
    year_dir = fiches_dir / str(year)
    fiches = {path.stem for path in year_dir.glob("[!.]*.html") if path.stem != "index"}
    charts = [choropleth_chart(values, measure, year, synthetic, fiches) for measure in MEASURES]
    return write_charts(year_dir / MAPS_FOLDER, MAPS_FOLDER, year, charts, with_images)


def _numeric_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.endswith("_eur") or _is_share(c) or c == "contribution_points"]


def year_tables(fiches_dir: Path, year: int) -> dict[str, pd.DataFrame]:
    """Every chart's table of the year, one frame per chart with every territory (from the CSVs
    the fiches link to): code_territoire, territoire, then the chart's columns, typed."""
    cells: dict[tuple[str, tuple[str, ...]], list[list[str]]] = {}  # (chart, header) → rows
    for key in territory_keys():
        folder = territory_dir(fiches_dir, year, key)
        if not (folder / "manifest.json").exists():
            continue
        name_of_territory = territory(key).name
        for name in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["charts"]:
            header, rows = read_csv_cells(folder / f"{name}.csv")
            cells.setdefault((name, tuple(header)), []).extend([key, name_of_territory, *row] for row in rows)
    frames: dict[str, list[pd.DataFrame]] = {}
    for (name, header), rows in cells.items():  # one frame per chart: typed once, not per territory
        frame = pd.DataFrame(rows, columns=["code_territoire", "territoire", *header], dtype=str)
        for column in [*_numeric_columns(list(header)), *(["annee"] if "annee" in header else [])]:
            frame[column] = pd.to_numeric(frame[column].str.replace(",", ".", regex=False), errors="coerce")
        frames.setdefault(name, []).append(frame)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}


#: Bump when the year data files change shape (their content is otherwise that of the CSVs).
YEAR_DATA_FORMAT = "1"


def _year_charts_digest(fiches_dir: Path, year: int) -> str:
    """What the year's data files are made of: every territory's chart manifest (its hash covers
    each chart's CSV), in territory order."""
    parts = [YEAR_DATA_FORMAT]
    for key in territory_keys():
        manifest = territory_dir(fiches_dir, year, key) / "manifest.json"
        if manifest.exists():
            parts.append(f"{key}:{json.loads(manifest.read_text(encoding='utf-8'))['content_hash']}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def write_year_data(fiches_dir: Path, year: int) -> tuple[Path, Path] | None:
    """`fiches/<year>/donnees-<year>.csv` and `.xlsx`: every chart's table of the year, in one
    file each (CSV: one row per table row, `graphique` naming the chart; XLSX: a sheet per chart).

    Made again only when a chart of the year changed: the index is rebuilt whenever any year's
    fiches change, and re-reading a year's thousand CSVs for nothing would cost seconds a year.
    """
    year_dir = fiches_dir / str(year)
    csv_path, xlsx_path = year_dir / f"donnees-{year}.csv", year_dir / f"donnees-{year}.xlsx"
    made_from, digest = year_dir / ".donnees-sources", _year_charts_digest(fiches_dir, year)
    if csv_path.exists() and xlsx_path.exists() and made_from.exists() and made_from.read_text() == digest:
        return csv_path, xlsx_path
    tables = year_tables(fiches_dir, year)
    if not tables:
        return None
    long = pd.concat([frame.assign(graphique=name) for name, frame in tables.items()], ignore_index=True)
    long = long[["graphique", *[c for c in long.columns if c != "graphique"]]]
    write_if_changed(csv_path, csv_bytes(long))
    write_if_changed(xlsx_path, xlsx_bytes(tables))
    write_if_changed(made_from, digest.encode())  # last: a crash before it makes them again
    return csv_path, xlsx_path


def write_index(fiches_dir: Path, year: int, totals: pd.DataFrame, synthetic: bool, years: list[int],
                maps: dict | None = None) -> Path:
    """`fiches/<year>/index.html`: every fiche of the year, searchable by name or code, and its maps."""
    rows = []
    year_dir = fiches_dir / str(year)
    order = {key: position for position, key in enumerate(territory_keys())}
    totals = totals.assign(key=[territory_key(level, code) for level, code in zip(totals["level"],
                                                                                   totals["territory_code"], strict=True)])
    for row in totals.sort_values("key", key=lambda keys: keys.map(order)).itertuples(index=False):
        key = row.key
        html, pdf = fiche_paths(fiches_dir, year, key)
        if not html.exists():
            continue
        t = territory(key)
        region = territory(t.region_key).name if t.region_key else ""
        rows.append({"name": t.name, "code": t.code, "level": LEVEL_LABELS[t.level], "region": region,
                     "exports": french.headline(row.exports_eur), "imports": french.headline(row.imports_eur),
                     "balance": french.signed_eur(row.exports_eur - row.imports_eur),
                     "values": {"exports": int(row.exports_eur), "imports": int(row.imports_eur),
                                "balance": int(row.exports_eur - row.imports_eur)},
                     "html": html.name, "pdf": pdf.name if pdf.exists() else None,
                     "search": _normalise(f"{t.name} {t.code} {t.insee_code or ''} {region} {t.level}")})
    context = {"year": year, "rows": rows, "count": len(rows), "css": _css(), "synthetic": synthetic,
               "synthetic_banner": SYNTHETIC_BANNER, "attribution": ATTRIBUTION,
               "regions": sum(r["level"] == "Région" for r in rows),
               "departements": sum(r["level"] == "Département" for r in rows),
               "other_years": [y for y in years if y != year],
               "maps": [ChartRef(MAPS_FOLDER, name, maps).as_dict(fiches_dir / str(year)) for name in maps["charts"]]
               if maps else [], "plotly_src": f"../assets/{PLOTLY_JS}", "maps_script": f"{MAPS_FOLDER}/charts.js",
               "map_attribution": geometry()["attribution"],
               "downloads": [path.name for path in (year_dir / f"donnees-{year}.csv", year_dir / f"donnees-{year}.xlsx")
                             if path.exists()]}
    path = fiches_dir / str(year) / "index.html"
    write_if_changed(path, _environment().get_template("index.html.j2").render(**context).encode("utf-8"))
    return path


def write_years_index(fiches_dir: Path, years: dict[int, bool]) -> Path:
    """`fiches/index.html`: every year with fiches (newest first), each with its data files.
    `years` maps a year to whether its data are synthetic."""
    rows = []
    for year in sorted(years, reverse=True):
        year_dir = fiches_dir / str(year)
        rows.append({"year": year, "count": sum(1 for p in year_dir.glob("[!.]*.html") if p.stem != "index"),
                     "downloads": [n for n in (f"donnees-{year}.csv", f"donnees-{year}.xlsx") if (year_dir / n).exists()]})
    context = {"years": rows, "css": _css(), "synthetic": any(years.values()), "synthetic_banner": SYNTHETIC_BANNER,
               "attribution": ATTRIBUTION}
    path = fiches_dir / "index.html"
    write_if_changed(path, _environment().get_template("years.html.j2").render(**context).encode("utf-8"))
    return path


def _normalise(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()
