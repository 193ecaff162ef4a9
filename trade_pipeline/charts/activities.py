"""The activities charts: treemaps of imports (blue) and exports (violet) by A129 product, where
a tile is drawn only if its label fits; the others are grouped into « Autres activités ».

As in the national fiche, the two treemaps' areas are in proportion to the territory's imports
and exports: the larger flow fills the chart, the smaller one a square-scaled part of it, so the
balance shows at a glance."""

from __future__ import annotations

import textwrap

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.chart import Chart, plotly_figure, plotly_text, source_note
from trade_pipeline.charts.layout import squarify
from trade_pipeline.charts.table import ChartTable, Column, Kind
from trade_pipeline.lib import french
from trade_pipeline.lib.nomenclature import OTHERS_CODE

TREEMAP_LINE = 14  # characters per line of a tile label

COLUMNS = (Column("code_a129", "Code A129"), Column("activite", "Activité"), Column("valeur_eur", "Valeur", Kind.EUR),
           Column("part", "Part", Kind.SHARE))


TREEMAP_FONT = 9.5  # px: 7,1 pt printed


def _label_size(label: str, value_text: str, font: float) -> tuple[float, float]:
    """The width and height « label / value » needs at `font` px (DejaVu Sans: ~0.62 em bold,
    0.56 regular)."""
    lines = textwrap.wrap(label, TREEMAP_LINE, break_long_words=False) or [label]
    return (max(max(len(line) for line in lines) * 0.6, len(value_text) * 0.53) * font + 6,
            (len(lines) + 1) * 1.25 * font + 6)


def _label_fits(size: tuple[float, float], rectangle: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rectangle
    return (x1 - x0) >= size[0] and (y1 - y0) >= size[1]


def _tile_text(value: float, total: float) -> str:
    return f"{french.eur(value)} · {french.pct(value / total if total else 0)}"


#: The area of the tiles in our 700 × 400 layout (the margins; the implicit root has no padding).
TREEMAP_AREA = (700 - 8, 400 - 58 - 32)


def area_scale(data: TerritoryData, flow: str) -> float:
    """The side of this flow's treemap, as a fraction of the chart's: areas in proportion to the
    flows' totals, the larger flow filling the chart."""
    largest = max(data.total("E"), data.total("I"))
    return (data.total(flow) / largest) ** 0.5 if largest > 0 else 1.0


def grouped_products(data: TerritoryData, flow: str, area: tuple[float, float] = TREEMAP_AREA,
                     font: float = TREEMAP_FONT) -> pd.DataFrame:
    """Products of a flow by value; tiles too small to carry a readable label are grouped into
    one « Autres activités » tile, so that every tile drawn is labelled (plotly.js #3153)."""
    products = data.products[data.products["flow"] == flow]
    products = products[products["value_eur"] > 0].sort_values(["value_eur", "product_code"], ascending=[False, True])
    total = int(products["value_eur"].sum())
    records = products[["product_code", "product_name", "short", "value_eur"]].to_dict("records")
    kept, others = records, []
    most = min(len(records), 40)  # 40 labelled tiles never fit this area
    sizes = [_label_size(row["short"], _tile_text(row["value_eur"], total), font) for row in records[:most]]
    # A tile's area is its share of the total whatever the tiles kept (the others' tile takes the
    # rest): a label larger than its tile's area fits no layout, so no count past it can succeed.
    for index, (row, (label_width, label_height)) in enumerate(zip(records, sizes, strict=False)):
        if total and row["value_eur"] / total * area[0] * area[1] < label_width * label_height * (1 - 1e-9):
            most = max(index, 1)
            break
    # The most tiles that can all carry their label; the rest become « Autres activités ».
    for count in range(most, 0, -1):
        kept, others = records[:count], records[count:]
        values = [float(r["value_eur"]) for r in kept] + ([float(sum(o["value_eur"] for o in others))] if others else [])
        tiles = squarify(values, *area)
        if all(_label_fits(size, tile) for size, tile in zip(sizes[:count], tiles, strict=False)):
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
    side = area_scale(data, flow)
    tiles = grouped_products(data, flow, (TREEMAP_AREA[0] * side, TREEMAP_AREA[1] * side))
    # The smaller flow's chart is shorter too: its treemap, scaled on both sides, at the top left.
    width, height = 700, 58 + 32 + round(TREEMAP_AREA[1] * side)
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
        # Per-tile colours in `insidetextfont`: an array in `textfont` makes plotly.js warn.
        "textfont": {"family": palette.FONT, "size": TREEMAP_FONT},
        "insidetextfont": {"color": [_text_colour(c) for c in colours[:len(tiles)]], "family": palette.FONT,
                           "size": TREEMAP_FONT},
        "domain": {"x": [0, side], "y": [0, 1]},
    }
    verb = "exportatrices" if flow == "E" else "importatrices"
    title = (f"Principales activités {verb} {data.territory.of} en {data.year}"
             f"<br><span style='font-size:11px'>{_balance_line(data)}</span>")
    # Labels that do not fit their tile would be hidden rather than shrunk (plotly.js #3153):
    # grouped_products keeps only tiles that can carry theirs.
    figure = plotly_figure([trace], title, source_note(data), width, height, margin={"l": 4, "r": 4, "t": 58, "b": 32},
                     uniformtext={"minsize": 9, "mode": "hide"})
    table = ChartTable.of(COLUMNS, {"code_a129": tiles["product_code"], "activite": tiles["product_name"],
                                    "valeur_eur": tiles["value_eur"], "part": tiles["share"].round(4)})
    return Chart(f"activities_{'exports' if flow == 'E' else 'imports'}", title, figure, table,
                 _activities_alt(data, flow, tiles), width, height)


def _balance_line(data: TerritoryData) -> str:
    """The subtitle of both treemaps: what their areas compare."""
    return (f"surfaces proportionnelles aux montants : importations {french.eur(data.total('I'))}, "
            f"exportations {french.eur(data.total('E'))}")


def _activities_alt(data: TerritoryData, flow: str, tiles: pd.DataFrame) -> str:
    territory = data.territory
    verb = territory.verb("exporte", "exportent") if flow == "E" else territory.verb("importe", "importent")
    head = f"En {data.year}, {territory.the} {verb} {french.headline(data.total(flow))}"
    listed = tiles[tiles["product_code"] != OTHERS_CODE].head(3)
    if listed.empty:
        return head + "."
    first = listed.iloc[0]
    rest = ", ".join(f"{row['short']} ({french.pct(row['share'])})" for _, row in listed.iloc[1:].iterrows())
    word = "exportatrice" if flow == "E" else "importatrice"
    return (f"{head} ; première activité {word} : {first['short']} ({french.pct(first['share'])})"
            + (f", puis {rest}" if rest else "") + ".")
