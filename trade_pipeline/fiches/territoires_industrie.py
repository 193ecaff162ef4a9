"""The pages of the Territoires d'industrie, in `fiches/<year>/territoires-industrie/`: one per
territory (its name, member groupements, a map of its outline over its départements, and its
départements' key figures side by side, each linking to its fiche), and their list.

DGDDI publishes nothing finer than the département: a page shows the figures of the départements
the territory lies in — and says so — as the programme advises for the territories that span several."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from trade_pipeline.charts.files import ChartFolder, write_charts
from trade_pipeline.charts.maps import geometry, territoire_industrie_alt, territoire_industrie_chart
from trade_pipeline.fiches.html import css, environment, searchable
from trade_pipeline.lib import french
from trade_pipeline.lib.atomic import write_if_changed
from trade_pipeline.lib.provenance import ATTRIBUTION, SYNTHETIC_BANNER, source_line
from trade_pipeline.lib.territoires_industrie import (
    ADVICE,
    FOLDER,
    PHASE,
    TerritoireIndustrie,
    territoires_industrie,
)
from trade_pipeline.lib.territoires_industrie import ATTRIBUTION as TI_ATTRIBUTION
from trade_pipeline.lib.territories import among_words, territories, territory_key

METHOD = ("Part de la surface : part de la surface du Territoire d'industrie située dans chaque département, "
          "calculée sur les contours de l'ANCT (les bandes de moins de 1 %, écarts de tracé entre contours, sont "
          "écartées). Elle dit où se trouve le territoire, pas la part de son activité.")


def folder(fiches_dir: Path, year: int) -> Path:
    return fiches_dir / str(year) / FOLDER


def maps_folder(fiches_dir: Path) -> Path:
    """The territories' maps, the same every year: drawn once, in `fiches/territoires-industrie/cartes/`."""
    return fiches_dir / FOLDER / "cartes"


def write_maps(fiches_dir: Path, with_images: bool) -> list[ChartFolder]:
    """Each territory's map in `cartes/<id>/` (call `commit` once their pictures are drawn)."""
    return [write_charts(maps_folder(fiches_dir) / ti.id, ti.id, 0, [territoire_industrie_chart(ti)], with_images)
            for ti in territoires_industrie()]


def _region_names() -> dict[str, str]:
    """INSEE région code → name: the « RR » of a territory's id `ti-RRNN`."""
    names = {t.insee_code: t.name for t in territories() if t.level == "region" and t.kind != "aggregate"}
    names.update({t.insee_region_code: t.own_region_name for t in territories() if t.own_region_name})
    return names


def _figures_rows(ti: TerritoireIndustrie, figures: pd.DataFrame, year_dir: Path) -> dict:
    """The key figures of the territory's départements, one column each (side by side)."""
    by_code = figures.set_index("departement") if len(figures) else figures
    columns, missing, rows = [], [], {label: [] for label in (
        "Part de la surface du territoire", "Exportations", "Importations", "Solde commercial", "Premier client",
        "Premier produit exporté (A129)", "Part des exportations vers les États-Unis", "Rang des exportations")}
    for share in ti.departements:
        t = share.departement
        fiche = f"{territory_key('departement', t.code)}.html"
        columns.append({"name": t.name, "code": t.code, "href": f"../{fiche}" if (year_dir / fiche).exists() else None})
        row = by_code.loc[t.code] if t.code in by_code.index else None
        rows["Part de la surface du territoire"].append(french.pct(share.share))
        if row is None:
            for label in list(rows)[1:]:
                rows[label].append("–")
            missing.append(t.of)  # « du Doubs », « de la Haute-Saône »
            continue
        rows["Exportations"].append(french.headline(row["exports_eur"]))
        rows["Importations"].append(french.headline(row["imports_eur"]))
        rows["Solde commercial"].append(french.signed_eur(row["balance_eur"]))
        rows["Premier client"].append(_named(row, "exports_first_partner"))
        rows["Premier produit exporté (A129)"].append(_named(row, "exports_first_product"))
        rows["Part des exportations vers les États-Unis"].append(french.pct(row["exports_share_united_states"]))
        rank = row["exports_rank"]
        rows["Rang des exportations"].append(f"{int(rank)}{'er' if rank == 1 else 'e'} sur {int(row['ranked_among'])}"
                                             if pd.notna(rank) else "–")
    return {"columns": columns, "rows": list(rows.items()), "missing": missing}


def _named(row: pd.Series, what: str) -> str:
    name, share = row[f"{what}_short"], row[f"{what}_share"]
    return f"{name} ({french.pct(share)})" if isinstance(name, str) and pd.notna(share) else "–"


def write_pages(fiches_dir: Path, year: int, figures: pd.DataFrame, synthetic: bool, with_pdf: bool) -> list[Path]:
    """Every territory's page and their list; returns the pages written (new or changed)."""
    year_dir, target = fiches_dir / str(year), folder(fiches_dir, year)
    regions = _region_names()
    common = {"year": year, "css": css(), "synthetic": synthetic, "synthetic_banner": SYNTHETIC_BANNER,
              "attribution": ATTRIBUTION, "ti_attribution": TI_ATTRIBUTION, "advice": ADVICE, "method": METHOD,
              "phase": PHASE.replace("-", "–"), "source": source_line(year, synthetic),
              "map_attribution": geometry()["attribution"], "among": among_words("departement")}
    written, listed = [], []
    for ti in territoires_industrie():
        html, pdf = target / ti.page, target / f"{ti.id}.pdf"
        page = environment().get_template("territoire_industrie.html.j2").render(
            **common, ti=ti, region=regions.get(ti.id[3:5], ""), figures=_figures_rows(ti, figures, year_dir),
            map={"svg": f"../../{FOLDER}/cartes/{ti.id}/carte.svg", "alt": territoire_industrie_alt(ti)},
            several=len(ti.departements) > 1, pdf=pdf.name if with_pdf else None)
        if write_if_changed(html, page.encode("utf-8")) or (with_pdf and not pdf.exists()):
            written.append(html)
        listed.append({"ti": ti, "region": regions.get(ti.id[3:5], ""), "href": ti.page,
                       "search": searchable(" | ".join([ti.name, *(n for n, _ in ti.groupements),
                                                        *(d.departement.name for d in ti.departements)])),
                       "departements": [{"name": d.departement.name, "share": french.pct(d.share)}
                                        for d in ti.departements]})
    index = environment().get_template("territoires_industrie.html.j2").render(**common, territories=listed)
    write_if_changed(target / "index.html", index.encode("utf-8"))
    return written


def pages_digest(fiches_dir: Path, year: int) -> str:
    """A hash of the year's pages of the Territoires d'industrie (part of the index's data version)."""
    digest = hashlib.sha256()
    for path in sorted(folder(fiches_dir, year).glob("*.html")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()

