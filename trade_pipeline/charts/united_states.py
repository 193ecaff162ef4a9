"""The United States focus (the year of US tariff threats frames the fiche): trade with the United
States both ways — exports there and imports from there, their shares and change — and the main
products of each, with the United States' part of each product's exports (or imports)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, axis_ticks, category_labels, plotly_figure, source_note
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french

UNITED_STATES = "US"
PRODUCTS_SHOWN = 8  # per flow: both charts share a page

#: Per flow: the chart's name, the mart's columns, the table's columns.
_FLOWS = {
    "E": {"chart": "united_states", "value": "exports_to_united_states_eur", "everywhere": "product_exports_eur",
          "share": "share_of_product_exports", "colour": palette.EXPORTS,
          "columns": (Column("code_a129", "Code A129"), Column("activite", "Activité"),
                      Column("exportations_etats_unis_eur", "Vers les États-Unis", Kind.EUR),
                      Column("exportations_produit_eur", "Toutes destinations", Kind.EUR),
                      Column("part_du_produit_vers_etats_unis", "Part des États-Unis", Kind.SHARE))},
    "I": {"chart": "united_states_imports", "value": "imports_from_united_states_eur",
          "everywhere": "product_imports_eur", "share": "share_of_product_imports", "colour": palette.IMPORTS,
          "columns": (Column("code_a129", "Code A129"), Column("activite", "Activité"),
                      Column("importations_etats_unis_eur", "Depuis les États-Unis", Kind.EUR),
                      Column("importations_produit_eur", "Toutes origines", Kind.EUR),
                      Column("part_du_produit_depuis_etats_unis", "Part des États-Unis", Kind.SHARE))},
}


@dataclass(frozen=True)
class UnitedStatesFlow:
    """Trade with the United States one way (exports to, or imports from)."""

    value_eur: int
    share: float | None  # of the territory's exports (imports)
    france_share: float | None  # the same share for France
    change_eur: int | None  # since the previous year (None without it)
    change_pct: float | None


@dataclass(frozen=True)
class UnitedStatesFigures:
    exports: UnitedStatesFlow
    imports: UnitedStatesFlow

    # The exports' figures by their former names (the focus began with exports only).
    @property
    def exports_eur(self) -> int:
        return self.exports.value_eur

    @property
    def share_of_exports(self) -> float | None:
        return self.exports.share

    @property
    def france_share(self) -> float | None:
        return self.exports.france_share

    @property
    def change_eur(self) -> int | None:
        return self.exports.change_eur

    @property
    def change_pct(self) -> float | None:
        return self.exports.change_pct


def _flow_figures(data: TerritoryData, flow: str) -> UnitedStatesFlow:
    partner = data.partners[data.partners["country_code"] == UNITED_STATES]
    column = "exports_eur" if flow == "E" else "imports_eur"
    value = int(partner[column].iloc[0]) if len(partner) else 0
    indicator = "exports_share_united_states" if flow == "E" else "imports_share_united_states"
    france = (data.france or {}).get(indicator)
    france = float(france) if france is not None and pd.notna(france) else None
    change = data.contributions
    row = change[(change["flow"] == flow) & (change["dimension"] == "country") & (change["code"] == UNITED_STATES)] \
        if change is not None and len(change) else pd.DataFrame()
    change_eur = int(row["change_eur"].iloc[0]) if len(row) else None
    change_pct = float(row["change_pct"].iloc[0]) / 100 if len(row) and pd.notna(row["change_pct"].iloc[0]) else None
    share = data.exposure.get(indicator)
    return UnitedStatesFlow(value, None if share is None or pd.isna(share) else float(share), france, change_eur,
                            change_pct)


def united_states_figures(data: TerritoryData) -> UnitedStatesFigures:
    """The key figures of the focus, from the marts (exposure, partner_balance, growth_contributions)."""
    return UnitedStatesFigures(_flow_figures(data, "E"), _flow_figures(data, "I"))


def _products(data: TerritoryData, flow: str) -> pd.DataFrame:
    frame = data.united_states if flow == "E" else data.united_states_imports
    return frame.head(PRODUCTS_SHOWN) if frame is not None else pd.DataFrame()


def united_states_chart(data: TerritoryData, flow: str = "E") -> Chart:
    spec = _FLOWS[flow]
    products = _products(data, flow)
    width = 700
    height = max(200, 100 + 30 * len(products))
    t = data.territory
    title = (f"Principaux produits exportés par {t.the} vers les États-Unis en {data.year}" if flow == "E"
             else f"Principaux produits importés des États-Unis par {t.the} en {data.year}")
    amounts = [float(v) for v in products.get(spec["value"], [])]
    values = [round(v, -5) for v in amounts]  # the bars' lengths; their labels print the amounts
    names, left = category_labels(list(products.get("short", [])))
    ticks = axis_ticks(0.0, max(values) if values else 1.0)
    traces = [{
        "type": "bar", "orientation": "h", "x": values, "y": names, "marker": {"color": spec["colour"]},
        "text": [bar_text(v, s) for v, s in zip(amounts, products.get(spec["share"], []), strict=True)],
        "textposition": "outside", "constraintext": "none", "cliponaxis": False, "textfont": {"size": 10},
        "hovertemplate": "%{y} : %{text}<extra></extra>"}]
    annotations = [] if len(products) else [{
        "text": "Aucun échange avec les États-Unis", "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
        "showarrow": False, "font": {"size": 12, "color": palette.MUTED_TEXT}}]
    figure = plotly_figure(traces, title, source_note(data), width, height,
                           margin={"l": max(left, 120), "r": 40, "t": 50, "b": 50}, annotations=annotations,
                           xaxis={"tickvals": ticks, "ticktext": [french.eur(t) for t in ticks],
                                  "range": [0, ticks[-1] * 1.45], "gridcolor": "#E6E6E6", "visible": bool(values)},
                           yaxis={"autorange": "reversed", "ticks": "", "automargin": False, "ticklabelstandoff": 4},
                           showlegend=False, bargap=0.3)
    names_of = [c.name for c in spec["columns"]]
    table = ChartTable.of(spec["columns"], {
        names_of[0]: products.get("product_code", []), names_of[1]: products.get("product_name", []),
        names_of[2]: products.get(spec["value"], []), names_of[3]: products.get(spec["everywhere"], []),
        names_of[4]: products.get(spec["share"], pd.Series(dtype=float)).round(6),
    })
    return Chart(spec["chart"], title, figure, table, _alt(data, flow, products), width, height)


def bar_text(amount: float, share_of_product: float) -> str:
    """A bar's label: the amount, and the United States' part of the product's flow."""
    return f"{french.eur(amount)} · {french.pct(share_of_product)} du produit"


def _alt(data: TerritoryData, flow: str, products: pd.DataFrame) -> str:
    territory = data.territory
    figures = united_states_figures(data)
    mine = figures.exports if flow == "E" else figures.imports
    spec = _FLOWS[flow]
    if not mine.value_eur:
        verb = territory.verb("n'exporte", "n'exportent") if flow == "E" else territory.verb("n'importe", "n'importent")
        return f"En {data.year}, {territory.the} {verb} rien {'vers les' if flow == 'E' else 'des'} États-Unis."
    word = "exportations" if flow == "E" else "importations"
    verb = territory.verb("exporte", "exportent") if flow == "E" else territory.verb("importe", "importent")
    text = (f"En {data.year}, {territory.the} {verb} {french.headline(mine.value_eur)} "
            f"{'vers les' if flow == 'E' else 'des'} États-Unis, soit {french.pct(mine.share)} de "
            f"{territory.possessive} {word}")
    if mine.change_pct is not None:
        text += f" ({french.signed_pct(mine.change_pct)} sur un an)"
    if products.empty:
        return text + "."
    first = products.iloc[0]
    return (text + f". Premier produit : {first['short']} ({french.eur(float(first[spec['value']]))}, "
                   f"{french.pct(first[spec['share']])} des {word} de ce produit).")
