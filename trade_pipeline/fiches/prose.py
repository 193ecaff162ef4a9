"""What the fiche says in words about a territory: its introduction, the totals box, the exposure
table with France's value and the rank, where the territory stands out, the United States in two
sentences. Every number through the one French formatter; every name of the territory through
its own grammar (lib/territories.py)."""

from __future__ import annotations

import math

import pandas as pd

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts.united_states import united_states_figures
from trade_pipeline.lib import french
from trade_pipeline.lib.territories import ranked_count, territory


def introduction(data: TerritoryData) -> str:
    """What the fiche shows, where its data come from and their limits, and why now — written for
    the territory, as the national fiche's opening paragraph."""
    t = data.territory
    known = data.series.dropna(subset=["exports_eur"]) if data.series is not None else None
    first = int(known["year"].min()) if known is not None and len(known) else data.year
    since = f", leur évolution depuis {first}" if first < data.year else ""
    return (f"Cette fiche présente les échanges de marchandises {t.of} avec l'étranger en {data.year} : "
            f"exportations, importations et solde{since}, principaux partenaires et activités, flux entre "
            "produits et pays, place des États-Unis. Les chiffres sont ceux des douanes (DGDDI) : une "
            "marchandise est comptée dans le département d'où elle est expédiée ou où elle est livrée, pas "
            "forcément là où elle est produite ; un port ou une plateforme logistique grossit ainsi les "
            "échanges de son département. Face aux tensions commerciales et aux menaces de hausse des droits "
            f"de douane américains, elle aide à voir de quels clients, fournisseurs et produits {t.the} "
            f"{t.verb('dépend', 'dépendent')}.")


def _share_line(share: float | None, what: str, of_whom: str) -> str | None:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return None
    return f"soit {french.pct(share)} de la valeur {what} {of_whom}"


def _change_line(now: float, before: float | None) -> str | None:
    if before is None or (isinstance(before, float) and math.isnan(before)) or not before:
        return None
    return f"sur un an : {french.signed_pct((now - before) / before)} ({french.signed_eur(now - before)})"


def totals_boxes(data: TerritoryData) -> list[dict]:
    totals, t = data.totals, data.territory
    region = territory(t.region_key) if t.region_key else None
    boxes = []
    for flow, key, label, what in (("E", "exports", "Exportations", "exportée"),
                                   ("I", "imports", "Importations", "importée")):
        details = [
            _share_line(totals.get(f"{key}_share_of_region"), what, f"par {region.the}") if region else None,
            _share_line(totals.get(f"{key}_share_of_france"), what, "au niveau national"),
            _change_line(totals[f"{key}_eur"], (data.previous or {}).get(flow)),
        ]
        if t.level == "france":
            details.insert(0, "somme de tous les départements (base CAF/FAB)")
        boxes.append({"kind": key, "label": label, "value": french.headline(totals[f"{key}_eur"]),
                      "sign_class": "", "details": [d for d in details if d]})
    balance, excl = totals["balance_eur"], totals["balance_excl_energy_eur"]
    mark = "▲" if balance >= 0 else "▼"
    boxes.append({"kind": "balance", "label": "Solde commercial", "sign_class": "surplus" if balance >= 0 else "deficit",
                  "value": f"{mark} {french.signed_headline(balance)}",
                  "details": [f"hors énergie : {french.signed_headline(excl)}",
                              f"{'excédent' if balance >= 0 else 'déficit'} (exportations FAB − importations CAF)"]})
    boxes.append({"kind": "diversity", "label": "Diversité des exportations", "sign_class": "",
                  "value": f"{int(totals['exported_products'])} produits",
                  "details": [f"exportés (CPF4) vers {int(totals['export_destinations'])} pays et territoires"]})
    return boxes


#: Herfindahl index thresholds of the words « faible / modérée / forte » (usual in competition
#: analysis; explained in the fiche's « Définitions », fiches/notes.py).
HHI_MODERATE, HHI_HIGH = 0.15, 0.25


def _hhi_words(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    level = "faible" if value < HHI_MODERATE else "modérée" if value < HHI_HIGH else "forte"
    return f"{french.number(value, 2)} ({level})"


#: The exposure indicators as the fiche names them (a noun phrase: it also reads in a sentence).
INDICATOR_LABELS = {
    "exports_share_united_states": "Part des exportations vers les États-Unis",
    "exports_share_eu": "Part des exportations vers l'Union européenne",
    "exports_share_china": "Part des exportations vers la Chine",
    "exports_first_partner_share": "Premier client",
    "exports_first_product_share": "Premier produit exporté (A129)",
    "imports_first_partner_share": "Premier fournisseur",
    "exports_partner_hhi": "Concentration des clients (indice de Herfindahl)",
    "exports_product_hhi": "Concentration des produits exportés",
    "energy_share_of_imports": "Part de l'énergie dans les importations",
}
#: The indicators a « stands out » sentence may name (shares of a flow, read as such).
_COMPARED_SHARES = ("exports_share_united_states", "exports_share_eu", "exports_share_china", "energy_share_of_imports")
#: How far from France's value an indicator must be for the sentence to name it (ratio).
STANDS_OUT = 1.25
_LEVEL_WORDS = {"departement": "départements", "region": "régions"}


def _rank_text(rank: object, among: object, level: str) -> str:
    if level == "france" or rank is None or pd.isna(rank):
        return "–"
    rank = int(rank)
    return f"{rank}{'er' if rank == 1 and level == 'departement' else 're' if rank == 1 else 'e'} sur {int(among)}"


def exposure_items(data: TerritoryData) -> list[dict]:
    """The exposure table: each indicator, France's value and the territory's rank (when every
    territory of its level is in the store — a rank among a few would mislead)."""
    e, level = data.exposure, data.territory.level
    compared = data.comparison if data.comparison is not None else pd.DataFrame()
    # Monaco is never ranked (lib/territories.py): its ranks are « – » like a partial year's.
    complete = (data.territory.ranked and len(compared) > 0 and compared["ranked_among"].notna().any()
                and int(compared["ranked_among"].max()) == ranked_count(level))

    def partner(code: str | None) -> str:
        match = data.partners[data.partners["country_code"] == code]
        return match["short"].iloc[0] if len(match) else (code or "–")

    def product(code: str | None, flow: str) -> str:
        match = data.products[(data.products["product_code"] == code) & (data.products["flow"] == flow)]
        return match["short"].iloc[0] if len(match) else (code or "–")

    shown = {
        "exports_first_partner_share": lambda v: f"{partner(e['exports_first_partner_code'])} ({french.pct(v)})",
        "exports_first_product_share": lambda v: f"{product(e['exports_first_product_code'], 'E')} ({french.pct(v)})",
        "imports_first_partner_share": lambda v: f"{partner(e['imports_first_partner_code'])} ({french.pct(v)})",
        "exports_partner_hhi": _hhi_words, "exports_product_hhi": _hhi_words,
    }
    france = data.france or {}

    def named(what: str):  # noqa: ANN202 — France's first partner (product) and its share
        return lambda v: f"{france.get(f'{what}_short') or '–'} ({french.pct(v)})"

    france_shown = {
        "exports_first_partner_share": named("exports_first_partner"),
        "exports_first_product_share": named("exports_first_product"),
        "imports_first_partner_share": named("imports_first_partner"),
        "exports_partner_hhi": _hhi_words, "exports_product_hhi": _hhi_words,
    }
    items = []
    for indicator, label in INDICATOR_LABELS.items():
        row = compared.loc[indicator] if indicator in compared.index else None
        formatter = shown.get(indicator, french.pct)
        france_formatter = france_shown.get(indicator, french.pct)
        items.append({
            "indicator": indicator, "label": label, "value": formatter(e[indicator]),
            "france": france_formatter(row["france_value"]) if row is not None else "–",
            "rank": _rank_text(row["rank"], row["ranked_among"], level) if row is not None and complete else "–",
        })
    return items


def exposure_notes(data: TerritoryData) -> list[str]:
    """Under the exposure table: where the territory stands out from France, and why ranks may be
    missing."""
    level = data.territory.level
    if level == "france" or data.comparison is None or data.comparison.empty:
        return []
    compared = data.comparison
    notes = []
    present = int(compared["ranked_among"].max()) if compared["ranked_among"].notna().any() else 0
    expected = ranked_count(level)
    if data.territory.ranked and present != expected:
        notes.append(f"Rangs non calculés : seul{'s' if present > 1 else ''} {present} "
                     f"{_LEVEL_WORDS[level] if present > 1 else _LEVEL_WORDS[level][:-1]} sur {expected} "
                     f"{'sont' if present > 1 else 'est'} dans la base pour {data.year}.")
    far = []
    for indicator in _COMPARED_SHARES:
        if indicator not in compared.index:
            continue
        value, france = compared.loc[indicator, "value"], compared.loc[indicator, "france_value"]
        if pd.isna(value) or pd.isna(france) or value <= 0 or france <= 0:
            continue
        ratio = float(value) / float(france)
        if ratio >= STANDS_OUT or ratio <= 1 / STANDS_OUT:
            far.append((abs(math.log(ratio)), indicator, float(value), float(france), ratio > 1))
    territory = data.territory
    if not far:
        notes.append(f"{territory.subject} {territory.verb('a', 'ont')} un profil d'échanges proche de celui de la "
                     "France sur ces indicateurs.")
        return notes
    phrases = [f"une {INDICATOR_LABELS[indicator][0].lower() + INDICATOR_LABELS[indicator][1:]} "
               f"{'plus élevée' if higher else 'plus faible'} ({french.pct(value)} contre {french.pct(france)})"
               for _, indicator, value, france, higher in sorted(far, reverse=True)[:2]]
    notes.append(f"Par rapport à la France, {territory.the} {territory.verb('se distingue', 'se distinguent')} par "
                 f"{' et '.join(phrases)}.")
    return notes


def united_states_lead(data: TerritoryData) -> str:
    """The key figures of the United States focus, both ways, in two sentences."""
    figures = united_states_figures(data)
    compare = data.territory.level != "france"
    sentences = []
    for flow, mine in (("E", figures.exports), ("I", figures.imports)):
        what = "Exportations vers les États-Unis" if flow == "E" else "Importations depuis les États-Unis"
        if not mine.value_eur:
            sentences.append(f"Aucune {'exportation vers' if flow == 'E' else 'importation depuis'} les États-Unis.")
            continue
        text = (f"{what} : {french.headline(mine.value_eur)}, soit {french.pct(mine.share)} des "
                f"{'exportations' if flow == 'E' else 'importations'}")
        if compare and mine.france_share is not None:
            text += f" (France : {french.pct(mine.france_share)})"
        if mine.change_eur is not None:
            text += f" ; sur un an : {french.signed_pct(mine.change_pct)} ({french.signed_eur(mine.change_eur)})"
        sentences.append(text + ".")
    return " ".join(sentences)
