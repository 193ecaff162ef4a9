"""The fiche's charts as plotly figures, each with the table behind it and a French alt text.

* partners — butterfly: imports to the left, exports to the right, the balance written beside
  each country with its sign, an arrow and a colour;
* activities — treemaps of imports (blue) and exports (violet), small tiles grouped;
* flows — Sankeys, products → countries for exports and countries → products for imports, with
  node positions computed here (stable order, « Autres » last) so the same data always gives
  the same picture, and the 5 largest flows in red.

Every number shown is formatted by `trade_pipeline.french`; plotly receives text. Labels come
from DGDDI's files (or a zip found on the internet): plotly reads its text as HTML-like markup,
so every label passes through `plotly_text` and is shown as written, never interpreted.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go  # noqa: F401  (type of the figures' data)

from trade_pipeline import french
from trade_pipeline.charts import palette
from trade_pipeline.charts.data import TerritoryData
from trade_pipeline.nomenclature import OTHERS_CODE

FLOW_WORDS = {"E": "exportations", "I": "importations"}
PARTNERS_SHOWN = 8  # from each side: the main clients and the main suppliers
TREEMAP_LINE = 14  # characters per line of a tile label
TREEMAP_FONT = 9


def plotly_text(label: str) -> str:
    """A label as literal plotly text: `<`, `>` and `&` become entities plotly displays as such."""
    return html.escape(label, quote=False)


@dataclass
class Chart:
    name: str  # file stem: partners, activities_exports, flows_exports, …
    title: str
    figure: dict  # plotly figure as plain data: {"data": [...], "layout": {...}}
    table: pd.DataFrame  # the data behind the chart (French column names), written as CSV
    alt: str  # what the chart says, in French
    width: int
    height: int


def _source_note(data: TerritoryData) -> str:
    source = "Source : DGDDI" + (" — données fictives de démonstration" if data.synthetic else "")
    return f"{source} · {data.year} · exportations FAB, importations CAF, hors matériel militaire"


def _figure(traces: list[dict], title: str, note: str, width: int, height: int, margin: dict,
            annotations: list[dict] | None = None, **layout: object) -> dict:
    """A plotly figure as plain data with our common layout.

    Plain dicts, not `go.Figure`: plotly's per-property validation costs seconds per fiche; a test
    feeds every chart type through `go.Figure` once to check that the figures are valid.
    """
    note_annotation = {"text": note, "xref": "paper", "yref": "paper", "x": 0, "xshift": -margin["l"] + 6, "y": 0,
                       "yshift": -margin["b"] + 4, "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                       "font": {"size": 9, "color": palette.MUTED_TEXT}}
    return {"data": traces, "layout": {
        "title": {"text": title, "x": 0.01, "xref": "container", "xanchor": "left",
                  "font": {"size": 15, "color": palette.TEXT}},
        "width": width, "height": height, "margin": margin, "separators": ",\u202f",
        "font": {"family": palette.FONT, "size": 11, "color": palette.TEXT},
        "paper_bgcolor": "white", "plot_bgcolor": "white", "hoverlabel": {"font": {"family": palette.FONT}},
        "annotations": [*(annotations or []), note_annotation], **layout,
    }}


# --------------------------------------------------------------------------------------------
# Partners: butterfly chart
# --------------------------------------------------------------------------------------------


def main_partners(data: TerritoryData, count: int = PARTNERS_SHOWN) -> pd.DataFrame:
    """The main clients and suppliers (countries only), largest trade first."""
    countries = data.partners[data.partners["is_country"]]
    clients = countries.nlargest(count, "exports_eur", keep="first")["country_code"]
    suppliers = countries.nlargest(count, "imports_eur", keep="first")["country_code"]
    chosen = countries[countries["country_code"].isin(set(clients) | set(suppliers))].copy()
    chosen = chosen[(chosen["exports_eur"] > 0) | (chosen["imports_eur"] > 0)]
    chosen["trade"] = chosen["exports_eur"] + chosen["imports_eur"]
    return chosen.sort_values(["trade", "country_code"], ascending=[False, True]).reset_index(drop=True)


def _nice_step(maximum: float) -> float:
    raw = maximum / 3
    magnitude = 10 ** np.floor(np.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def partners_chart(data: TerritoryData) -> Chart:
    partners = main_partners(data)
    width, height = 700, max(300, 110 + 34 * len(partners))
    names = [plotly_text(name) for name in partners["short"]]
    traces = [
        {"type": "bar", "y": names, "x": (-partners["imports_eur"]).tolist(), "orientation": "h",
         "name": "Importations", "marker": {"color": palette.IMPORTS},
         "customdata": [french.eur(v) for v in partners["imports_eur"]],
         "hovertemplate": "%{y} — importations : %{customdata}<extra></extra>"},
        {"type": "bar", "y": names, "x": partners["exports_eur"].tolist(), "orientation": "h",
         "name": "Exportations", "marker": {"color": palette.EXPORTS},
         "customdata": [french.eur(v) for v in partners["exports_eur"]],
         "hovertemplate": "%{y} — exportations : %{customdata}<extra></extra>"},
    ]
    limit = float(max(partners["exports_eur"].max(), partners["imports_eur"].max())) if len(partners) else 1.0
    step = _nice_step(limit)
    ticks = [k * step for k in range(-int(np.ceil(limit / step)), int(np.ceil(limit / step)) + 1)]
    xaxis = {"tickvals": ticks, "ticktext": [french.eur(abs(t)) for t in ticks], "zeroline": True,
             "zerolinecolor": palette.TEXT, "gridcolor": "#E6E6E6", "range": [-1.08 * limit, 1.08 * limit]}
    yaxis = {"autorange": "reversed", "ticks": "", "automargin": False}
    annotations = []
    for name, balance in zip(names, partners["balance_eur"], strict=True):
        surplus = balance >= 0
        mark = palette.SURPLUS_MARK if surplus else palette.DEFICIT_MARK
        annotations.append({
            "x": 1.0, "xref": "paper", "xshift": 12, "y": name, "yref": "y", "xanchor": "left", "showarrow": False,
            "text": f"{mark} {french.signed_eur(balance)}",
            "font": {"color": palette.SURPLUS if surplus else palette.DEFICIT}})
    annotations += [
        {"x": 1.0, "xref": "paper", "xshift": 12, "y": 1.0, "yref": "paper", "yshift": 14, "xanchor": "left",
         "showarrow": False, "text": "<b>Solde</b>", "font": {"size": 10}},
        {"x": 0.25, "xref": "paper", "y": 1.0, "yref": "paper", "yshift": 14, "showarrow": False,
         "text": "◀ Importations", "font": {"color": palette.IMPORTS, "size": 11}},
        {"x": 0.75, "xref": "paper", "y": 1.0, "yref": "paper", "yshift": 14, "showarrow": False,
         "text": "Exportations ▶", "font": {"color": palette.EXPORTS, "size": 11}},
    ]
    title = f"Principaux pays partenaires {french.of(data.territory.name_with_article)} en {data.year}"
    figure = _figure(traces, title, _source_note(data), width, height, margin={"l": 150, "r": 120, "t": 80, "b": 50},
                     annotations=annotations, xaxis=xaxis, yaxis=yaxis, barmode="relative", bargap=0.25,
                     showlegend=False)
    table = pd.DataFrame({
        "code_pays": partners["country_code"], "pays": partners["country_name"],
        "exportations_eur": partners["exports_eur"], "importations_eur": partners["imports_eur"],
        "solde_eur": partners["balance_eur"],
    })
    return Chart("partners", title, figure, table, _partners_alt(data, partners), width, height)


def _partners_alt(data: TerritoryData, partners: pd.DataFrame) -> str:
    subject = data.territory.name_with_article
    if partners.empty:
        return f"En {data.year}, {data.territory.name_with_article} n'a pas d'échanges avec des pays identifiés."
    exports, imports = data.total("E"), data.total("I")
    client = partners.loc[partners["exports_eur"].idxmax()]
    supplier = partners.loc[partners["imports_eur"].idxmax()]
    surplus = partners.loc[partners["balance_eur"].idxmax()]
    deficit = partners.loc[partners["balance_eur"].idxmin()]
    parts = [f"En {data.year}, {subject} exporte {french.headline(exports)} et importe {french.headline(imports)}"]
    if exports:
        parts.append(f"premier client : {client['short']} ({french.pct(client['exports_eur'] / exports)} des exportations)")
    if imports:
        parts.append(f"premier fournisseur : {supplier['short']} "
                     f"({french.pct(supplier['imports_eur'] / imports)} des importations)")
    if surplus["balance_eur"] > 0:
        parts.append(f"plus fort excédent avec {surplus['short']} ({french.signed_eur(surplus['balance_eur'])})")
    if deficit["balance_eur"] < 0:
        parts.append(f"plus fort déficit avec {deficit['short']} ({french.signed_eur(deficit['balance_eur'])})")
    return " ; ".join(parts) + "."


# --------------------------------------------------------------------------------------------
# Activities: treemaps
# --------------------------------------------------------------------------------------------


def squarify(values: list[float], width: float, height: float, ratio: float = 1.0) -> list[tuple[float, float, float, float]]:
    """Tile rectangles (x0, y0, x1, y1) of d3-hierarchy's squarified treemap, which plotly uses,
    for values in the given order: lets us know, before rendering, which labels will fit."""
    rectangles: list[tuple[float, float, float, float]] = []
    x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    remaining = float(sum(values))
    start, count = 0, len(values)
    while start < count:
        dx, dy = x1 - x0, y1 - y0
        end = start
        total = values[end]
        end += 1
        smallest = largest = total
        alpha = max(dy / dx, dx / dy) / (remaining * ratio) if remaining else 0.0
        beta = total * total * alpha
        best = max(largest / beta, beta / smallest) if beta else float("inf")
        while end < count:
            value = values[end]
            candidate_total = total + value
            beta = candidate_total * candidate_total * alpha
            worst = max(max(largest, value) / beta, beta / min(smallest, value))
            if worst > best:
                break
            total, best = candidate_total, worst
            smallest, largest = min(smallest, value), max(largest, value)
            end += 1
        row = values[start:end]
        if dx < dy:  # a row across the width
            y_end = y0 + dy * total / remaining if remaining else y1
            x = x0
            for value in row:
                step = dx * value / total if total else 0.0
                rectangles.append((x, y0, x + step, y_end))
                x += step
            y0 = y_end
        else:  # a column down the height
            x_end = x0 + dx * total / remaining if remaining else x1
            y = y0
            for value in row:
                step = dy * value / total if total else 0.0
                rectangles.append((x0, y, x_end, y + step))
                y += step
            x0 = x_end
        remaining -= total
        start = end
    return rectangles


def _label_fits(label: str, value_text: str, rectangle: tuple[float, float, float, float], font: float) -> bool:
    """Does « label / value » fit the tile at `font` px (DejaVu Sans: ~0.62 em bold, 0.56 regular)?"""
    x0, y0, x1, y1 = rectangle
    lines = textwrap.wrap(label, TREEMAP_LINE, break_long_words=False) or [label]
    needed_width = max(max(len(line) for line in lines) * 0.6, len(value_text) * 0.53) * font + 6
    needed_height = (len(lines) + 1) * 1.25 * font + 6
    return (x1 - x0) >= needed_width and (y1 - y0) >= needed_height


def _tile_text(value: float, total: float) -> str:
    return f"{french.eur(value)} · {french.pct(value / total if total else 0)}"


#: The area of the tiles in our 700 × 400 layout (the margins; the implicit root has no padding).
TREEMAP_AREA = (700 - 8, 400 - 44 - 32)


def grouped_products(data: TerritoryData, flow: str, area: tuple[float, float] = TREEMAP_AREA,
                     font: float = TREEMAP_FONT) -> pd.DataFrame:
    """Products of a flow by value; tiles too small to carry a readable label are grouped into
    one « Autres activités » tile, so that every tile drawn is labelled (plotly.js #3153)."""
    products = data.products[data.products["flow"] == flow]
    products = products[products["value_eur"] > 0].sort_values(["value_eur", "product_code"], ascending=[False, True])
    total = int(products["value_eur"].sum())
    records = products[["product_code", "product_name", "short", "value_eur"]].to_dict("records")
    kept, others = records, []
    # The most tiles that can all carry their label; the rest become « Autres activités ».
    for count in range(min(len(records), 40), 0, -1):  # 40 labelled tiles never fit this area
        kept, others = records[:count], records[count:]
        values = [float(r["value_eur"]) for r in kept] + ([float(sum(o["value_eur"] for o in others))] if others else [])
        tiles = squarify(values, *area)
        if all(_label_fits(row["short"], _tile_text(row["value_eur"], total), tile, font)
               for row, tile in zip(kept, tiles, strict=False)):
            break
    rows = list(kept)
    if others:
        rows.append({"product_code": OTHERS_CODE, "product_name": "Autres activités",
                     "short": f"Autres activités ({len(others)})", "value_eur": sum(o["value_eur"] for o in others)})
    grouped = pd.DataFrame(rows, columns=["product_code", "product_name", "short", "value_eur"])
    grouped["share"] = grouped["value_eur"] / total if total else 0.0
    return grouped


def _wrap(text: str, width: int) -> str:
    """A label on lines of `width` characters, as plotly text."""
    return "<br>".join(plotly_text(line) for line in textwrap.wrap(text, width=width, break_long_words=False)) \
        or plotly_text(text)


def _text_colour(background: str) -> str:
    """White on dark tiles, near-black on light ones (contrast ≥ 4.5:1 either way)."""
    red, green, blue = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "white" if luminance < 0.55 else palette.TEXT


def activities_chart(data: TerritoryData, flow: str) -> Chart:
    tiles = grouped_products(data, flow)
    width, height = 700, 400
    base = palette.EXPORTS if flow == "E" else palette.IMPORTS
    colours = palette.shades(base, max(len(tiles), 1), lightest=0.6)
    if len(tiles) and tiles["product_code"].iloc[-1] == OTHERS_CODE:
        colours[-1] = palette.OTHERS_NODE
    total = int(tiles["value_eur"].sum())
    text = [_tile_text(value, total) for value in tiles["value_eur"]]
    trace = {
        "type": "treemap", "labels": [_wrap(label, TREEMAP_LINE) for label in tiles["short"]],
        "parents": [""] * len(tiles), "values": tiles["value_eur"].tolist(), "ids": tiles["product_code"].tolist(),
        "text": text, "customdata": [plotly_text(name) for name in tiles["product_name"]],
        "texttemplate": "<b>%{label}</b><br>%{text}",
        "hovertemplate": "%{customdata}<br>%{text}<extra></extra>", "sort": False,
        "tiling": {"pad": 1, "squarifyratio": 1},
        "marker": {"colors": colours, "line": {"color": "white", "width": 2}, "pad": {"t": 0, "l": 0, "r": 0, "b": 0}},
        "textfont": {"color": [_text_colour(c) for c in colours[:len(tiles)]], "family": palette.FONT,
                     "size": TREEMAP_FONT},
    }
    verb = "exportatrices" if flow == "E" else "importatrices"
    title = f"Principales activités {verb} {french.of(data.territory.name_with_article)} en {data.year}"
    # Labels that do not fit their tile would be hidden rather than shrunk (plotly.js #3153):
    # grouped_products keeps only tiles that can carry theirs.
    figure = _figure([trace], title, _source_note(data), width, height, margin={"l": 4, "r": 4, "t": 44, "b": 32},
                     uniformtext={"minsize": 9, "mode": "hide"})
    table = pd.DataFrame({"code_a129": tiles["product_code"], "activite": tiles["product_name"],
                          "valeur_eur": tiles["value_eur"], "part": tiles["share"].round(4)})
    return Chart(f"activities_{'exports' if flow == 'E' else 'imports'}", title, figure, table,
                 _activities_alt(data, flow, tiles), width, height)


def _activities_alt(data: TerritoryData, flow: str, tiles: pd.DataFrame) -> str:
    verb = "exporte" if flow == "E" else "importe"
    subject = data.territory.name_with_article
    head = f"En {data.year}, {subject} {verb} {french.headline(data.total(flow))}"
    listed = tiles[tiles["product_code"] != OTHERS_CODE].head(3)
    if listed.empty:
        return head + "."
    first = listed.iloc[0]
    rest = ", ".join(f"{row['short']} ({french.pct(row['share'])})" for _, row in listed.iloc[1:].iterrows())
    word = "exportatrice" if flow == "E" else "importatrice"
    return (f"{head} ; première activité {word} : {first['short']} ({french.pct(first['share'])})"
            + (f", puis {rest}" if rest else "") + ".")


# --------------------------------------------------------------------------------------------
# Flows: Sankeys with a layout computed here
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SankeyNode:
    code: str
    label: str
    value: int
    y: float  # centre, 0 = top of the plot area (plotly's node.y)
    height: float  # pixels


def column_layout(nodes: list[tuple[str, str, int]], plot_height: float, pad: float, scale: float) -> list[SankeyNode]:
    """Stack a column of nodes from the top: biggest first, « Autres » last, ties by code."""
    ordered = sorted(nodes, key=lambda n: (n[0] == OTHERS_CODE, -n[2], n[0]))
    placed, top = [], 0.0
    for code, label, value in ordered:
        height = value * scale
        placed.append(SankeyNode(code, label, value, (top + height / 2) / plot_height, height))
        top += height + pad
    return placed


def sankey_layout(left: list[tuple[str, str, int]], right: list[tuple[str, str, int]], plot_height: float,
                  pad: float) -> tuple[list[SankeyNode], list[SankeyNode]]:
    """Node positions for plotly's `arrangement='fixed'`, with plotly's own vertical scale.

    plotly sizes nodes with ky = min over columns of (height − (n − 1)·pad) / column total;
    using the same ky, stacked nodes never overlap and labels can be placed beside them.
    """
    scale = min(
        (plot_height - (len(column) - 1) * pad) / max(sum(v for _, _, v in column), 1)
        for column in (left, right) if column
    ) if (left or right) else 1.0
    return column_layout(left, plot_height, pad, scale), column_layout(right, plot_height, pad, scale)


def spread_labels(centres: list[float], label_height: float, plot_height: float) -> list[float]:
    """Label centres (pixels from the top) as close to `centres` as possible without overlapping.

    Nodes are small when values are small; their two-line labels would collide. Push labels down
    in order, then back up from the bottom edge: the order is kept, the shift is minimal.
    """
    positions: list[float] = []
    for centre in centres:
        low = positions[-1] + label_height if positions else label_height / 2
        positions.append(max(centre, low))
    ceiling = plot_height - label_height / 2
    for index in range(len(positions) - 1, -1, -1):
        ceiling = min(positions[index], ceiling)
        positions[index] = ceiling
        ceiling -= label_height
    return positions


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip(" ,") + "…"


def flows_chart(data: TerritoryData, flow: str, compact: bool = False) -> Chart:
    links = data.links[data.links["flow"] == flow]
    products = links.groupby(["product_code", "product_short"], sort=False)["value_eur"].sum().reset_index()
    countries = links.groupby(["country_code", "country_short"], sort=False)["value_eur"].sum().reset_index()
    product_nodes = list(zip(products["product_code"], products["product_short"], products["value_eur"].astype(int),
                             strict=True))
    country_nodes = list(zip(countries["country_code"], countries["country_short"], countries["value_eur"].astype(int),
                             strict=True))
    # Exports flow from products to destinations; imports from origins to products.
    left, right = (product_nodes, country_nodes) if flow == "E" else (country_nodes, product_nodes)
    width, height = (345, 420) if compact else (700, 580)
    margin = ({"l": 4, "r": 4, "t": 40, "b": 24} if compact else {"l": 4, "r": 4, "t": 64, "b": 30})
    pad = 10 if compact else 16
    plot_height = height - margin["t"] - margin["b"]
    left_nodes, right_nodes = sankey_layout(left, right, plot_height, pad)
    x_left, x_right = (0.35, 0.65) if compact else (0.31, 0.69)
    thickness = 10 if compact else 14
    nodes = left_nodes + right_nodes
    index = {("L", n.code): i for i, n in enumerate(left_nodes)} | {
        ("R", n.code): len(left_nodes) + i for i, n in enumerate(right_nodes)}
    ordered_links = links.sort_values(["is_top5", "value_eur", "product_code", "country_code"],
                                      ascending=[True, False, True, True])
    sources, targets, values, colours, hover = [], [], [], [], []
    for row in ordered_links.itertuples(index=False):
        source, target = (row.product_code, row.country_code) if flow == "E" else (row.country_code, row.product_code)
        sources.append(index[("L", source)])
        targets.append(index[("R", target)])
        values.append(int(row.value_eur))
        colours.append(palette.with_alpha(palette.TOP_FLOW, 0.78) if row.is_top5
                       else palette.with_alpha(palette.NEUTRAL_FLOW, 0.45))
        origin, destination = (row.product_short, row.country_short) if flow == "E" else (row.country_short,
                                                                                            row.product_short)
        hover.append(plotly_text(f"{origin} → {destination} : {french.eur(row.value_eur)}"))
    trace = {
        "type": "sankey", "arrangement": "fixed", "valueformat": ",.0f",
        "node": {"label": [""] * len(nodes), "x": [x_left] * len(left_nodes) + [x_right] * len(right_nodes),
                 "y": [round(n.y, 6) for n in nodes], "pad": pad, "thickness": thickness,
                 "color": [palette.OTHERS_NODE if n.code == OTHERS_CODE else palette.NODE for n in nodes],
                 "line": {"width": 0}, "customdata": [plotly_text(f"{n.label} : {french.eur(n.value)}") for n in nodes],
                 "hovertemplate": "%{customdata}<extra></extra>"},
        "link": {"source": sources, "target": targets, "value": values, "color": colours, "customdata": hover,
                 "hovertemplate": "%{customdata}<extra></extra>"},
    }
    font = 8 if compact else 10
    label_height = 2.45 * font
    edge = thickness / 2 / width  # node half-thickness, in paper units
    annotations = []
    for side, x, anchor, shift in ((left_nodes, x_left - edge, "right", -6), (right_nodes, x_right + edge, "left", 6)):
        placed = spread_labels([n.y * plot_height for n in side], label_height, plot_height)
        for node, position in zip(side, placed, strict=True):
            name = plotly_text(_truncate(node.label, 20) if compact else node.label)
            annotations.append({
                "x": x, "y": round(1 - node.y, 6), "xref": "paper", "yref": "paper", "ax": shift,
                "ay": round(position - node.y * plot_height, 3), "showarrow": True, "arrowhead": 0, "arrowwidth": 0.6,
                "arrowcolor": palette.OTHERS_NODE, "standoff": 1, "xanchor": anchor, "yanchor": "middle",
                "align": anchor, "font": {"size": font}, "text": f"{name}<br><b>{french.eur(node.value)}</b>"})
    word = FLOW_WORDS[flow]
    if compact:
        title = f"{data.territory.name} : {word} {french.eur(data.total(flow))}"
    else:
        direction = "produits → pays de destination" if flow == "E" else "pays d'origine → produits"
        title = (f"Principaux flux d'{word} {french.of(data.territory.name_with_article)} en {data.year}"
                 f"<br><span style='font-size:11px'>{direction} · en rouge : les 5 flux les plus importants</span>")
    note = (_source_note(data) if not compact else f"Source : DGDDI{' (fictif)' if data.synthetic else ''} · {data.year}")
    if not nodes:
        # plotly.js draws nothing for an empty Sankey and kaleido then writes no file at all:
        # say it in the chart instead.
        annotations = [{"text": f"Aucun flux d'{word} en {data.year}", "xref": "paper", "yref": "paper", "x": 0.5,
                        "y": 0.5, "showarrow": False, "font": {"size": font + 2, "color": palette.MUTED_TEXT}}]
    figure = _figure([trace] if nodes else [], title, note, width, height, margin, annotations=annotations,
                     **({} if nodes else {"xaxis": {"visible": False}, "yaxis": {"visible": False}}))
    if compact:
        figure["layout"]["title"]["font"]["size"] = 11
    table = pd.DataFrame({
        "rang": ordered_links["link_rank"].astype("Int64"), "code_produit": ordered_links["product_code"],
        "produit": ordered_links["product_name"], "code_pays": ordered_links["country_code"],
        "pays": ordered_links["country_name"], "valeur_eur": ordered_links["value_eur"],
        "top5": ordered_links["is_top5"],
    }).sort_values(["valeur_eur", "code_produit", "code_pays"], ascending=[False, True, True])
    name = f"flows_{'exports' if flow == 'E' else 'imports'}{'_compact' if compact else ''}"
    return Chart(name, title, figure, table.reset_index(drop=True), _flows_alt(data, flow, ordered_links), width, height)


def top_flows(links: pd.DataFrame, flow: str) -> list[tuple[int, str, str, int]]:
    """The highlighted flows: (rank, origin, destination, value)."""
    top = links[(links["flow"] == flow) & links["is_top5"]].sort_values("link_rank")
    return [(int(r.link_rank),) + ((r.product_short, r.country_short) if flow == "E"
                                   else (r.country_short, r.product_short)) + (int(r.value_eur),)
            for r in top.itertuples(index=False)]


def _flows_alt(data: TerritoryData, flow: str, links: pd.DataFrame) -> str:
    top = top_flows(data.links, flow)
    word = FLOW_WORDS[flow]
    if not top:
        return f"En {data.year}, pas de flux d'{word} ventilé pour {data.territory.name_with_article}."
    listed = " ; ".join(f"{origin} → {destination} ({french.eur(value)})" for _, origin, destination, value in top)
    return (f"Les {len(top)} principaux flux d'{word} {french.of(data.territory.name_with_article)} en {data.year}, "
            f"sur {french.headline(data.total(flow))} : {listed}.")


#: Charts of every territory; régions and France also get the compact Sankeys shown beside a
#: département's (or a région's) own in its fiche.
OWN_CHARTS: tuple[Callable[[TerritoryData], Chart], ...] = (
    partners_chart,
    lambda d: activities_chart(d, "I"),
    lambda d: activities_chart(d, "E"),
    lambda d: flows_chart(d, "E"),
    lambda d: flows_chart(d, "I"),
)
COMPARISON_CHARTS: tuple[Callable[[TerritoryData], Chart], ...] = (
    lambda d: flows_chart(d, "E", compact=True),
    lambda d: flows_chart(d, "I", compact=True),
)


def charts_for(data: TerritoryData) -> list[Chart]:
    charts = [build(data) for build in OWN_CHARTS]
    if data.territory.level in ("region", "france"):
        charts += [build(data) for build in COMPARISON_CHARTS]
    return charts
