"""The flows charts: Sankeys, products → countries for exports and countries → products for
imports, with node positions computed here (stable order, « Autres » last) and the 5 largest
flows in red."""

from __future__ import annotations

import textwrap

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData, top_flows
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import FLOW_WORDS, Chart, plotly_figure, plotly_text
from trade_pipeline.charts.layout import sankey_layout
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french
from trade_pipeline.lib.nomenclature import OTHERS_CODE
from trade_pipeline.lib.provenance import source_line

COLUMNS = (Column("rang", "Rang", Kind.RANK), Column("code_produit", "Code produit"), Column("produit", "Produit"),
           Column("code_pays", "Code"), Column("pays", "Pays"), Column("valeur_eur", "Valeur", Kind.EUR),
           Column("top5", "Top 5", Kind.FLAG))


#: Sankey sizes: the fiche's own (a page with its top-5 list) and the comparison ones (two to a page).
FULL = {"width": 700, "height": 660, "margin": {"l": 4, "r": 4, "t": 64, "b": 30}, "pad": 12, "thickness": 14}
COMPACT = {"width": 700, "height": 420, "margin": {"l": 4, "r": 4, "t": 40, "b": 26}, "pad": 8, "thickness": 12}
LABEL_FONT = 10  # px: 7,5 pt when the chart is printed across an A4 page
_LINE = 1.3  # plotly's line height, in font sizes
_CHAR = 0.6  # DejaVu Sans: average character width, in font sizes (a little generous)
X_LEFT, X_RIGHT = 0.31, 0.69


def wrap_label(label: str, width_px: float, font: float = LABEL_FONT) -> list[str]:
    """A node's name on as many lines as its room beside the node needs — never cut."""
    per_line = max(8, int(width_px / (_CHAR * font)))
    return textwrap.wrap(label, per_line, break_long_words=False) or [label]


def node_label(name: str, value: float, width_px: float) -> tuple[str, int]:
    """The label beside a node (its name, wrapped, then its value in bold) and its number of lines."""
    lines = [plotly_text(line) for line in wrap_label(name, width_px)]
    return "<br>".join([*lines, f"<b>{french.eur(value)}</b>"]), len(lines) + 1


def _totals(codes: list[str], names: list[str], values: list[int]) -> list[tuple[str, str, int]]:
    """(code, name, summed value) of each (code, name), in the order they first appear."""
    totals: dict[tuple[str, str], int] = {}
    for code, name, value in zip(codes, names, values, strict=True):
        totals[(code, name)] = totals.get((code, name), 0) + value
    return [(code, name, value) for (code, name), value in totals.items()]


def flows_chart(data: TerritoryData, flow: str, compact: bool = False) -> Chart:
    links = data.links[data.links["flow"] == flow]
    # A territory's links are a few hundred rows at most: plain lists, not a pandas operation each
    # (which cost more than the rows themselves, for 11 charts × every territory and year).
    product_codes, product_shorts = links["product_code"].tolist(), links["product_short"].tolist()
    country_codes, country_shorts = links["country_code"].tolist(), links["country_short"].tolist()
    link_values, link_top5 = links["value_eur"].tolist(), links["is_top5"].tolist()
    product_nodes = _totals(product_codes, product_shorts, link_values)
    country_nodes = _totals(country_codes, country_shorts, link_values)
    # Exports flow from products to destinations; imports from origins to products.
    left, right = (product_nodes, country_nodes) if flow == "E" else (country_nodes, product_nodes)
    size = COMPACT if compact else FULL
    width, margin, thickness = size["width"], size["margin"], size["thickness"]
    # The room a label has between its node and the figure's edge.
    room = X_LEFT * (width - margin["l"] - margin["r"]) - thickness / 2 - 10
    labels = [{code: node_label(name, value, room) for code, name, value in column} for column in (left, right)]
    layout = sankey_layout(left, right, size["height"] - margin["t"] - margin["b"], size["pad"],
                           label_heights=tuple({code: lines * _LINE * LABEL_FONT + 2 for code, (_, lines) in side.items()}
                                               for side in labels))
    plot_height = layout.plot_height
    height = int(round(plot_height)) + margin["t"] + margin["b"]
    left_nodes, right_nodes = layout.left, layout.right
    nodes = left_nodes + right_nodes
    index = {("L", n.code): i for i, n in enumerate(left_nodes)} | {
        ("R", n.code): len(left_nodes) + i for i, n in enumerate(right_nodes)}
    # The top 5 last, so that they are drawn over the others; then by value.
    order = sorted(range(len(link_values)), key=lambda i: (link_top5[i], -link_values[i], product_codes[i],
                                                           country_codes[i]))
    top_colour, other_colour = palette.with_alpha(palette.TOP_FLOW, 0.78), palette.with_alpha(palette.NEUTRAL_FLOW, 0.45)
    sources, targets, values, colours, hover = [], [], [], [], []
    for i in order:
        product, country = (product_codes[i], product_shorts[i]), (country_codes[i], country_shorts[i])
        (source, origin), (target, destination) = (product, country) if flow == "E" else (country, product)
        sources.append(index[("L", source)])
        targets.append(index[("R", target)])
        values.append(link_values[i])
        colours.append(top_colour if link_top5[i] else other_colour)
        hover.append(plotly_text(f"{origin} → {destination} : {french.eur(link_values[i])}"))
    trace = {
        "type": "sankey", "arrangement": "fixed", "valueformat": ",.0f",
        "node": {"label": [""] * len(nodes), "x": [X_LEFT] * len(left_nodes) + [X_RIGHT] * len(right_nodes),
                 "y": [round(n.y, 6) for n in nodes], "pad": round(layout.pad, 4), "thickness": thickness,
                 "color": [palette.OTHERS_NODE if n.code == OTHERS_CODE else palette.NODE for n in nodes],
                 "line": {"width": 0}, "customdata": [plotly_text(f"{n.label} : {french.eur(n.value)}") for n in nodes],
                 "hovertemplate": "%{customdata}<extra></extra>"},
        "link": {"source": sources, "target": targets, "value": values, "color": colours, "customdata": hover,
                 "hovertemplate": "%{customdata}<extra></extra>"},
    }
    edge = thickness / 2 / (width - margin["l"] - margin["r"])  # node half-thickness, in paper units
    # Each label beside its node, centred on it: the layout left it the room.
    annotations = [{"x": x, "y": round(1 - node.y, 6), "xref": "paper", "yref": "paper", "xshift": shift,
                    "showarrow": False, "xanchor": anchor, "yanchor": "middle", "align": anchor,
                    "font": {"size": LABEL_FONT}, "text": texts[node.code][0]}
                   for side, texts, x, anchor, shift in ((left_nodes, labels[0], X_LEFT - edge, "right", -5),
                                                         (right_nodes, labels[1], X_RIGHT + edge, "left", 5))
                   for node in side]
    word = FLOW_WORDS[flow]
    if compact:
        title = f"{data.territory.name} : {word} {french.eur(data.total(flow))}"
    else:
        direction = "produits → pays de destination" if flow == "E" else "pays d'origine → produits"
        title = (f"Principaux flux d'{word} {data.territory.of} en {data.year}"
                 f"<br><span style='font-size:11px'>{direction} · en rouge : les 5 flux les plus importants</span>")
    note = source_line(data.year, data.synthetic, compact)
    if not nodes:
        # plotly.js draws nothing for an empty Sankey and kaleido then writes no file at all:
        # say it in the chart instead.
        annotations = [{"text": f"Aucun flux d'{word} en {data.year}", "xref": "paper", "yref": "paper", "x": 0.5,
                        "y": 0.5, "showarrow": False, "font": {"size": LABEL_FONT + 2, "color": palette.MUTED_TEXT}}]
    figure = plotly_figure([trace] if nodes else [], title, note, width, height, margin, annotations=annotations,
                     **({} if nodes else {"xaxis": {"visible": False}, "yaxis": {"visible": False}}))
    if compact:
        figure["layout"]["title"]["font"]["size"] = 13
    by_value = links.iloc[sorted(range(len(link_values)), key=lambda i: (-link_values[i], product_codes[i],
                                                                          country_codes[i]))]
    table = pd.DataFrame({
        "rang": by_value["link_rank"].astype("Int64"), "code_produit": by_value["product_code"],
        "produit": by_value["product_name"], "code_pays": by_value["country_code"],
        "pays": by_value["country_name"], "valeur_eur": by_value["value_eur"], "top5": by_value["is_top5"],
    })
    name = f"flows_{'exports' if flow == 'E' else 'imports'}{'_compact' if compact else ''}"
    return Chart(name, title, figure, ChartTable.of(COLUMNS, table.reset_index(drop=True)),
                 _flows_alt(data, flow), width, height)


def _flows_alt(data: TerritoryData, flow: str) -> str:
    top = top_flows(data.links, flow)
    word = FLOW_WORDS[flow]
    if not top:
        return f"En {data.year}, pas de flux d'{word} ventilé pour {data.territory.the}."
    listed = " ; ".join(f"{origin} → {destination} ({french.eur(value)})" for _, origin, destination, value in top)
    return (f"Les {len(top)} principaux flux d'{word} {data.territory.of} en {data.year}, "
            f"sur {french.headline(data.total(flow))} : {listed}.")
