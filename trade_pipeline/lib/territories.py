"""The territories of the fiches: France, the 14 DGDDI régions, the 101 DGDDI départements.

DGDDI's list is not INSEE's, and a reader knows INSEE's: DGDDI's `20` is Corsica whole (INSEE 2A
and 2B), its `9A`–`9E` are the five DROM (INSEE 971–976), each a région of its own for INSEE but
gathered by DGDDI in one « région » `24` (its `kind` is `aggregate`), and its `99` is the
Principality of Monaco (`principality`), a foreign State inside the French customs territory that
DGDDI lists beside the départements: it has its fiche, but is never ranked nor counted among them.

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
    #: "" (a département, a région, France), `overseas` (a DROM), `aggregate` (DGDDI's « DOM »
    #: région), `principality` (Monaco).
    kind: str = ""
    #: A DROM's own région (INSEE), which DGDDI does not have: « Guadeloupe ».
    own_region_name: str | None = None
    #: Other names a reader may look for it by: INSEE's (« Corse-du-Sud, Haute-Corse »), « DOM »…
    other_names: tuple[str, ...] = ()

    @property
    def insee_codes(self) -> tuple[str, ...]:
        """The INSEE codes this DGDDI territory covers: ('34',), ('2A', '2B') for Corsica, ('971',)."""
        return tuple(self.insee_code.split(",")) if self.insee_code else ()

    @property
    def ranked(self) -> bool:
        """Counted and ranked among the territories of its level (Monaco is not a département)."""
        return self.level != "france" and self.kind != "principality"

    @property
    def kind_label(self) -> str:
        """What the territory is, as a fiche's subtitle says it: « Département », « Principauté »…"""
        return {"principality": "Principauté", "aggregate": "Ensemble de départements (DGDDI)",
                "overseas": "Département et région d'outre-mer"}.get(
            self.kind, {"departement": "Département", "region": "Région", "france": "France entière"}[self.level])

    @property
    def codes_line(self) -> str | None:
        """Its codes as a reader looks for them, INSEE's beside DGDDI's where they differ:
        « code 34 », « code DGDDI 20 (INSEE 2A et 2B) », « code INSEE 76 (DGDDI 12) »."""
        insee = " et ".join(self.insee_codes)
        if self.level == "france":
            return None
        if self.level == "region" and self.kind != "aggregate":
            return f"code INSEE {insee} (DGDDI {self.code})" if insee != self.code else f"code {self.code}"
        if insee == self.code:
            return f"code {self.code}"
        return f"code DGDDI {self.code}" + (f" (INSEE {insee})" if insee and self.kind != "aggregate" else "")

    @property
    def description(self) -> str | None:
        """What a territory that is not plainly a département or a région is, in a sentence."""
        if self.kind == "principality":
            return ("La Principauté de Monaco est un État étranger inclus dans le territoire douanier français : la "
                    "DGDDI publie ses échanges à part, sous le code 99, à côté des départements. Elle a sa fiche, "
                    "mais n'est ni classée ni comptée parmi les départements.")
        if self.kind == "aggregate":
            return ("Ensemble défini par la DGDDI, qui range les cinq départements et régions d'outre-mer "
                    "(Guadeloupe, Martinique, Guyane, La Réunion, Mayotte) dans une même « région » de code 24 : "
                    "ce n'est pas une région administrative. Chacun a sa propre fiche.")
        return None

    @property
    def region_name(self) -> str | None:
        """The région a reader names it by: its own for a DROM (« Guadeloupe »), else its DGDDI
        région (None for a région, France and Monaco)."""
        if self.own_region_name:
            return self.own_region_name
        if self.kind == "principality" or not self.parent_region_code:
            return None
        return territory(territory_key("region", self.parent_region_code)).name

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
            parent_region_code=row.parent_region_code or None, grammar=row.grammar, kind=row.kind,
            own_region_name=row.own_region_name or None,
            other_names=tuple(name.strip() for name in row.other_names.split(",") if name.strip()),
        ))
    return tuple(result)


def territory(key: str) -> Territory:
    return _territories_by_key()[key]


@lru_cache(maxsize=1)
def _territories_by_key() -> dict[str, Territory]:
    return {t.key: t for t in territories()}


def territory_keys() -> list[str]:
    return [t.key for t in territories()]


def ranked_count(level: str) -> int:
    """How many territories of a level a rank is among: the départements without Monaco."""
    return sum(1 for t in territories() if t.level == level and t.ranked)


def among_words(level: str) -> str:
    """« parmi les 100 départements », « parmi les 14 régions » ("" for France)."""
    if level == "france":
        return ""
    return f"parmi les {ranked_count(level)} {'départements' if level == 'departement' else 'régions'}"


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
        [(t.level, t.code, t.name, t.insee_code, t.parent_region_code, t.insee_region_code, t.name_with_article,
          t.kind or None, t.ranked, t.region_name)
         for t in territories()],
        columns=["level", "code", "name", "insee_code", "parent_region_code", "insee_region_code", "name_with_article",
                 "kind", "ranked", "region_name"],
    )


def insee_codes_frame() -> pd.DataFrame:
    """The published `territory_insee_codes` table: one row per (DGDDI territory, INSEE code), to
    join with INSEE data (Corsica `20` → 2A and 2B; the DOM aggregate `24` → the five DROM régions)."""
    return pd.DataFrame([(t.level, t.code, insee) for t in territories() for insee in t.insee_codes],
                        columns=["level", "code", "insee_code"])
