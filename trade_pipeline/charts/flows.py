"""The flows charts: Sankeys, products → countries for exports and countries → products for
imports, with node positions computed here (stable order, « Autres » last) and the 5 largest
flows in red."""

from __future__ import annotations

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData, top_flows
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import FLOW_WORDS, Chart, plotly_figure, plotly_text
from trade_pipeline.charts.layout import sankey_layout, spread_labels
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french
from trade_pipeline.lib.nomenclature import OTHERS_CODE
from trade_pipeline.lib.provenance import source_line

COLUMNS = (Column("rang", "Rang", Kind.RANK), Column("code_produit", "Code produit"), Column("produit", "Produit"),
           Column("code_pays", "Code"), Column("pays", "Pays"), Column("valeur_eur", "Valeur", Kind.EUR),
           Column("top5", "Top 5", Kind.FLAG))


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
    note = source_line(data.year, data.synthetic, compact)
    if not nodes:
        # plotly.js draws nothing for an empty Sankey and kaleido then writes no file at all:
        # say it in the chart instead.
        annotations = [{"text": f"Aucun flux d'{word} en {data.year}", "xref": "paper", "yref": "paper", "x": 0.5,
                        "y": 0.5, "showarrow": False, "font": {"size": font + 2, "color": palette.MUTED_TEXT}}]
    figure = plotly_figure([trace] if nodes else [], title, note, width, height, margin, annotations=annotations,
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
    return Chart(name, title, figure, ChartTable.of(COLUMNS, table.reset_index(drop=True)),
                 _flows_alt(data, flow, ordered_links), width, height)


def _flows_alt(data: TerritoryData, flow: str, links: pd.DataFrame) -> str:
    top = top_flows(data.links, flow)
    word = FLOW_WORDS[flow]
    if not top:
        return f"En {data.year}, pas de flux d'{word} ventilé pour {data.territory.name_with_article}."
    listed = " ; ".join(f"{origin} → {destination} ({french.eur(value)})" for _, origin, destination, value in top)
    return (f"Les {len(top)} principaux flux d'{word} {french.of(data.territory.name_with_article)} en {data.year}, "
            f"sur {french.headline(data.total(flow))} : {listed}.")
