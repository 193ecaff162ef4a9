"""One territory's fiche: its HTML page (and the PDF printed from it, fiches/pdf.py).

Paths are stable, for links:

    fiches/<year>/<level>-<code>.html, .pdf     the fiche
    fiches/<year>/<level>-<code>/               its charts (SVG, PNG, CSV, charts.js; charts/files.py)
    fiches/assets/plotly-<version>.min.js       plotly.js, shipped once (works offline)

A département's fiche shows its région's and France's comparison charts from their folders. The
page carries a hash of everything it shows (its figures and the comparison charts): when that
hash is unchanged the HTML is byte-identical and neither it nor the PDF is written again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from trade_pipeline.aggregation.reads import TerritoryData, top_flows
from trade_pipeline.charts.chart import FLOW_WORDS
from trade_pipeline.charts.files import MANIFEST, read_tables, territory_dir
from trade_pipeline.charts.maps import geometry
from trade_pipeline.charts.table import Kind, page_cell
from trade_pipeline.fiches.conjoncture import FOLDER as CONJONCTURE
from trade_pipeline.fiches.html import PLOTLY_JS, ChartRef, css, environment
from trade_pipeline.fiches.notes import DEFINITIONS, METHODOLOGY, data_notes
from trade_pipeline.fiches.prose import exposure_items, exposure_notes, introduction, totals_boxes, united_states_lead
from trade_pipeline.lib import french
from trade_pipeline.lib.atomic import holds, write_atomically
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_BANNER, SYNTHETIC_LABEL
from trade_pipeline.lib.territoires_industrie import FOLDER, of_departement
from trade_pipeline.lib.territories import among_words, territory
from trade_pipeline.publication.history import Publication

RANKS = "①②③④⑤"
#: Printed pages of every fiche, whatever its territory: the summary, nine pages of charts, what
#: to read before interpreting (notes, definitions, methodology), sources. One section a page.
PAGES = 12
#: The printed page of « À lire avant d'interpréter » (the summary points to it).
NOTES_PAGE = 11


def fiche_paths(fiches_dir: Path, year: int, key: str) -> tuple[Path, Path]:
    folder = fiches_dir / str(year)
    return folder / f"{key}.html", folder / f"{key}.pdf"


def comparison_keys(data: TerritoryData) -> list[str]:
    """The territories whose charts a fiche shows beside its own: its région, France."""
    return data.territory.comparison_keys


#: What two fiches of the same figures made by two builds differ by: the publication they name
#: (its date, in the head and on the sources page) and the page's hash, which covers it.
BUILD_SPECIFIC = (r'<p class="publication".*?</p>|<meta name="trade-pipeline-content"[^>]*>'
                  r'|<meta name="trade-pipeline-publication"[^>]*>')


def publication_line(publication: Publication | None) -> dict:
    """The sentence that names the publication a fiche's figures come from, by its date and
    checksum (a reader can cite it; the store's history keeps it under that name)."""
    if publication is None:
        return {"id": "", "text": "Chiffres non encore publiés dans la base."}
    return {"id": publication.id, "text": f"Chiffres de la {publication.label()}."}


def practical_information(data: TerritoryData) -> list[dict]:
    """The national fiche's « Informations pratiques », as links beside the fiche."""
    year = data.year
    return [
        {"title": "Toutes les fiches", "text": f"la France, les régions et les départements en {year}, à retrouver "
                                               "par leur nom ou leur code, et les cartes des départements",
         "links": [(f"index des fiches {year}", "index.html"), ("toutes les années", "../index.html")]},
        {"title": "Les données", "text": f"le tableau de chaque graphique de chaque fiche de {year}, en un fichier "
                                         "(et, à l'écran, sous chaque graphique)",
         "links": [(f"donnees-{year}.csv", f"donnees-{year}.csv"), (f"donnees-{year}.xlsx", f"donnees-{year}.xlsx")]},
        {"title": "La méthodologie", "text": f"sources, localisation des échanges et définitions, page {NOTES_PAGE}",
         "links": [("À lire avant d'interpréter", "#a-lire")]},
        {"title": "La base publiée", "text": "les tables de toutes les fiches (DuckDB, Parquet, CSV) et l'historique "
                                             "de leurs publications, où celle citée ci-dessus est conservée",
         "links": []},
    ]


#: France's comparison pages list its régions, then its leading départements.
LEADING_DEPARTEMENTS = 10


def _members_tables(data: TerritoryData, flow: str) -> list[dict]:
    """A région's départements, or France's régions and leading départements, by their share of
    its exports (imports)."""
    members = data.members
    if members is None or members.empty:
        return []
    column, share = ("exports_eur", "exports_share") if flow == "E" else ("imports_eur", "imports_share")
    t = data.territory
    word = FLOW_WORDS[flow]
    of_whom = "de la France" if t.level == "france" else t.of
    groups = ([("region", "Régions", None), ("departement", f"Les {LEADING_DEPARTEMENTS} premiers départements",
                                              LEADING_DEPARTEMENTS)] if t.level == "france"
              else [("departement", "Départements", None)])
    tables = []
    for level, heading, count in groups:
        rows = members[members["level"] == level].sort_values([column, "key"], ascending=[False, True])
        rows = rows.head(count) if count else rows
        table = {"columns": [{"label": "Région" if level == "region" else "Département", "number": False},
                             {"label": word.capitalize(), "number": True},
                             {"label": f"Part {of_whom}", "number": True},
                             {"label": "Solde", "number": True}],
                 "rows": [[{"text": row.name, "href": f"{row.key}.html"}, page_cell(Kind.EUR, getattr(row, column)),
                           page_cell(Kind.SHARE, getattr(row, share)), french.signed_eur(row.balance_eur)]
                          for row in rows.itertuples(index=False)]}
        tables.append({"heading": f"{heading} : part dans les {word} {of_whom}", "table": table})
    return tables


def members_note(data: TerritoryData) -> str:
    """Under the members' tables: what their shares are of."""
    t = data.territory
    of_whom = "de la France" if t.level == "france" else t.of
    return f"Parts calculées sur le total {of_whom}, somme de {t.possessive} départements dans les mêmes fichiers."


def render_fiche(data: TerritoryData, manifests: dict[str, dict], fiches_dir: Path, with_pdf: bool,
                 publication: Publication | None = None) -> str:
    """The fiche's HTML. `manifests` holds the chart manifests of the territory and its comparisons;
    `publication` is the one its figures come from."""
    own = manifests[data.key]
    tables = read_tables(territory_dir(fiches_dir, data.year, data.key))
    comparisons = comparison_keys(data)
    t = data.territory

    def chart(name: str) -> dict:
        item = ChartRef(data.key, name, own, tables[name]).as_dict()
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
                "width": entry["width"], "height": entry["height"], "fiche": f"{key}.html", "of": other.of}

    def compared(flow: str) -> dict:
        word = FLOW_WORDS[flow]
        name = f"flows_{'exports' if flow == 'E' else 'imports'}_compact"
        region_of = territory(t.region_key).of if t.region_key else ""
        heading = {"departement": f"Flux d'{word} {region_of} et de la France",
                   "region": f"Flux d'{word} de la France et part des départements",
                   "france": f"{word.capitalize()} des régions"}[t.level]
        return {"id": f"comparaison-{word}", "heading": heading, "lead": None, "charts": [],
                "comparisons": [comparison(k, name) for k in comparisons], "members": _members_tables(data, flow),
                "members_note": members_note(data)}

    def section(id_: str, heading: str, charts: list[str], lead: str | None = None) -> dict:
        return {"id": id_, "heading": heading, "lead": lead, "charts": [chart(c) for c in charts],
                "comparisons": [], "members": [], "members_note": ""}

    sections = [
        section("evolution", "Évolution", ["evolution"]),
        section("contributions", "Ce qui a fait varier les échanges",
                ["contributions_exportations", "contributions_importations"]),
        section("etats-unis", "Focus États-Unis", ["united_states", "united_states_imports"], united_states_lead(data)),
        section("partenaires", "Principaux pays partenaires", ["partners"]),
        section("activites", "Principales activités", ["activities_imports", "activities_exports"]),
        section("flux-exportations", "Flux d'exportations", ["flows_exports"]),
        compared("E"),
        section("flux-importations", "Flux d'importations", ["flows_imports"]),
        compared("I"),
    ]
    locator = ChartRef(data.key, "locator", own, tables["locator"]).as_dict()
    shown = [own["content_hash"]] + [manifests[k]["content_hash"] for k in comparisons]
    in_territoires = [{"name": ti.name, "href": f"{FOLDER}/{ti.page}"}
                      for ti in of_departement(t.code)] if t.level == "departement" else []
    _, pdf = fiche_paths(fiches_dir, data.year, data.key)
    context = {
        "year": data.year, "name": t.name, "code_label": t.code, "level_label": t.kind_label,
        "code_line": t.codes_line, "the_territory": t.the, "description": t.description,
        "rank_among": among_words(t.level) if t.ranked else None,
        "parent": t.region_name, "territoires_industrie": in_territoires,
        "synthetic": data.synthetic, "synthetic_banner": SYNTHETIC_BANNER,
        "synthetic_label": SYNTHETIC_LABEL, "totals": totals_boxes(data), "exposure": exposure_items(data),
        "exposure_notes": exposure_notes(data), "introduction": introduction(data),
        "is_france": t.level == "france", "locator": locator, "map_attribution": geometry()["attribution"],
        "notes": [n for n in data_notes(data) if n.kind != "synthetic"], "notes_page": NOTES_PAGE,
        "sections": sections, "definitions": DEFINITIONS, "practical": practical_information(data),
        "methodology": METHODOLOGY, "attribution": ATTRIBUTION, "ranks": RANKS, "css": css(),
        "plotly_src": f"../assets/{PLOTLY_JS}",
        "chart_scripts": [f"{k}/charts.js" for k in [data.key, *comparisons]],
        "pdf": pdf.name if with_pdf else None, "publication": publication_line(publication),
        "conjoncture": f"../{CONJONCTURE}/{data.key}.html",  # moves every month; the fiche does not
        "conjoncture_script": f"../{CONJONCTURE}/{data.key}.js",
        "headline": f"{t.name} {data.year} : exportations {french.headline(data.total('E'))}, "
                    f"importations {french.headline(data.total('I'))}",
    }
    html = environment().get_template("fiche.html.j2").render(**context)
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
        path = territory_dir(fiches_dir, year, key) / MANIFEST
        if not path.exists():
            raise FileNotFoundError(f"no charts for {key} in {year} ({path}): materialize territory_charts first")
        result[key] = json.loads(path.read_text(encoding="utf-8"))
    return result
