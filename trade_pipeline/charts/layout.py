"""Layout algorithms computed before plotly draws, so that the same data always gives the same
picture and every label is readable: d3's squarified treemap (which plotly uses) to know which
tile labels fit, and Sankey node positions that leave each label room beside its node."""

from __future__ import annotations

from dataclasses import dataclass

from trade_pipeline.lib.nomenclature import OTHERS_CODE


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


@dataclass(frozen=True)
class SankeyNode:
    code: str
    label: str
    value: int
    y: float  # centre, 0 = top of the plot area (plotly's node.y)
    height: float  # pixels


@dataclass(frozen=True)
class SankeyLayout:
    left: list[SankeyNode]
    right: list[SankeyNode]
    pad: float  # the node padding to give plotly: it then sizes the nodes as placed here
    plot_height: float  # the plot area it needs (more than asked when the labels need it)


def _ordered(nodes: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Biggest first, « Autres » last, ties by code."""
    return sorted(nodes, key=lambda n: (n[0] == OTHERS_CODE, -n[2], n[0]))


def _gaps(values: list[int], labels: list[float], scale: float, min_pad: float) -> tuple[float, list[float], float]:
    """Room above the first node, between nodes, and below the last one, so that every label —
    centred on its node — clears its neighbours and the plot's edges."""
    heights = [v * scale for v in values]
    above = max(0.0, (labels[0] - heights[0]) / 2) if values else 0.0
    below = max(0.0, (labels[-1] - heights[-1]) / 2) if values else 0.0
    between = [max(min_pad, (labels[i] + labels[i + 1]) / 2 - (heights[i] + heights[i + 1]) / 2)
               for i in range(len(values) - 1)]
    return above, between, below


def _column_height(values: list[int], labels: list[float], scale: float, min_pad: float) -> float:
    above, between, below = _gaps(values, labels, scale, min_pad)
    return above + sum(between) + below + sum(values) * scale


def _place(nodes: list[tuple[str, str, int]], labels: list[float], scale: float, min_pad: float,
           plot_height: float) -> list[SankeyNode]:
    above, between, _ = _gaps([n[2] for n in nodes], labels, scale, min_pad)
    placed, top = [], above
    for index, (code, label, value) in enumerate(nodes):
        height = value * scale
        placed.append(SankeyNode(code, label, value, (top + height / 2) / plot_height, height))
        top += height + (between[index] if index < len(between) else 0.0)
    return placed


def sankey_layout(left: list[tuple[str, str, int]], right: list[tuple[str, str, int]], plot_height: float,
                  min_pad: float, label_heights: tuple[dict[str, float], dict[str, float]] = ({}, {})) -> SankeyLayout:
    """Node positions for plotly's `arrangement='fixed'` where each label sits beside its node.

    Nodes are stacked biggest first (« Autres » last). Small nodes are far thinner than their
    labels: the gap between two nodes is widened until their labels, each centred on its node,
    clear each other. The vertical scale is the largest that fits both columns in the plot area;
    if even a scale near zero cannot (too many labels), the plot area grows. plotly sizes nodes
    with ky = min over columns of (height − (n − 1)·pad) / column total (d3-sankey): the pad
    returned makes its ky the scale used here, so its nodes are exactly where we placed them.
    `label_heights` gives the pixels each node's label needs, by code, for each column.
    """
    columns = [_ordered(column) for column in (left, right)]
    labels = [[float(heights.get(node[0], 0.0)) for node in column]
              for column, heights in zip(columns, label_heights, strict=True)]
    values = [[n[2] for n in column] for column in columns]
    needed = max((_column_height(v, lab, 0.0, min_pad) for v, lab in zip(values, labels, strict=True) if v),
                 default=0.0)
    plot_height = max(plot_height, needed + 1.0)

    def fits(scale: float) -> bool:
        return all(_column_height(v, lab, scale, min_pad) <= plot_height
                   for v, lab in zip(values, labels, strict=True) if v)

    totals = [sum(v) for v in values if v]
    low, high = 0.0, plot_height / max(min(totals), 1) if totals else 1.0
    for _ in range(60):  # bisection: the column heights grow with the scale
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    scale = low
    pads = [(plot_height - scale * sum(v)) / (len(v) - 1) for v in values if len(v) > 1]
    pad = min(pads) if pads else min_pad
    return SankeyLayout(*(_place(column, lab, scale, min_pad, plot_height)
                          for column, lab in zip(columns, labels, strict=True)), pad=pad, plot_height=plot_height)
