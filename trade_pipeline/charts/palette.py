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

#: Maps. Sequential: cividis, light to dark — its order holds in grey and for colour-blind readers.
CIVIDIS_LIGHT_TO_DARK = ("#FFEA46", "#CBBA69", "#958F78", "#666970", "#31446B", "#00204D")
#: Diverging (the balance): ColorBrewer PuOr, colour-blind safe; deficits orange, surpluses purple,
#: darker the further from zero on both sides.
DIVERGING_NEGATIVE = ("#B35806", "#F1A340")  # the largest deficits first
DIVERGING_POSITIVE = ("#998EC3", "#542788")  # the smallest surpluses first
NO_DATA = "#FFFFFF"
LOCATOR_OWN = EXPORTS
LOCATOR_REGION = "#B8B8B8"
LOCATOR_OTHER = "#E8E8E8"
INSET_FRAME = "#9E9E9E"  # the frames of the maps' insets
TERRITOIRE_FILL = "rgba(123, 50, 148, 0.28)"  # a Territoire d'industrie over its départements (EXPORTS, light)

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


def sequential(count: int) -> list[str]:
    """`count` colours of the sequential map scale, light to dark (evenly taken from cividis)."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    scale = [[i / (len(CIVIDIS_LIGHT_TO_DARK) - 1), c] for i, c in enumerate(CIVIDIS_LIGHT_TO_DARK)]
    if count == 1:
        return [CIVIDIS_LIGHT_TO_DARK[-1]]
    colours = sample_colorscale(scale, [i / (count - 1) for i in range(count)])
    return ["#" + "".join(f"{round(v):02X}" for v in unlabel_rgb(c)) for c in colours]
