"""The territories of the fiches: France, the 14 DGDDI régions, the 101 DGDDI départements.

A territory is identified by a key, `<level>-<code>` (`departement-34`, `region-12`,
`france-FR`), used in partition keys, file names and URLs: `territory_key` builds one,
`parse_territory_key` reads one; nothing else spells or splits them. The reference table
(`reference/territories.csv`) gives names, the INSEE codes and each département's DGDDI région,
and the gender and number of each name: a territory says its name in a sentence itself —
« l'Hérault exporte », « les Bouches-du-Rhône exportent », « de La Réunion », « du Nord » — and
every sentence of the fiches builds it here (`the`, `subject`, `of`, `verb`, `agree`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import pandas as pd

FRANCE_CODE = "FR"
TerritoryLevel = Literal["departement", "region", "france"]
TERRITORY_LEVELS: tuple[TerritoryLevel, ...] = ("france", "region", "departement")


def territory_key(level: str, code: str) -> str:
    """Stable identifier of a territory, used in partition keys and file names: `departement-34`."""
    return f"{level}-{code}"


def parse_territory_key(key: str) -> tuple[TerritoryLevel, str]:
    """`departement-34` → ('departement', '34'); anything else is refused."""
    level, _, code = key.partition("-")
    if level not in TERRITORY_LEVELS or not code:
        raise ValueError(f"not a territory key: {key!r}")
    return level, code  # type: ignore[return-value]


FRANCE_KEY = territory_key("france", FRANCE_CODE)


@dataclass(frozen=True)
class Territory:
    level: TerritoryLevel
    code: str
    name: str
    name_with_article: str
    insee_code: str | None
    insee_region_code: str | None
    parent_region_code: str | None
    #: The gender and number of the name, for the words that agree with it: m, f, mp, fp.
    grammar: str = "m"

    @property
    def plural(self) -> bool:
        return self.grammar.endswith("p")

    @property
    def feminine(self) -> bool:
        return self.grammar.startswith("f")

    @property
    def the(self) -> str:
        """The name inside a sentence: « l'Hérault », « les Yvelines », « Paris », « La Réunion »."""
        return self.name_with_article

    @property
    def subject(self) -> str:
        """The name at the start of a sentence: « L'Hérault », « Les Yvelines », « Paris »."""
        return self.the[:1].upper() + self.the[1:]

    @property
    def of(self) -> str:
        """« de » and the name, contracted: « de l'Hérault », « du Nord », « des Yvelines », « de la
        Corse », « de Paris », « de La Réunion » (an article that is part of the name stays)."""
        the = self.the
        if the.startswith("le "):
            return "du " + the[3:]
        if the.startswith("les "):
            return "des " + the[4:]
        if the.startswith(("la ", "l'")) or the[:1].isupper() and the.startswith(("La ", "Le ", "Les ")):
            return "de " + the
        return ("d'" if the[:1].lower() in "aeiouyéèêâîôh" else "de ") + the

    @property
    def possessive(self) -> str:
        """Its, before a plural noun: « ses exportations », « leurs exportations »."""
        return "leurs" if self.plural else "ses"

    def its(self, noun: str, feminine: bool) -> str:
        """Its, before a singular noun: « sa région », « son excédent », « leur région »."""
        if self.plural:
            return f"leur {noun}"
        return f"{'sa' if feminine and noun[:1].lower() not in 'aeiouyéèêâîôh' else 'son'} {noun}"

    def verb(self, singular: str, plural: str) -> str:
        """The form of a verb that agrees with the name: `verb("exporte", "exportent")`."""
        return plural if self.plural else singular

    def agree(self, masculine: str, feminine: str, masculine_plural: str, feminine_plural: str) -> str:
        """The form of a participle or adjective that agrees with the name (« mis », « mise », …)."""
        if self.plural:
            return feminine_plural if self.feminine else masculine_plural
        return feminine if self.feminine else masculine

    @property
    def key(self) -> str:
        return territory_key(self.level, self.code)

    @property
    def region_key(self) -> str | None:
        """The key of a département's région (None for régions and France)."""
        return territory_key("region", self.parent_region_code) if self.parent_region_code else None

    @property
    def comparison_keys(self) -> list[str]:
        """The territories a fiche compares this one with: its région and France."""
        if self.level == "departement":
            return [self.region_key, FRANCE_KEY]  # type: ignore[list-item]
        return [FRANCE_KEY] if self.level == "region" else []


@lru_cache(maxsize=1)
def territories() -> tuple[Territory, ...]:
    """France, the 14 DGDDI régions and the 101 DGDDI départements, in that order."""
    path = resources.files("trade_pipeline") / "reference" / "territories.csv"
    frame = pd.read_csv(io.BytesIO(path.read_bytes()), sep=";", dtype=str, keep_default_na=False)
    result = []
    for row in frame.itertuples(index=False):
        result.append(Territory(
            level=row.level, code=row.code, name=row.name, name_with_article=row.name_with_article,
            insee_code=row.insee_code or None, insee_region_code=row.insee_region_code or None,
            parent_region_code=row.parent_region_code or None, grammar=row.grammar,
        ))
    return tuple(result)


def territory(key: str) -> Territory:
    return _territories_by_key()[key]


@lru_cache(maxsize=1)
def _territories_by_key() -> dict[str, Territory]:
    return {t.key: t for t in territories()}


def territory_keys() -> list[str]:
    return [t.key for t in territories()]


def department_codes() -> list[str]:
    return [t.code for t in territories() if t.level == "departement"]


def region_codes() -> list[str]:
    return [t.code for t in territories() if t.level == "region"]


def department_scope(codes: list[str]) -> list[str]:
    """The territories a build of some départements covers: France, their régions and them."""
    keys = [FRANCE_KEY]
    for code in codes:
        key = territory_key("departement", code)
        if key not in _territories_by_key():
            raise ValueError(f"unknown département code {code!r} (DGDDI codes: 01–95, 20, 9A–9E, 99)")
        keys += [territory(key).region_key, key]
    return list(dict.fromkeys(keys))


def territories_frame() -> pd.DataFrame:
    """The published `territories` table: level, code, name, insee_code, parent_region_code, …"""
    return pd.DataFrame(
        [(t.level, t.code, t.name, t.insee_code, t.parent_region_code, t.insee_region_code, t.name_with_article)
         for t in territories()],
        columns=["level", "code", "name", "insee_code", "parent_region_code", "insee_region_code", "name_with_article"],
    )
