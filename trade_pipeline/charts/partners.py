"""The partners chart: a butterfly, imports to the left, exports to the right, the balance
written beside each country with its sign, an arrow and a colour."""

from __future__ import annotations

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, axis_ticks, category_labels, plotly_figure, source_note
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french

PARTNERS_SHOWN = 8  # from each side: the main clients and the main suppliers
VALUE_FONT = 10  # px: 7,5 pt printed

COLUMNS = (Column("code_pays", "Code"), Column("pays", "Pays"), Column("exportations_eur", "Exportations", Kind.EUR),
           Column("importations_eur", "Importations", Kind.EUR), Column("solde_eur", "Solde", Kind.EUR))


def main_partners(data: TerritoryData, count: int = PARTNERS_SHOWN) -> pd.DataFrame:
    """The main clients and suppliers (countries only), largest trade first."""
    countries = data.partners[data.partners["is_country"]]
    clients = countries.nlargest(count, "exports_eur", keep="first")["country_code"]
    suppliers = countries.nlargest(count, "imports_eur", keep="first")["country_code"]
    chosen = countries[countries["country_code"].isin(set(clients) | set(suppliers))].copy()
    chosen = chosen[(chosen["exports_eur"] > 0) | (chosen["imports_eur"] > 0)]
    chosen["trade"] = chosen["exports_eur"] + chosen["imports_eur"]
    return chosen.sort_values(["trade", "country_code"], ascending=[False, True]).reset_index(drop=True)


def partners_chart(data: TerritoryData) -> Chart:
    partners = main_partners(data)
    width, height = 700, max(300, 110 + 34 * len(partners))
    names, left = category_labels(list(partners["short"]))
    # Each bar's value written at its end: on paper the axis alone cannot be read.
    imports_text = [french.eur(v) if v else "" for v in partners["imports_eur"]]
    exports_text = [french.eur(v) if v else "" for v in partners["exports_eur"]]
    traces = [
        {"type": "bar", "y": names, "x": (-partners["imports_eur"]).tolist(), "orientation": "h",
         "name": "Importations", "marker": {"color": palette.IMPORTS}, "text": imports_text,
         "textposition": "outside", "constraintext": "none", "cliponaxis": False,
         "textfont": {"size": VALUE_FONT, "color": palette.TEXT},
         "customdata": [french.eur(v) for v in partners["imports_eur"]],
         "hovertemplate": "%{y} — importations : %{customdata}<extra></extra>"},
        {"type": "bar", "y": names, "x": partners["exports_eur"].tolist(), "orientation": "h",
         "name": "Exportations", "marker": {"color": palette.EXPORTS}, "text": exports_text,
         "textposition": "outside", "constraintext": "none", "cliponaxis": False,
         "textfont": {"size": VALUE_FONT, "color": palette.TEXT},
         "customdata": [french.eur(v) for v in partners["exports_eur"]],
         "hovertemplate": "%{y} — exportations : %{customdata}<extra></extra>"},
    ]
    limit = float(max(partners["exports_eur"].max(), partners["imports_eur"].max())) if len(partners) else 1.0
    ticks = axis_ticks(-limit, limit)
    # Room beyond the longest bar for its value.
    xaxis = {"tickvals": ticks, "ticktext": [french.eur(abs(t)) for t in ticks], "zeroline": True,
             "zerolinecolor": palette.TEXT, "gridcolor": "#E6E6E6", "range": [-1.4 * limit, 1.4 * limit]}
    yaxis = {"autorange": "reversed", "ticks": "", "automargin": False, "ticklabelstandoff": 4}
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
         "showarrow": False, "text": "<b>Solde</b>", "font": {"size": 11}},
        {"x": 0.25, "xref": "paper", "y": 1.0, "yref": "paper", "yshift": 14, "showarrow": False,
         "text": "◀ Importations", "font": {"color": palette.IMPORTS, "size": 11}},
        {"x": 0.75, "xref": "paper", "y": 1.0, "yref": "paper", "yshift": 14, "showarrow": False,
         "text": "Exportations ▶", "font": {"color": palette.EXPORTS, "size": 11}},
    ]
    title = f"Principaux pays partenaires {data.territory.of} en {data.year}"
    figure = plotly_figure(traces, title, source_note(data), width, height,
                           margin={"l": max(left, 120), "r": 120, "t": 80, "b": 50}, annotations=annotations,
                           xaxis=xaxis, yaxis=yaxis, barmode="relative", bargap=0.25, showlegend=False)
    table = ChartTable.of(COLUMNS, {
        "code_pays": partners["country_code"], "pays": partners["country_name"],
        "exportations_eur": partners["exports_eur"], "importations_eur": partners["imports_eur"],
        "solde_eur": partners["balance_eur"],
    })
    return Chart("partners", title, figure, table, _partners_alt(data, partners), width, height)


def _partners_alt(data: TerritoryData, partners: pd.DataFrame) -> str:
    territory = data.territory
    if partners.empty:
        no = territory.verb("n'a", "n'ont")
        return f"En {data.year}, {territory.the} {no} pas d'échanges avec des pays identifiés."
    exports, imports = data.total("E"), data.total("I")
    client = partners.loc[partners["exports_eur"].idxmax()]
    supplier = partners.loc[partners["imports_eur"].idxmax()]
    surplus = partners.loc[partners["balance_eur"].idxmax()]
    deficit = partners.loc[partners["balance_eur"].idxmin()]
    parts = [f"En {data.year}, {territory.the} {territory.verb('exporte', 'exportent')} {french.headline(exports)} et "
             f"{territory.verb('importe', 'importent')} {french.headline(imports)}"]
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
