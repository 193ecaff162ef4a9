"""What drove the change: contributions to the change of exports (or imports) since the previous
year, by main partner and by main activity (A129), in points of growth, as diverging bars.

Each panel lists the largest contributions (positive or negative), then « Autres » — the rest, so
that the bars listed add up exactly to the total change — then the total itself.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import FLOW_WORDS, Chart, axis_ticks, category_labels, plotly_figure, source_note
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french

CONTRIBUTORS_SHOWN = 8  # per panel, by size of the contribution
PANELS = (("country", "Par pays partenaire", "Autres pays"), ("product", "Par activité (A129)", "Autres activités"))
#: Points of growth as given to plotly (the bars' lengths).
POINT_DIGITS = 2
#: Points of growth as printed (« −7,1 pts »).
SHOWN_DIGITS = 1

COLUMNS = (Column("dimension", "Dimension"), Column("code", "Code"), Column("libelle", "Libellé"),
           Column("variation_eur", "Variation", Kind.EUR), Column("contribution_points", "Contribution", Kind.POINTS))


RESULT_COLUMNS = ["code", "name", "short", "change_eur", "contribution", "kind", "rounded", "shown"]


def main_contributions(data: TerritoryData, flow: str, dimension: str, others_name: str,
                       count: int = CONTRIBUTORS_SHOWN) -> pd.DataFrame:
    """The largest contributions of one dimension, « autres » for the rest and the total (in this
    order): name, code, change_eur, contribution (points), rounded (to the precision shown) and
    shown (its text: the bar's label and the caption's figure are this one string); empty without
    a previous year.

    In plain Python over the territory's few hundred rows: pandas spent 15 ms a call on filters
    and sorts of such small tables (four calls a territory, every territory of every year)."""
    rows = data.contributions
    mine = [] if rows is None else [
        (d, code, name, short, change, points) for f, d, code, name, short, change, points in zip(
            rows["flow"], rows["dimension"], rows["code"], rows["name"], rows["short"], rows["change_eur"],
            rows["contribution_pct_points"], strict=True) if f == flow and d in (dimension, "total")]
    totals = [row for row in mine if row[0] == "total"]
    if not totals or all(math.isnan(row[5]) for row in totals):  # no previous year, or nothing traded then
        return pd.DataFrame(columns=RESULT_COLUMNS)
    _, _, _, _, total_change, total_points = totals[0]
    # By size of the contribution, then code; a contribution that cannot be computed last.
    members = sorted((row for row in mine if row[0] == dimension),
                     key=lambda row: (math.isnan(row[5]), -abs(row[5]), row[1]))
    shown, rest = members[:count], members[count:]
    listed_points = [float(row[5]) for row in shown]
    # « Autres » is the total minus the listed bars: the bars add up to the total exactly (numpy's
    # sum, as pandas summed them: the same bits).
    records = [(code, name, short, int(change), points, "member")
               for (_, code, name, short, change, _), points in zip(shown, listed_points, strict=True)]
    records.append(("AUTRES", others_name, f"{others_name} ({len(rest)})",
                    int(total_change) - sum(int(row[4]) for row in shown),
                    float(total_points) - float(np.sum(np.array(listed_points, dtype=float))), "others"))
    records.append(("TOTAL", "Total", "Total", int(total_change), float(total_points), "total"))
    codes, names, shorts, changes, contributions, kinds = (list(column) for column in zip(*records, strict=True))
    # Rounded once, to the precision shown: bars, labels and caption all print this value.
    rounded = [round(value, SHOWN_DIGITS) for value in contributions]
    return pd.DataFrame({
        "code": codes, "name": names, "short": shorts, "change_eur": np.array(changes, dtype="int64"),
        "contribution": np.array(contributions, dtype=float), "kind": kinds, "rounded": rounded,
        "shown": [french.points(value) for value in rounded]})


def contributions_chart(data: TerritoryData, flow: str) -> Chart:
    words = FLOW_WORDS[flow]
    width, height = 700, 410
    panels = [(main_contributions(data, flow, dimension, others), heading) for dimension, heading, others in PANELS]
    title = f"Contributions à l'évolution des {words} {data.territory.of}, " \
            f"{data.year - 1}–{data.year}"
    if panels[0][0].empty:
        figure = plotly_figure([], title, source_note(data), width, 160, margin={"l": 20, "r": 20, "t": 60, "b": 40},
                               annotations=[{"text": _nothing_to_decompose(data, flow), "xref": "paper",
                                             "yref": "paper", "x": 0.5,
                                             "y": 0.5, "showarrow": False, "font": {"size": 12}}],
                               xaxis={"visible": False}, yaxis={"visible": False})
        table = ChartTable.of(COLUMNS, pd.DataFrame(columns=[column.name for column in COLUMNS]))
        return Chart(f"contributions_{words}", title, figure, table, _alt(data, flow, panels), width, 160)
    traces, annotations, layout = [], [], {}
    domains = ([0.54, 1.0], [0.0, 0.46])
    everything = [v for frame, _ in panels for v in frame["contribution"]]
    low, high = min(min(everything), 0.0), max(max(everything), 0.0)
    pad = 0.22 * ((high - low) or 1.0)  # room for the value written beside each bar
    shown_range = [low - pad if low < 0 else -pad / 4, high + pad if high > 0 else pad / 4]
    ticks = [t for t in axis_ticks(low, high, steps=4) if shown_range[0] <= t <= shown_range[1]]
    _, left = category_labels([name for frame, _ in panels for name in frame["short"]], font=10)
    left = max(left, 150)
    for index, ((frame, heading), domain) in enumerate(zip(panels, domains, strict=True)):
        suffix = "" if index == 0 else "2"
        values = [round(v, POINT_DIGITS) for v in frame["contribution"]]
        colours = [palette.NODE if kind == "total" else palette.SURPLUS if value >= 0 else palette.DEFICIT
                   for kind, value in zip(frame["kind"], values, strict=True)]
        names, _ = category_labels(list(frame["short"]), font=10)
        traces.append({
            "type": "bar", "orientation": "h", "x": values, "y": names, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
            "marker": {"color": colours}, "text": list(frame["shown"]), "textposition": "outside",
            "constraintext": "none", "cliponaxis": False, "textfont": {"size": 10},
            "customdata": [french.signed_eur(v) for v in frame["change_eur"]],
            "hovertemplate": "%{y} : %{text} (%{customdata})<extra></extra>", "showlegend": False})
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "tickvals": ticks, "ticktext": [french.points(t) for t in ticks],
                                    "range": shown_range, "zeroline": True,
                                    "zerolinecolor": palette.TEXT, "gridcolor": "#E6E6E6"}
        layout[f"yaxis{suffix}"] = {"domain": domain, "anchor": f"x{suffix}", "autorange": "reversed", "ticks": "",
                                    "automargin": False, "tickfont": {"size": 10},
                                    "ticklabelstandoff": 4}
        annotations.append({"text": f"<b>{heading}</b>", "xref": "paper", "yref": "paper", "x": 0, "y": domain[1],
                            "xanchor": "left", "yanchor": "bottom", "xshift": -left + 4, "showarrow": False,
                            "font": {"size": 11}})
    figure = plotly_figure(traces, title, source_note(data, since=data.year - 1), width, height,
                           margin={"l": left, "r": 30, "t": 80, "b": 50}, annotations=annotations, bargap=0.25,
                           showlegend=False, **layout)
    table = ChartTable.of(COLUMNS, pd.concat([
        pd.DataFrame({"dimension": "pays" if dimension == "country" else "activité", "code": frame["code"],
                      "libelle": frame["name"], "variation_eur": frame["change_eur"],
                      "contribution_points": frame["contribution"].round(4)})
        for (frame, _), (dimension, _, _) in zip(panels, PANELS, strict=True)], ignore_index=True))
    return Chart(f"contributions_{words}", title, figure, table, _alt(data, flow, panels), width, height)


def _nothing_to_decompose(data: TerritoryData, flow: str) -> str:
    rows = data.contributions
    known = rows is not None and ((rows["flow"] == flow) & (rows["dimension"] == "total")).any()
    why = (f"aucune {FLOW_WORDS[flow][:-1]} en {data.year - 1}" if known
           else f"{data.year - 1} n'est pas dans la base")
    return f"{why[0].upper()}{why[1:]} : pas d'évolution à décomposer."


def _alt(data: TerritoryData, flow: str, panels: list) -> str:
    words = FLOW_WORDS[flow]
    countries = panels[0][0]
    if countries.empty:
        return _nothing_to_decompose(data, flow)
    total = countries.iloc[-1]
    # The total's contribution in points is the change in per cent: the caption gives the bar's figure.
    parts = [f"De {data.year - 1} à {data.year}, les {words} {data.territory.of} évoluent de "
             f"{french.signed_pct(total['rounded'] / 100, SHOWN_DIGITS)} ({french.signed_eur(total['change_eur'])})"]
    for frame, what in ((countries, "le pays"), (panels[1][0], "l'activité")):
        members = frame[frame["kind"] == "member"]
        if len(members):
            up, down = members.loc[members["contribution"].idxmax()], members.loc[members["contribution"].idxmin()]
            if up["contribution"] > 0:
                parts.append(f"{what} qui contribue le plus à la hausse : {up['short']} "
                             f"({up['shown']})")
            if down["contribution"] < 0:
                parts.append(f"{what} qui contribue le plus à la baisse : {down['short']} "
                             f"({down['shown']})")
    return " ; ".join(parts) + "."
