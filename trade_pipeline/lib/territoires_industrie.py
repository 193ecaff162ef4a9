"""The Territoires d'industrie: the national programme's 183 territories (phase 2023–2027), the
DGDDI départements each lies in with the share of its area, and their member groupements.

Derived by `scripts/reference_geography.py` from the ANCT's open data (Licence Ouverte 2.0) into
`reference/territoires_industrie*.csv`. DGDDI's finest level is the département: a Territoire
d'industrie is read through the fiches of its départements, which is what the programme itself
advises for the territories spanning several."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from trade_pipeline.lib.territories import Territory, territory, territory_key

PHASE = "2023-2027"
#: What every use of these tables cites (the licence asks for the source and its date).
ATTRIBUTION = ("Territoires d'industrie : ANCT, programme Territoires d'industrie, liste et contours au 16 septembre "
               "2024 (Licence Ouverte 2.0) ; parts de surface calculées par trade_pipeline")
#: The programme's own advice, quoted by its fiches.
ADVICE = ("Les données douanières ne sont pas disponibles à un niveau plus fin que le département : « pour les "
          "territoires interdépartementaux, il est recommandé de consulter les fiches des différents départements "
          "concernés ».")
FOLDER = "territoires-industrie"


@dataclass(frozen=True)
class DepartementShare:
    departement: Territory
    share: float  # of the Territoire d'industrie's area


@dataclass(frozen=True)
class TerritoireIndustrie:
    phase: str
    id: str  # ti-7604
    name: str
    departements: tuple[DepartementShare, ...]  # largest share first
    groupements: tuple[tuple[str, str], ...]  # (name, SIREN)

    @property
    def page(self) -> str:
        """Its page's file name in a year's `territoires-industrie/` folder."""
        return f"{self.id}.html"


def _csv(name: str) -> pd.DataFrame:
    path = resources.files("trade_pipeline") / "reference" / name
    return pd.read_csv(io.BytesIO(path.read_bytes()), sep=";", dtype=str, keep_default_na=False)


def shares_frame() -> pd.DataFrame:
    """The published `territoires_industrie` table (phase, id, name, DGDDI and INSEE départements, share)."""
    return _csv("territoires_industrie.csv").astype({"part_surface": "float64"})


def groupements_frame() -> pd.DataFrame:
    """The published `territoires_industrie_groupements` table (phase, id, groupement, SIREN)."""
    return _csv("territoires_industrie_groupements.csv")


@lru_cache(maxsize=1)
def territoires_industrie() -> tuple[TerritoireIndustrie, ...]:
    """The Territoires d'industrie of the current phase, by id."""
    shares, members = shares_frame(), groupements_frame()
    result = []
    for (phase, identifier), rows in shares.groupby(["phase", "id_territoire"], sort=True):
        listed = members[(members["phase"] == phase) & (members["id_territoire"] == identifier)]
        result.append(TerritoireIndustrie(
            phase=phase, id=identifier, name=rows["territoire"].iloc[0],
            departements=tuple(DepartementShare(territory(territory_key("departement", row.departement)),
                                                float(row.part_surface))
                               for row in rows.sort_values("part_surface", ascending=False).itertuples()),
            groupements=tuple(zip(listed["groupement"], listed["siren"], strict=True))))
    return tuple(result)


def of_departement(code: str) -> list[TerritoireIndustrie]:
    """The Territoires d'industrie lying (in part) in a DGDDI département, by name."""
    return sorted((ti for ti in territoires_industrie() if any(d.departement.code == code for d in ti.departements)),
                  key=lambda ti: ti.name)
