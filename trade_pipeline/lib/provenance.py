"""Where the figures come from, as every output says it: the DGDDI attribution and the label of
the synthetic sample (shown wherever its figures are: store metadata, run logs, fiches, charts)."""

from __future__ import annotations

import re
from pathlib import Path

#: Licence Ouverte 2.0 requires the source to be named wherever the data is shown.
ATTRIBUTION = ("Source : DGDDI – Département des statistiques et des études du commerce extérieur "
               "(Licence Ouverte / Open Licence 2.0)")

#: The embedded sample's rows are invented: everything derived from them says so.
SYNTHETIC_LABEL = "données fictives de démonstration"

#: The banner of a fiche or index built from the sample.
SYNTHETIC_BANNER = (f"{SYNTHETIC_LABEL.capitalize()} : ces chiffres sont inventés (échantillon synthétique au "
                    "format DGDDI), sauf les totaux 2024 de l'Hérault, de l'Occitanie et de la France.")


def source_line(year: int, synthetic: bool, compact: bool = False, since: int | None = None) -> str:
    """The source note under a chart: the years it shows (`since`–`year` for a series)."""
    years = f"{since}–{year}" if since is not None and since != year else str(year)
    if compact:
        return f"Source : DGDDI{' (fictif)' if synthetic else ''} · {years}"
    source = "Source : DGDDI" + (f" — {SYNTHETIC_LABEL}" if synthetic else "")
    return f"{source} · {years} · exportations FAB, importations CAF, hors matériel militaire"


#: The `<meta>` of a fiche's head that names the publication its figures come from.
PUBLICATION_META = "trade-pipeline-publication"
_CITED = re.compile(rf'<meta name="{PUBLICATION_META}" content="([^"]*)"'.encode())
#: A fiche's head is written first: its citation is within these bytes.
_HEAD_BYTES = 2048


def cited_publications(fiches_dir: Path) -> set[str]:
    """The publications the fiches on disk cite (read from each page's head): they must stay
    in published/history/ while a fiche names them."""
    cited = set()
    for page in fiches_dir.glob("*/[!.]*.html"):
        with open(page, "rb") as handle:
            if match := _CITED.search(handle.read(_HEAD_BYTES)):
                cited.add(match.group(1).decode())
    cited.discard("")
    return cited
