"""The one chart palette (colour-blind safe: Okabe–Ito hues, contrast ≥ 3:1 on white).

Colour never carries meaning alone: balances also have a sign and an arrow, the top-5 Sankey
flows a rank in the list under the chart.
"""

from __future__ import annotations

IMPORTS = "#0072B2"  # blue
EXPORTS = "#7B3294"  # violet (darker than the blue: the pair also differs in lightness)
SURPLUS = "#009E73"  # bluish green, with « ▲ + »
DEFICIT = "#D55E00"  # vermillion, with « ▼ − »
TOP_FLOW = "#C62828"  # red: the 5 largest Sankey flows
NEUTRAL_FLOW = "#B8B8B8"
NODE = "#4D4D4D"
OTHERS_NODE = "#9E9E9E"
TEXT = "#1A1A1A"
MUTED_TEXT = "#555555"
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"

SURPLUS_MARK = "▲"
DEFICIT_MARK = "▼"


def shades(base: str, count: int, lightest: float = 0.72) -> list[str]:
    """`count` shades of `base` from full strength to `lightest` mixed with white (ranked tiles)."""
    red, green, blue = (int(base[i:i + 2], 16) for i in (1, 3, 5))
    result = []
    for index in range(count):
        mix = 0.0 if count == 1 else lightest * index / (count - 1)
        channels = (round(c + (255 - c) * mix) for c in (red, green, blue))
        result.append("#" + "".join(f"{c:02X}" for c in channels))
    return result


def with_alpha(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
