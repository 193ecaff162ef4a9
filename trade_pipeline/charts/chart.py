"""What every chart of a fiche is: a plotly figure as plain data, the table behind it, a French
alt text; and the layout they share (title, source note, French number separators).

Every number shown is formatted by `trade_pipeline.lib.french`; plotly receives text. Labels come
from DGDDI's files (or a zip found on the internet): plotly reads its text as HTML-like markup,
so every label passes through `plotly_text` and is shown as written, never interpreted.
"""

from __future__ import annotations

import html
import math
import textwrap
from dataclasses import dataclass

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts import palette
from trade_pipeline.charts.table import ChartTable
from trade_pipeline.lib.provenance import source_line

FLOW_WORDS = {"E": "exportations", "I": "importations"}


def plotly_text(label: str) -> str:
    """A label as literal plotly text: `<`, `>` and `&` become entities plotly displays as such."""
    return html.escape(label, quote=False)


#: A bar chart's category labels: characters per line before wrapping (never cut).
CATEGORY_LINE = 26
#: DejaVu Sans: average character width, in font sizes (a little generous).
CHAR_WIDTH = 0.6


def category_labels(names: list[str], font: float = 11) -> tuple[list[str], int]:
    """Category labels as plotly text, long ones on two lines, and the left margin they need."""
    lines = [textwrap.wrap(name, CATEGORY_LINE, break_long_words=False) or [name] for name in names]
    longest = max((len(line) for parts in lines for line in parts), default=10)
    return (["<br>".join(plotly_text(line) for line in parts) for parts in lines],
            int(longest * CHAR_WIDTH * font) + 16)


@dataclass
class Chart:
    name: str  # file stem: partners, activities_exports, flows_exports, …
    title: str
    figure: dict  # plotly figure as plain data: {"data": [...], "layout": {...}}
    table: ChartTable  # the data behind the chart, typed, with its columns' French labels
    alt: str  # what the chart says, in French
    width: int
    height: int
    interactive: bool = True  # drawn by plotly.js in the page (else shown as its picture only)


def source_note(data: TerritoryData, since: int | None = None) -> str:
    """The chart's source line; a chart of several years says from when (`since`)."""
    return source_line(data.year, data.synthetic, since=since)


def plotly_figure(traces: list[dict], title: str, note: str, width: int, height: int, margin: dict,
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
        "annotations": [*(annotations or []), *([note_annotation] if note else [])], **layout,
    }}


def nice_step(maximum: float, steps: int = 3) -> float:
    """A round axis step (1, 2, 2,5 or 5 × 10ⁿ) giving about `steps` steps up to `maximum`."""
    raw = maximum / steps
    magnitude = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def axis_ticks(low: float, high: float, steps: int = 3) -> list[float]:
    """Round tick values covering [low, high] (and 0), for axes whose labels we format in French."""
    step = nice_step(max(abs(low), abs(high)) or 1.0, steps)
    return [k * step for k in range(math.floor(min(low, 0) / step), math.ceil(max(high, 0) / step) + 1)]
