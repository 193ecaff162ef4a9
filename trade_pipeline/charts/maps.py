"""Maps of the départements: the choropleth of a year's index (exports, balance or share of exports
to the United States) and the small locator map of each fiche.

Drawn by plotly like every other chart (filled polygons in a plain x/y plot: no map tiles, no
network), so that each map has its SVG and PNG, its CSV and its alt text. Geometry: the ANCT's
outlines (Licence Ouverte 2.0), prepared by `scripts/reference_geography.py`: Lambert-93, Corsica
merged into DGDDI's `20`, the five DROM as shapes in named insets each at its own scale, Paris and
the petite couronne enlarged in an inset (a click there opens the same fiche), Monaco as a tile.

Colour classes are quantiles rounded to readable bounds; the sequential scale (cividis) keeps its
order in grey and for colour-blind readers, the balance's diverging scale (orange–purple) too on
each side of zero, and the legend says in French what each class holds.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, nice_step, plotly_figure, plotly_text
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french
from trade_pipeline.lib.provenance import source_line
from trade_pipeline.lib.territoires_industrie import TerritoireIndustrie
from trade_pipeline.lib.territories import Territory, territories

CLASSES = 5
MONACO = "99"


DEPARTMENT_CODE, DEPARTMENT = Column("code_departement", "Code"), Column("departement", "Département")
#: The header of an amount's column in a map's table.
_MEASURE_LABELS = {"exports_eur": "Exportations", "balance_eur": "Solde"}


@dataclass(frozen=True)
class MapMeasure:
    name: str  # chart name: map_exports, …
    column: str  # in the values frame
    title: str  # « Exportations par département »
    diverging: bool
    formatter: str  # "eur" | "pct" | "signed_pct" (a change)

    def format(self, value: float) -> str:
        if self.formatter == "signed_pct":
            return french.signed_pct(value)
        return french.pct(value) if self.formatter == "pct" else (
            french.signed_eur(value) if self.diverging else french.eur(value))


MEASURES = (
    MapMeasure("map_exports", "exports_eur", "Exportations par département", False, "eur"),
    MapMeasure("map_balance", "balance_eur", "Solde commercial par département", True, "eur"),
    MapMeasure("map_united_states", "exports_share_united_states", "Part des exportations vers les États-Unis", False,
               "pct"),
)


@lru_cache(maxsize=1)
def geometry() -> dict:
    path = resources.files("trade_pipeline") / "reference" / "map_geometry.json"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _fine_boxes() -> dict[str, tuple[float, float, float, float]]:
    """Each département's box on the fine map (x0, y0, x1, y1), computed once: every
    Territoire d'industrie's map keeps the départements its view meets."""
    boxes = {}
    for code, rings in geometry()["departements_fine"].items():
        xs, ys = [p[0] for ring in rings for p in ring], [p[1] for ring in rings for p in ring]
        boxes[code] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def _departements() -> list[Territory]:
    return [t for t in territories() if t.level == "departement"]


def _ring_xy(rings: list[list[list[float]]]) -> tuple[list[float | None], list[float | None]]:
    """Several rings as one trace: None between them (plotly fills each part)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += [p[0] for p in ring]
        ys += [p[1] for p in ring]
    return xs, ys


def _rectangle(x: float, y: float, w: float, h: float) -> list[list[float]]:
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]


def shape_of(code: str, coarse: bool = False, enlarged: bool = True) -> list[list[list[float]]]:
    """The rings of a DGDDI département on the map (a DROM in its inset, Monaco a tile), with its
    enlarged copy in the Paris inset when it has one and `enlarged`; `coarse`: the lighter outline
    of the small locator maps."""
    rings = geometry()["departements_coarse" if coarse else "departements"][code]
    return rings + (geometry()["enlarged"].get(code, []) if enlarged else [])


def insets(paris: bool = True) -> list[dict]:
    """The map's insets: name, codes, box (x, y, w, h); the Paris one only if `paris`."""
    return [inset for inset in geometry()["insets"] if paris or not inset.get("enlarged")]


def shows_paris_inset(territory: Territory) -> bool:
    """The locator map enlarges Paris and the petite couronne for Île-de-France and its départements."""
    paris_region = territory_of_departement("75").parent_region_code
    return paris_region in (territory.code if territory.level == "region" else None, territory.parent_region_code)


def territory_of_departement(code: str) -> Territory:
    return next(t for t in _departements() if t.code == code)


def _nice(value: float) -> float:
    """A bound a reader can hold: the round step (1, 2, 2,5 or 5 × 10ⁿ) at or above it, signed."""
    return math.copysign(nice_step(abs(value), steps=1), value) if value else 0.0


def class_bounds(values: pd.Series, diverging: bool) -> list[float]:
    """Inner bounds of the colour classes: rounded quantiles (on each side of 0 if diverging)."""
    known = values.dropna().astype(float)
    if known.empty:
        return []
    if diverging:
        negative, positive = known[known < 0], known[known >= 0]
        # One class bound in the middle of each side, and zero between them.
        lower = [_nice(negative.median())] if len(negative) else []
        upper = [_nice(positive.median())] if len(positive) else []
        return sorted(set(lower + [0.0] + upper))
    quantiles = known.quantile(np.linspace(0, 1, CLASSES + 1)[1:-1]).tolist()
    return sorted({_nice(q) for q in quantiles if q > 0})


def class_of(value: float, bounds: list[float]) -> int:
    """The class index of a value: the number of bounds at or below it."""
    return int(sum(value >= b for b in bounds))


def class_colours(bounds: list[float], diverging: bool) -> list[str]:
    count = len(bounds) + 1
    if diverging:
        below = sum(1 for b in bounds if b <= 0)  # classes under zero
        negative = palette.DIVERGING_NEGATIVE[len(palette.DIVERGING_NEGATIVE) - below:]  # none when below is 0
        return [*negative, *palette.DIVERGING_POSITIVE[:count - below]]
    return palette.sequential(count)


def class_labels(bounds: list[float], measure: MapMeasure) -> list[str]:
    fmt = measure.format
    if not bounds:
        return ["toutes valeurs"]
    labels = [f"moins de {fmt(bounds[0])}"]
    labels += [f"de {fmt(low)} à {fmt(high)}" for low, high in zip(bounds, bounds[1:], strict=False)]
    labels.append(f"{fmt(bounds[-1])} ou plus")
    return labels


def _outline_traces(coarse: bool = False) -> list[dict]:
    traces = []
    for rings in geometry()["regions_coarse" if coarse else "regions"].values():
        xs, ys = _ring_xy(rings)
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "hoverinfo": "skip", "showlegend": False,
                       "line": {"color": palette.TEXT, "width": 1.4}})
    return traces


def _inset_frames(paris: bool) -> dict:
    """Thin frames around the insets: the reader sees that their scale is not the map's."""
    xs, ys = _ring_xy([_rectangle(*inset["box"]) for inset in insets(paris)])
    return {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "hoverinfo": "skip", "showlegend": False,
            "line": {"color": palette.INSET_FRAME, "width": 0.8}}


def _inset_labels(paris: bool) -> dict:
    """The insets' names (below a DROM's box, inside the Paris one at its bottom) and Monaco's."""
    xs, ys, texts, positions = [], [], [], []
    for inset in insets(paris):
        x, y, w, h = inset["box"]
        if inset.get("enlarged"):  # beside its box, over the Channel
            xs.append(x + w + 3)
            ys.append(y + 10)
            positions.append("middle right")
        else:
            xs.append(x + w / 2)
            ys.append(y + h + 7)
            positions.append("middle center")
        texts.append("<br>".join(plotly_text(line) for line in textwrap.wrap(inset["name"], 16)))
    monaco = geometry()["departements"][MONACO][0]
    xs.append(max(p[0] for p in monaco) + 2)
    ys.append(sum(p[1] for p in monaco[:4]) / 4)
    texts.append("Monaco")
    positions.append("middle right")
    return {"type": "scatter", "mode": "text", "x": xs, "y": ys, "text": texts, "hoverinfo": "skip",
            "showlegend": False, "textfont": {"size": 10, "color": palette.TEXT}, "textposition": positions}


def _with_uids(traces: list[dict], name: str) -> list[dict]:
    """Our own trace uids: plotly.js would draw random ones into the SVG (same map, other bytes)."""
    return [{**trace, "uid": f"{name}-{index}"} for index, trace in enumerate(traces)]


def _axes() -> dict:
    width, height = geometry()["width"], geometry()["height"]
    return {"xaxis": {"visible": False, "range": [-5, width + 5]},
            "yaxis": {"visible": False, "range": [height + 5, -5], "scaleanchor": "x"}}


def choropleth_chart(values: pd.DataFrame, measure: MapMeasure, year: int | str, synthetic: bool,
                     fiches: set[str] | None = None) -> Chart:
    """The map of one measure: `values` has department_code and the measure's column; a click on a
    département opens its page (a fiche, or the latest quarters' page), when `fiches` (the keys of the
    pages written) has it. `year`: the year shown, or a period of quarters (« T4 2024 – T3 2025 »)."""
    by_code = dict(zip(values["department_code"], values[measure.column], strict=True))
    bounds = class_bounds(values[measure.column], measure.diverging)
    colours = class_colours(bounds, measure.diverging)
    labels = class_labels(bounds, measure)
    traces = []
    for t in _departements():
        value = by_code.get(t.code)
        known = value is not None and not (isinstance(value, float) and math.isnan(value))
        colour = colours[class_of(float(value), bounds)] if known else palette.NO_DATA
        xs, ys = _ring_xy(shape_of(t.code))
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself", "fillcolor": colour,
                       "line": {"color": "white", "width": 0.6}, "name": plotly_text(t.name), "showlegend": False,
                       "hoveron": "fills", "customdata": [f"{t.key}.html" if fiches is None or t.key in fiches else ""],
                       "text": plotly_text(f"{t.name} ({t.code}) : "
                                           f"{measure.format(float(value)) if known else 'sans données'}"),
                       "hoverinfo": "text"})
    traces += _outline_traces()
    traces += [_inset_frames(paris=True), _inset_labels(paris=True)]
    for colour, label in zip(colours, labels, strict=True):  # the legend: one square per class
        traces.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": label,
                       "marker": {"symbol": "square", "size": 13, "color": colour, "line": {"color": "#777", "width": 0.5}},
                       "showlegend": True, "hoverinfo": "skip"})
    title = f"{measure.title}, {year}"
    note = source_line(year, synthetic) + "<br>" + geometry()["attribution"]
    figure = plotly_figure(_with_uids(traces, measure.name), title, note, 700, 640,
                           margin={"l": 10, "r": 170, "t": 50, "b": 52},
                           legend={"x": 1.0, "xanchor": "left", "y": 0.95, "font": {"size": 11},
                                   "title": {"text": "Classes", "font": {"size": 11}}},
                           **_axes())
    names = {t.code: t.name for t in _departements()}
    frame = values.assign(nom=values["department_code"].map(names))
    shown = (Column("part", "Part", Kind.SHARE) if measure.formatter == "pct"
             else Column("evolution", "Évolution", Kind.SHARE) if measure.formatter == "signed_pct"
             else Column(measure.column, _MEASURE_LABELS[measure.column], Kind.EUR))
    table = ChartTable.of((DEPARTMENT_CODE, DEPARTMENT, shown, Column("classe", "Classe de couleur")), {
        "code_departement": frame["department_code"], "departement": frame["nom"],
        shown.name: frame[measure.column],
        "classe": [labels[class_of(float(v), bounds)] if pd.notna(v) else "sans données" for v in frame[measure.column]],
    })
    return Chart(measure.name, title, figure, table, _choropleth_alt(frame, measure, year), 700, 640)


def _choropleth_alt(frame: pd.DataFrame, measure: MapMeasure, year: int | str) -> str:
    known = frame.dropna(subset=[measure.column]).sort_values([measure.column, "department_code"], ascending=[False, True])
    when = f"en {year}" if isinstance(year, int) else f"({year})"
    if known.empty:
        return f"{measure.title} {when} : aucune donnée."
    top = ", ".join(f"{r.nom} ({measure.format(float(getattr(r, measure.column)))})" for r in known.head(3).itertuples())
    low = ", ".join(f"{r.nom} ({measure.format(float(getattr(r, measure.column)))})"
                    for r in known.tail(3).iloc[::-1].itertuples())
    return (f"Carte : {measure.title.lower()} {when}. Valeurs les plus élevées : {top} ; les plus basses : {low}. "
            f"{_counted(known['department_code'])}, chacun relié à sa fiche.")


def _counted(codes: pd.Series) -> str:
    """« 100 départements et Monaco »: Monaco is drawn, but is not a département (lib/territories.py)."""
    unranked = [t.name for t in _departements() if not t.ranked and t.code in set(codes)]
    count = len(codes) - len(unranked)
    return f"{count} département{'s' if count > 1 else ''}" + "".join(f" et {name}" for name in unranked)


def locator_chart(territory: Territory) -> Chart:
    """Where the territory is: its départements highlighted, the rest of its région shaded."""
    if territory.level == "france":
        own = {t.code for t in _departements()}
        region: set[str] = set()
    elif territory.level == "region":
        own = {t.code for t in _departements() if t.parent_region_code == territory.code}
        region = set()
    else:
        own = {territory.code}
        region = {t.code for t in _departements() if t.parent_region_code == territory.parent_region_code} - own
    traces = []
    paris = shows_paris_inset(territory)
    for t in _departements():
        colour = palette.LOCATOR_OWN if t.code in own else palette.LOCATOR_REGION if t.code in region else palette.LOCATOR_OTHER
        xs, ys = _ring_xy(shape_of(t.code, coarse=True, enlarged=paris))
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself", "fillcolor": colour,
                       "line": {"color": "white", "width": 0.4}, "hoverinfo": "text", "hoveron": "fills",
                       "text": plotly_text(t.name), "showlegend": False})
    traces += [*_outline_traces(coarse=True), _inset_frames(paris)]
    # No words in the picture: printed 5 cm wide, they would be unreadable. The fiche writes its
    # caption and the map's attribution beside it (fiches/templates/fiche.html.j2).
    title = f"Situation {territory.of}"
    if territory.kind == "overseas":  # DGDDI's « région » of the DROM is not theirs (lib/territories.py)
        neighbours, neighbours_role = "les autres départements d'outre-mer", "autre département d'outre-mer"
    else:
        neighbours, neighbours_role = f"les autres départements de {territory.its('région', feminine=True)}", "même région"
    figure = plotly_figure(_with_uids(traces, "locator"), "", "", 320, 300,
                           margin={"l": 4, "r": 4, "t": 4, "b": 4}, showlegend=False, **_axes())
    names = {t.code: t.name for t in _departements()}
    table = ChartTable.of((DEPARTMENT_CODE, DEPARTMENT, Column("role", "Sur la carte")), {
        "code_departement": sorted(own | region), "departement": [names[c] for c in sorted(own | region)],
        "role": ["territoire" if c in own else neighbours_role for c in sorted(own | region)]})
    where = (f"{territory.subject} {territory.verb('est', 'sont')} {territory.agree('mis', 'mise', 'mis', 'mises')} "
             "en évidence sur la carte des départements"
             + (f", avec {neighbours} ({', '.join(names[c] for c in sorted(region))})" if region else "") + ".")
    return Chart("locator", title, figure, table, where, 320, 300, interactive=False)


def _ring_centre(rings: list[list[list[float]]]) -> tuple[float, float]:
    """The middle of a shape's largest ring (by its box): where its name is written."""
    def box(ring: list[list[float]]) -> tuple[float, float, float, float]:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return min(xs), min(ys), max(xs), max(ys)

    x0, y0, x1, y1 = max((box(r) for r in rings), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    return (x0 + x1) / 2, (y0 + y1) / 2


def territoire_industrie_chart(ti: TerritoireIndustrie) -> Chart:
    """A Territoire d'industrie's outline over its départements, zoomed on them, each named."""
    codes = [share.departement.code for share in ti.departements]
    fine, boxes = geometry()["departements_fine"], _fine_boxes()
    x0, y0 = min(boxes[code][0] for code in codes), min(boxes[code][1] for code in codes)
    x1, y1 = max(boxes[code][2] for code in codes), max(boxes[code][3] for code in codes)
    pad = max(x1 - x0, y1 - y0) * 0.06
    view = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    traces = []
    for t in _departements():
        bx0, by0, bx1, by1 = boxes[t.code]
        if bx1 < view[0] or bx0 > view[2] or by1 < view[1] or by0 > view[3]:
            continue
        rx, ry = _ring_xy(fine[t.code])
        traces.append({"type": "scatter", "mode": "lines", "x": rx, "y": ry, "fill": "toself",
                       "fillcolor": palette.LOCATOR_REGION if t.code in codes else palette.LOCATOR_OTHER,
                       "line": {"color": "white", "width": 1}, "hoverinfo": "text", "hoveron": "fills",
                       "text": plotly_text(t.name), "showlegend": False})
    rx, ry = _ring_xy(geometry()["territoires_industrie"][ti.id])
    traces.append({"type": "scatter", "mode": "lines", "x": rx, "y": ry, "fill": "toself",
                   "fillcolor": palette.TERRITOIRE_FILL, "line": {"color": palette.LOCATOR_OWN, "width": 1.6},
                   "hoverinfo": "text", "hoveron": "fills", "text": plotly_text(ti.name), "showlegend": False})
    centres = [_ring_centre(fine[code]) for code in codes]
    traces.append({"type": "scatter", "mode": "text", "x": [c[0] for c in centres], "y": [c[1] for c in centres],
                   "text": [plotly_text(share.departement.name) for share in ti.departements],
                   "textfont": {"size": 12, "color": palette.TEXT}, "hoverinfo": "skip", "showlegend": False})
    figure = plotly_figure(_with_uids(traces, "territoire"), "", "", 420, 360,
                           margin={"l": 4, "r": 4, "t": 4, "b": 4}, showlegend=False,
                           xaxis={"visible": False, "range": [view[0], view[2]]},
                           yaxis={"visible": False, "range": [view[3], view[1]], "scaleanchor": "x"})
    table = ChartTable.of((DEPARTMENT_CODE, DEPARTMENT, Column("part", "Part de la surface", Kind.SHARE)), {
        "code_departement": codes, "departement": [share.departement.name for share in ti.departements],
        "part": [share.share for share in ti.departements]})
    return Chart("carte", f"Situation du Territoire d'industrie {ti.name}", figure, table, territoire_industrie_alt(ti),
                 420, 360, interactive=False)


def territoire_industrie_alt(ti: TerritoireIndustrie) -> str:
    """The text alternative of a Territoire d'industrie's map (its page shows it without the chart)."""
    names = [share.departement.name for share in ti.departements]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} et {names[-1]}"
    return (f"Carte : le contour du Territoire d'industrie {ti.name} sur "
            f"{'son département' if len(names) == 1 else 'ses départements'} ({listed}).")
