"""The United States focus (the year of US tariff threats frames the fiche): the exports to the
United States, their share and change, and the main products exported there with the United
States' share of each product's exports."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, axis_ticks, plotly_figure, plotly_text, source_note
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french

UNITED_STATES = "US"
PRODUCTS_SHOWN = 10

COLUMNS = (Column("code_a129", "Code A129"), Column("activite", "Activité"),
           Column("exportations_etats_unis_eur", "Vers les États-Unis", Kind.EUR),
           Column("exportations_produit_eur", "Toutes destinations", Kind.EUR),
           Column("part_du_produit_vers_etats_unis", "Part des États-Unis", Kind.SHARE))


@dataclass(frozen=True)
class UnitedStatesFigures:
    exports_eur: int
    share_of_exports: float | None
    france_share: float | None
    change_eur: int | None  # since the previous year (None without it)
    change_pct: float | None


def united_states_figures(data: TerritoryData) -> UnitedStatesFigures:
    """The key figures of the focus, from the marts (exposure, growth_contributions)."""
    partner = data.partners[data.partners["country_code"] == UNITED_STATES]
    exports = int(partner["exports_eur"].iloc[0]) if len(partner) else 0
    compared = data.comparison
    france = (float(compared.loc["exports_share_united_states", "france_value"])
              if compared is not None and "exports_share_united_states" in compared.index else None)
    change = data.contributions
    row = change[(change["flow"] == "E") & (change["dimension"] == "country") & (change["code"] == UNITED_STATES)] \
        if change is not None and len(change) else pd.DataFrame()
    change_eur = int(row["change_eur"].iloc[0]) if len(row) else None
    change_pct = float(row["change_pct"].iloc[0]) / 100 if len(row) and pd.notna(row["change_pct"].iloc[0]) else None
    return UnitedStatesFigures(exports, data.exposure.get("exports_share_united_states"), france, change_eur, change_pct)


def united_states_chart(data: TerritoryData) -> Chart:
    products = data.united_states.head(PRODUCTS_SHOWN) if data.united_states is not None else pd.DataFrame()
    width = 700
    height = max(220, 110 + 30 * len(products))
    title = f"Principaux produits exportés par {data.territory.name_with_article} vers les États-Unis en {data.year}"
    values = [round(float(v), -5) for v in products.get("exports_to_united_states_eur", [])]
    names = [plotly_text(n) for n in products.get("short", [])]
    ticks = axis_ticks(0.0, max(values) if values else 1.0)
    traces = [{
        "type": "bar", "orientation": "h", "x": values, "y": names, "marker": {"color": palette.EXPORTS},
        "text": [f"{french.eur(v)} · {french.pct(s)} du produit" for v, s in
                 zip(values, products.get("share_of_product_exports", []), strict=True)],
        "textposition": "outside", "cliponaxis": False, "textfont": {"size": 10},
        "hovertemplate": "%{y} : %{text}<extra></extra>"}]
    figure = plotly_figure(traces, title, source_note(data), width, height,
                           margin={"l": 170, "r": 40, "t": 60, "b": 50},
                           xaxis={"tickvals": ticks, "ticktext": [french.eur(t) for t in ticks],
                                  "range": [0, ticks[-1] * 1.45], "gridcolor": "#E6E6E6"},
                           yaxis={"autorange": "reversed", "ticks": "", "automargin": False},
                           showlegend=False, bargap=0.3)
    table = ChartTable.of(COLUMNS, {
        "code_a129": products.get("product_code", []), "activite": products.get("product_name", []),
        "exportations_etats_unis_eur": products.get("exports_to_united_states_eur", []),
        "exportations_produit_eur": products.get("product_exports_eur", []),
        "part_du_produit_vers_etats_unis": products.get("share_of_product_exports", pd.Series(dtype=float)).round(6),
    })
    return Chart("united_states", title, figure, table, _alt(data, products), width, height)


def _alt(data: TerritoryData, products: pd.DataFrame) -> str:
    name = data.territory.name_with_article
    figures = united_states_figures(data)
    if not figures.exports_eur:
        return f"En {data.year}, {name} n'exporte pas vers les États-Unis."
    text = (f"En {data.year}, {name} exporte {french.headline(figures.exports_eur)} vers les États-Unis, soit "
            f"{french.pct(figures.share_of_exports)} de ses exportations")
    if figures.change_pct is not None:
        text += f" ({french.signed_pct(figures.change_pct)} sur un an)"
    first = products.iloc[0]
    return (text + f". Premier produit : {first['short']} ({french.eur(first['exports_to_united_states_eur'])}, "
                   f"{french.pct(first['share_of_product_exports'])} des exportations de ce produit).")
