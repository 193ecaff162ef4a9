"""The one French formatter: amounts, percentages, signed changes, dates. (A territory's name in a
sentence — article, contraction, agreement — is said by the territory itself: lib/territories.py.)

Typography: decimal comma, narrow no-break space (U+202F) between thousands and before « % » and
units, true minus sign (U+2212). Numbers are formatted here, in Python, and handed to plotly as
text: plotly's d3 formats ignore the French locale in places (plotly.js #1264, #3580, #841).
"""

from __future__ import annotations

import math
from datetime import date

NNBSP = "\u202f"  # espace fine insécable
MINUS = "\u2212"


def number(value: float, decimals: int = 0) -> str:
    """« 2 674,2 »: thousands grouped by a narrow no-break space, decimal comma, true minus."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{abs(value):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    if text.strip(f"0,{NNBSP}") == "":  # rounds to zero: no sign
        return text
    return (MINUS if value < 0 else "") + text


def meur(value: float, decimals: int = 1) -> str:
    """Euros as millions, always: « 2 674,2 M€ » (headline totals, as in the national fiche)."""
    return f"{number(value / 1e6, decimals)}{NNBSP}M€"


def eur(value: float) -> str:
    """Euros in the most readable unit: « 12,3 Md€ », « 456,7 M€ », « 850 k€ », « 120 € »."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    # Thresholds on the value as it would be printed: 999 999 € is « 1,0 M€ », not « 1 000 k€ ».
    if round(magnitude / 1e6, 1) >= 1000:
        return f"{number(value / 1e9, 1)}{NNBSP}Md€"
    if round(magnitude / 1e3) >= 1000:
        return f"{number(value / 1e6, 1)}{NNBSP}M€"
    if round(magnitude) >= 1000:
        return f"{number(value / 1e3, 0)}{NNBSP}k€"
    return f"{number(value, 0)}{NNBSP}€"


def headline(value: float) -> str:
    """Totals as the national fiche prints them (« 2 674,2 M€ »), small amounts readably."""
    return meur(value) if abs(value) >= 1e6 else eur(value)


def signed_eur(value: float) -> str:
    """« +190,0 M€ », « −300,0 M€ », « 0 € »: the sign is always written."""
    text = eur(value)
    return f"+{text}" if value and not text.startswith(MINUS) and text != eur(0) else text


def pct(share: float | None, decimals: int | None = None) -> str:
    """A fraction as a percentage: 0.054 → « 5,4 % »; below 1 % two decimals (« 0,46 % »)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    value = share * 100
    if decimals is None:
        decimals = 2 if 0 < abs(value) < 1 else 1
    return f"{number(value, decimals)}{NNBSP}%"


def signed_headline(value: float) -> str:
    """A balance as the totals beside it (« −2 144,5 M€ », « +12,0 M€ »): the sign always written."""
    text = headline(value)
    return f"+{text}" if value and not text.startswith(MINUS) and text != headline(0) else text


def signed_pct(share: float | None, decimals: int | None = None) -> str:
    """« +25,0 % », « −3,1 % »."""
    text = pct(share, decimals)
    return f"+{text}" if share and not text.startswith((MINUS, "–")) and number(share * 100, 1) != "0,0" else text


def points(value: float | None) -> str:
    """Percentage points: « +2,3 pts »."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = number(value, 1)
    return f"{text if text.startswith(MINUS) or value == 0 else '+' + text}{NNBSP}pt{'s' if abs(value) >= 2 else ''}"


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def long_date(day: date) -> str:
    """« 1er mars 2026 », « 15 mars 2026 »."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def quarter(year: int, number: int) -> str:
    """« T3 2025 »: a quarter, as DGDDI's own notes write it."""
    return f"T{number}{NNBSP}{year}"


def quarter_span(first_year: int, first_quarter: int, last_year: int, last_quarter: int) -> str:
    """« T1–T3 2025 », « T4 2024 – T3 2025 », « T3 2025 »: the quarters of a period."""
    if (first_year, first_quarter) == (last_year, last_quarter):
        return quarter(last_year, last_quarter)
    if first_year == last_year:
        return f"T{first_quarter}–T{last_quarter}{NNBSP}{last_year}"
    return f"{quarter(first_year, first_quarter)} – {quarter(last_year, last_quarter)}"


def month(yyyymm: str) -> str:
    """« décembre 2025 » for a vintage `202512`."""
    return f"{MONTHS[int(yyyymm[4:]) - 1]} {yyyymm[:4]}"
