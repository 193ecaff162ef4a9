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
from trade_pipeline.charts.files import MANIFEST, read_tables, territory_dir
from trade_pipeline.charts.maps import geometry
from trade_pipeline.fiches.html import LEVEL_LABELS, PLOTLY_JS, ChartRef, css, environment
from trade_pipeline.fiches.notes import METHODOLOGY, data_notes
from trade_pipeline.fiches.prose import exposure_items, exposure_notes, totals_boxes, united_states_lead
from trade_pipeline.lib import french
from trade_pipeline.lib.atomic import holds, write_atomically
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_BANNER, SYNTHETIC_LABEL
from trade_pipeline.lib.territories import territory
from trade_pipeline.publication.history import Publication

RANKS = "①②③④⑤"
#: Printed pages of a fiche: the summary, one per section, the methodology.
PAGES = 9


def fiche_paths(fiches_dir: Path, year: int, key: str) -> tuple[Path, Path]:
    folder = fiches_dir / str(year)
    return folder / f"{key}.html", folder / f"{key}.pdf"


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
    own = manifests[data.key]
    tables = read_tables(territory_dir(fiches_dir, data.year, data.key))
    comparisons = comparison_keys(data)

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
    locator = ChartRef(data.key, "locator", own, tables["locator"]).as_dict()
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
        "methodology": METHODOLOGY, "attribution": ATTRIBUTION, "ranks": RANKS, "css": css(),
        "plotly_src": f"../assets/{PLOTLY_JS}",
        "chart_scripts": [f"{k}/charts.js" for k in [data.key, *comparisons]],
        "pdf": pdf.name if with_pdf else None, "publication": publication_line(publication),
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
