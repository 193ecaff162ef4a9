"""Layout algorithms computed before plotly draws, so that the same data always gives the same
picture and every label is readable: d3's squarified treemap (which plotly uses) to know which
tile labels fit, and Sankey node positions with labels spread so they never overlap."""

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


def column_layout(nodes: list[tuple[str, str, int]], plot_height: float, pad: float, scale: float) -> list[SankeyNode]:
    """Stack a column of nodes from the top: biggest first, « Autres » last, ties by code."""
    ordered = sorted(nodes, key=lambda n: (n[0] == OTHERS_CODE, -n[2], n[0]))
    placed, top = [], 0.0
    for code, label, value in ordered:
        height = value * scale
        placed.append(SankeyNode(code, label, value, (top + height / 2) / plot_height, height))
        top += height + pad
    return placed


def sankey_layout(left: list[tuple[str, str, int]], right: list[tuple[str, str, int]], plot_height: float,
                  pad: float) -> tuple[list[SankeyNode], list[SankeyNode]]:
    """Node positions for plotly's `arrangement='fixed'`, with plotly's own vertical scale.

    plotly sizes nodes with ky = min over columns of (height − (n − 1)·pad) / column total;
    using the same ky, stacked nodes never overlap and labels can be placed beside them.
    """
    scale = min(
        (plot_height - (len(column) - 1) * pad) / max(sum(v for _, _, v in column), 1)
        for column in (left, right) if column
    ) if (left or right) else 1.0
    return column_layout(left, plot_height, pad, scale), column_layout(right, plot_height, pad, scale)


def spread_labels(centres: list[float], label_height: float, plot_height: float) -> list[float]:
    """Label centres (pixels from the top) as close to `centres` as possible without overlapping.

    Nodes are small when values are small; their two-line labels would collide. Push labels down
    in order, then back up from the bottom edge: the order is kept, the shift is minimal.
    """
    positions: list[float] = []
    for centre in centres:
        low = positions[-1] + label_height if positions else label_height / 2
        positions.append(max(centre, low))
    ceiling = plot_height - label_height / 2
    for index in range(len(positions) - 1, -1, -1):
        ceiling = min(positions[index], ceiling)
        positions[index] = ceiling
        ceiling -= label_height
    return positions
