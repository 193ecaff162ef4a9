"""The evolution chart: exports and imports, the balance and the balance « hors énergie », and the
territory's share of France, from the store's first year to the fiche's year.

A year missing from the store is a gap in the lines (no point, no bar), never a zero. The 2022
series break (EMEBI replaced the DEB, without correction for non-response) is marked.
"""

from __future__ import annotations

import math

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, axis_ticks, plotly_figure, source_note
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french

#: First year of the EMEBI survey (docs/source-format.md, « Series breaks »): the series break drawn on the chart.
SERIES_BREAK_YEAR = 2022
#: What plotly is given: amounts to 0,1 M€ and shares to 0,01 point, the precision shown — so a
#: revision elsewhere that moves a share by a millionth does not redraw every territory's chart.
AMOUNT_PRECISION = -5
SHARE_DIGITS = 4

COLUMNS = (Column("annee", "Année", Kind.YEAR), Column("exportations_eur", "Exportations", Kind.EUR),
           Column("importations_eur", "Importations", Kind.EUR), Column("solde_eur", "Solde", Kind.EUR),
           Column("solde_hors_energie_eur", "Solde hors énergie", Kind.EUR))
#: The share of France's trade (not on France's own chart).
SHARE_COLUMNS = (Column("part_france_exportations", "Part des exportations françaises", Kind.SHARE),
                 Column("part_france_importations", "Part des importations françaises", Kind.SHARE))


def _known(value: float) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _amounts(series: pd.Series) -> list[float | None]:
    return [round(float(v), AMOUNT_PRECISION) if _known(v) else None for v in series]


def _shares(series: pd.Series) -> list[float | None]:
    return [round(float(v), SHARE_DIGITS) if _known(v) else None for v in series]


def _texts(values: list[float | None], formatter) -> list[str]:
    return [formatter(v) if v is not None else "année absente de la base" for v in values]


def _axis(values: list[float | None], formatter, domain: list[float], anchor: str, title: str) -> dict:
    known = [v for v in values if v is not None] or [0.0]
    ticks = axis_ticks(min(known), max(known))
    return {"domain": domain, "anchor": anchor, "tickvals": ticks, "ticktext": [formatter(t) for t in ticks],
            "range": [ticks[0], ticks[-1]], "zeroline": True, "zerolinecolor": palette.TEXT, "gridcolor": "#E6E6E6",
            "title": {"text": title, "font": {"size": 10, "color": palette.MUTED_TEXT}}}


def evolution_chart(data: TerritoryData) -> Chart:
    series = data.series
    years = [int(y) for y in series["year"]]
    with_share = data.territory.level != "france"
    width, height = 700, 600 if with_share else 470
    exports, imports = _amounts(series["exports_eur"]), _amounts(series["imports_eur"])
    balance, balance_excl = _amounts(series["balance_eur"]), _amounts(series["balance_excl_energy_eur"])

    def line(values, name, colour, axis, formatter, dash="solid"):
        # A uid of our own: plotly.js would draw a random one into the SVG (same data, other bytes).
        return {"type": "scatter", "uid": f"{axis}-{colour[1:]}-{dash}", "mode": "lines+markers", "x": years,
                "y": values, "name": name, "xaxis": "x",
                "yaxis": axis, "connectgaps": False, "line": {"color": colour, "width": 2.5, "dash": dash},
                "marker": {"color": colour, "size": 6}, "customdata": _texts(values, formatter),
                "hovertemplate": f"{name} %{{x}} : %{{customdata}}<extra></extra>"}

    def bars(values, name, colour):
        return {"type": "bar", "x": years, "y": values, "name": name, "xaxis": "x", "yaxis": "y2",
                "marker": {"color": colour}, "customdata": _texts(values, french.signed_eur),
                "hovertemplate": f"{name} %{{x}} : %{{customdata}}<extra></extra>"}

    traces = [line(exports, "Exportations", palette.EXPORTS, "y", french.eur),
              line(imports, "Importations", palette.IMPORTS, "y", french.eur),
              bars(balance, "Solde", palette.NODE), bars(balance_excl, "Solde hors énergie", palette.OTHERS_NODE)]
    domains = ([[0.56, 1.0], [0.27, 0.48], [0.0, 0.19]] if with_share else [[0.42, 1.0], [0.0, 0.34]])
    layout: dict = {
        "xaxis": {"tickvals": years, "ticktext": [str(y) for y in years], "range": [years[0] - 0.6, years[-1] + 0.6],
                  "anchor": "y3" if with_share else "y2", "showgrid": False},
        "yaxis": _axis(exports + imports, french.eur, domains[0], "x", "Échanges"),
        "yaxis2": _axis(balance + balance_excl, french.signed_eur, domains[1], "x", "Solde"),
        "barmode": "group", "bargap": 0.3,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "yref": "paper",
                   "font": {"size": 10}, "traceorder": "normal"},
    }
    if with_share:
        share_e, share_i = _shares(series["exports_share_of_france"]), _shares(series["imports_share_of_france"])
        traces += [line(share_e, "Part des exportations françaises", palette.EXPORTS, "y3", french.pct, "dot"),
                   line(share_i, "Part des importations françaises", palette.IMPORTS, "y3", french.pct, "dot")]
        layout["yaxis3"] = _axis(share_e + share_i, lambda v: french.pct(v, 1 if v >= 0.01 or v == 0 else 2),
                                 domains[2], "x", "Part du total France")
    shapes, annotations = [], []
    if years[0] < SERIES_BREAK_YEAR <= years[-1]:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": SERIES_BREAK_YEAR - 0.5,
                       "x1": SERIES_BREAK_YEAR - 0.5, "y0": 0, "y1": 1,
                       "line": {"color": palette.MUTED_TEXT, "width": 1, "dash": "dash"}})
        annotations.append({"x": SERIES_BREAK_YEAR - 0.5, "xref": "x", "y": 1.0, "yref": "paper", "yshift": -2,
                            "xanchor": "left", "yanchor": "top", "showarrow": False,
                            "text": " rupture de série (EMEBI)", "font": {"size": 9, "color": palette.MUTED_TEXT}})
    title = f"Évolution des échanges {data.territory.of}, {years[0]}–{years[-1]}"
    figure = plotly_figure(traces, title, source_note(data, since=years[0]), width, height,
                           margin={"l": 90, "r": 20, "t": 135 if with_share else 115, "b": 50},
                           annotations=annotations, shapes=shapes,
                           showlegend=True, **layout)
    table = pd.DataFrame({
        "annee": years, "exportations_eur": series["exports_eur"].astype("Int64"),
        "importations_eur": series["imports_eur"].astype("Int64"), "solde_eur": series["balance_eur"].astype("Int64"),
        "solde_hors_energie_eur": series["balance_excl_energy_eur"].astype("Int64"),
    })
    if with_share:
        table["part_france_exportations"] = series["exports_share_of_france"].round(6)
        table["part_france_importations"] = series["imports_share_of_france"].round(6)
    return Chart("evolution", title, figure, ChartTable.of(COLUMNS + (SHARE_COLUMNS if with_share else ()), table),
                 _evolution_alt(data), width, height)


def _evolution_alt(data: TerritoryData) -> str:
    series = data.series
    known = series.dropna(subset=["exports_eur"])
    territory = data.territory
    missing = [str(int(y)) for y in series.loc[series["exports_eur"].isna(), "year"]]
    gap = f" Années absentes de la base : {', '.join(missing)}." if missing else ""
    if len(known) < 2:
        return (f"Une seule année dans la base ({data.year}) : l'évolution {territory.of} ne peut pas encore être "
                f"tracée.{gap}")
    first, last = known.iloc[0], known.iloc[-1]
    start, end = int(first["year"]), int(last["year"])

    def moved(column: str) -> str:
        before, after = float(first[column]), float(last[column])
        change = f" ({french.signed_pct(after / before - 1)})" if before else ""
        return f"passent de {french.headline(before)} à {french.headline(after)}{change}"

    sentence = (f"De {start} à {end}, les exportations {territory.of} {moved('exports_eur')} "
                f"et les importations {moved('imports_eur')}. ")
    balance, excl = float(last["balance_eur"]), float(last["balance_excl_energy_eur"])
    sentence += f"Solde {end} : {french.signed_eur(balance)} ({french.signed_eur(excl)} hors énergie)."
    if data.territory.level != "france" and _known(first["exports_share_of_france"]):
        sentence += (f" Part {territory.of} dans les exportations françaises : "
                     f"{french.pct(first['exports_share_of_france'])} en "
                     f"{start}, {french.pct(last['exports_share_of_france'])} en {end}.")
    if start < SERIES_BREAK_YEAR <= end:
        sentence += f" Rupture de série en {SERIES_BREAK_YEAR} (EMEBI)."
    return sentence + gap
