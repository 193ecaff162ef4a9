"""The model of the synthetic sample: how much each département, product and partner trades in
each year, drawn from a fixed seed. The 2024 totals are calibrated on the published figures of
the national fiche (Hérault, Occitanie, France), exactly at 0.1 M€; around them, a ten-year
story (a trend, the 2020 fall, the 2022 energy prices, Russia fading, Vietnam and India rising).
The files in DGDDI's format are written by sample.py.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from trade_pipeline.lib.nomenclature import ENERGY_A129_CODES, a129_for_cpf4, packaged_reference, valid_during
from trade_pipeline.settings import SAMPLE_LATEST_VINTAGES, SAMPLE_YEARS
from trade_pipeline.tables import FILE_COLUMNS

SEED = 20_250_201
#: Rows per flow and year at scale 1 (the issue asks for at least 100 000).
BASE_ROWS_PER_FLOW = 110_000

#: Published 2024 totals (national fiche, in euros): the sample reproduces them exactly.
PUBLISHED_2024_TOTALS = {
    "france": {"E": 580_354_500_000, "I": 684_776_300_000},
    "region-12": {"E": 49_453_900_000, "I": 37_655_400_000},
    "departement-34": {"E": 2_674_200_000, "I": 4_818_700_000},
}
OCCITANIE = "12"
HERAULT = "34"

#: Level of national trade relative to 2024, shaped like France's customs totals: a slow rise,
#: the 2020 fall (−16 % in exports), the 2021 rebound, 2022's energy prices inflating imports.
_YEAR_LEVEL = {
    "E": {2015: 0.772, 2016: 0.766, 2017: 0.800, 2018: 0.830, 2019: 0.860, 2020: 0.724, 2021: 0.845,
          2022: 0.955, 2023: 0.992, 2024: 1.0},
    "I": {2015: 0.738, 2016: 0.735, 2017: 0.785, 2018: 0.812, 2019: 0.830, 2020: 0.722, 2021: 0.858,
          2022: 1.085, 2023: 1.015, 2024: 1.0},
}
#: Occitanie's exports fell harder in 2020–2021 (aircraft deliveries), relative to France's.
_OCCITANIE_EXPORT_LEVEL = {2020: 0.80, 2021: 0.84, 2022: 0.93}
#: Hérault grows faster than France (per year, relative to 2024), so its share rises over the decade.
_HERAULT_GROWTH = {"E": 0.025, "I": 0.015}
#: Spread of the yearly growth of the other départements relative to France (some grow, some shrink).
_DEPARTMENT_GROWTH_SPREAD = 0.035

#: How the weight of some products moved (multipliers relative to 2024): energy imports follow
#: oil and gas prices (the 2022 jump), aircraft deliveries collapsed in 2020.
_PRODUCT_HISTORY = {
    ("I", "energy"): {2015: 0.75, 2016: 0.60, 2017: 0.70, 2018: 0.85, 2019: 0.80, 2020: 0.50, 2021: 0.80,
                      2022: 1.45, 2023: 1.15},
    ("E", "C30C"): {2020: 0.55, 2021: 0.60, 2022: 0.75, 2023: 0.90},
    ("I", "C30C"): {2020: 0.65, 2021: 0.70, 2022: 0.85},
}


def _through(last: int, value: float) -> dict[int, float]:
    """The same multiplier for every sample year up to `last`."""
    return {y: value for y in range(2015, last + 1)}


#: Partners that come and go (weight multipliers relative to 2024, per flow; « energy » for the
#: energy suppliers of imports): Russia fades after 2022, the United Kingdom after Brexit,
#: Vietnam and India rise, China's imports and US exports grow steadily.
_PARTNER_HISTORY: dict[str, dict[str, dict[int, float]]] = {
    "RU": {"E": {**_through(2021, 15.0), 2022: 4.0, 2023: 1.5},
           "I": {**_through(2021, 20.0), 2022: 8.0, 2023: 2.0},
           "energy": {**_through(2021, 400.0), 2022: 150.0, 2023: 10.0}},
    "GB": {"E": {**_through(2020, 1.25), 2021: 1.05}, "I": {**_through(2020, 1.35), 2021: 1.0}},
    "VN": {"I": {y: 1.14 ** (y - 2024) for y in range(2015, 2024)}, "E": {y: 1.08 ** (y - 2024) for y in range(2015, 2024)}},
    "IN": {"I": {y: 1.08 ** (y - 2024) for y in range(2015, 2024)}, "E": {y: 1.07 ** (y - 2024) for y in range(2015, 2024)}},
    "CN": {"I": {y: 1.03 ** (y - 2024) for y in range(2015, 2024)}},
    "US": {"E": {y: 1.03 ** (y - 2024) for y in range(2015, 2024)}},
}

#: Rough size of the main départements (billions of euros: exports, imports) so that the picture
#: looks like France: aircraft in Toulouse, energy in ports and, by DGDDI convention, in Paris.
_DEPARTMENT_SIZE = {
    "31": (38.0, 20.0), "13": (18.0, 36.0), "59": (28.0, 38.0), "69": (20.0, 22.0), "75": (25.0, 46.0),
    "92": (22.0, 28.0), "76": (17.0, 26.0), "67": (13.0, 14.0), "68": (9.0, 8.0), "57": (10.0, 11.0),
    "44": (12.0, 18.0), "33": (9.0, 8.0), "38": (10.0, 8.0), "78": (14.0, 15.0), "91": (9.0, 14.0),
    "94": (9.0, 14.0), "93": (8.0, 14.0), "95": (11.0, 17.0), "77": (9.0, 14.0), "62": (8.0, 8.0),
    "60": (8.0, 9.0), "51": (9.0, 4.0), "45": (7.0, 9.0), "63": (5.0, 4.0), "64": (5.0, 4.0),
    "35": (5.0, 5.0), "01": (6.0, 6.0), "74": (6.0, 5.0), "42": (4.0, 4.0), "25": (6.0, 4.0),
    "90": (3.0, 2.0), "06": (3.0, 4.0), "83": (2.0, 3.0), "28": (4.0, 3.5), "30": (2.5, 3.0),
    "66": (1.5, 3.5), "81": (1.2, 1.0), "65": (0.9, 0.6), "11": (0.8, 1.0), "12": (0.7, 0.5),
    "82": (0.6, 0.8), "32": (0.4, 0.4), "09": (0.25, 0.2), "46": (0.25, 0.2), "48": (0.08, 0.06),
    "20": (0.2, 0.6), "99": (0.5, 0.8), "9A": (0.3, 3.0), "9B": (0.3, 3.0), "9C": (0.9, 1.8),
    "9D": (0.4, 5.5), "9E": (0.03, 0.7),
}

#: Specialisations: share of a département's flow taken by some A129 positions (export, import).
_SPECIALISATION = {
    "31": ({"C30C": 0.70}, {"C30C": 0.40}),
    "64": ({"C30C": 0.30}, {"C30C": 0.15}),
    "13": ({"C30C": 0.12, "C19Z": 0.12, "C20A": 0.12}, {"B06Z": 0.30, "C19Z": 0.12}),
    "76": ({"C19Z": 0.35, "C20A": 0.12}, {"B06Z": 0.25, "C19Z": 0.15}),
    "44": ({"C30A": 0.20, "C19Z": 0.12}, {"B06Z": 0.20, "B05Z": 0.05}),
    "75": ({"C20B": 0.12, "C32A": 0.10, "C14Z": 0.08}, {"D35A": 0.15, "B06Z": 0.15, "C32A": 0.06}),
    "51": ({"C11Z": 0.55}, {}), "33": ({"C11Z": 0.30, "C30C": 0.08}, {}),
    "69": ({"C21Z": 0.18, "C20A": 0.12}, {"C21Z": 0.12}), "92": ({"C21Z": 0.15, "C26A": 0.08}, {"C26B": 0.10}),
    "25": ({"C29A": 0.40}, {"C29B": 0.20}), "63": ({"C22A": 0.40}, {}),
    "59": ({"C24A": 0.12, "C29A": 0.10}, {}), "45": ({"C20B": 0.25}, {}), "28": ({"C20B": 0.25}, {}),
    "38": ({"C26A": 0.15, "C28A": 0.10}, {}),
    "34": ({"C11Z": 0.16, "C21Z": 0.10, "C26F": 0.08, "A01Z": 0.08}, {"C19Z": 0.08, "A01Z": 0.10, "C10H": 0.06}),
    "66": ({"A01Z": 0.25}, {"A01Z": 0.35, "C10C": 0.12}),
    "9A": ({"C11Z": 0.30}, {"C19Z": 0.25}), "9B": ({"C11Z": 0.30}, {"C19Z": 0.25}),
    "9C": ({"C30C": 0.60}, {"C19Z": 0.20}), "9D": ({"C10H": 0.30}, {"C19Z": 0.18}),
}

#: National partner weights (percent of exports, imports); other countries get a small share.
_PARTNER_WEIGHT = {
    "DE": (14.0, 16.0), "BE": (7.0, 9.5), "IT": (7.5, 8.0), "ES": (7.5, 8.0), "US": (7.5, 7.0),
    "GB": (5.5, 3.5), "NL": (4.5, 8.0), "CH": (4.0, 3.0), "CN": (4.0, 9.0), "PL": (2.0, 2.0),
    "PT": (1.5, 1.2), "SE": (1.2, 1.0), "AT": (1.2, 1.0), "IE": (1.0, 2.0), "JP": (1.3, 1.1),
    "TR": (1.2, 1.2), "IN": (1.0, 1.2), "SG": (1.5, 0.6), "AE": (1.4, 0.5), "MA": (1.3, 1.0),
    "KR": (1.0, 1.0), "CZ": (0.8, 1.0), "NO": (0.5, 2.5), "DZ": (0.9, 1.0), "TN": (0.7, 0.8),
    "HK": (1.0, 0.3), "SA": (0.9, 0.8), "QA": (0.8, 0.6), "RO": (0.6, 0.6), "HU": (0.5, 0.5),
    "DK": (0.6, 0.5), "FI": (0.3, 0.3), "GR": (0.5, 0.2), "CA": (0.7, 0.5), "BR": (0.8, 0.5),
    "MX": (0.5, 0.3), "AU": (0.6, 0.3), "VN": (0.2, 1.0), "TH": (0.3, 0.5), "TW": (0.5, 0.6),
    "NG": (0.3, 0.8), "KZ": (0.1, 0.9), "EU": (0.4, 0.6), "QU": (0.3, 0.3), "QS": (0.4, 0.05),
    "QR": (0.2, 0.05), "NA": (0.05, 0.08),
}
#: Energy comes from energy suppliers whatever the département.
_ENERGY_SUPPLIERS = {"NO": 20.0, "US": 14.0, "DZ": 8.0, "QA": 6.0, "NG": 6.0, "KZ": 6.0, "SA": 5.0,
                     "BE": 4.0, "ES": 5.0, "DE": 5.0, "CH": 4.0, "GB": 6.0, "NL": 4.0, "LY": 3.0,
                     "IQ": 3.0, "AZ": 3.0}

#: Typical value per kilogram (€/kg) for the mass column.
_PRICE_PER_KG = {"A": 1.5, "B": 0.5, "C10": 3.0, "C11": 5.0, "C19": 0.8, "C20": 3.0, "C21": 120.0,
                 "C24": 1.5, "C26": 80.0, "C29": 12.0, "C30C": 1500.0, "D35": 0.3}


def _rng(*keys: object) -> np.random.Generator:
    """A generator seeded by the sample seed and the given keys (stable across runs)."""
    material = [SEED] + [int.from_bytes(str(k).encode(), "little") % (2**63) for k in keys]
    return np.random.default_rng(material)


#: National weight of the main A129 positions (export, import); the others weigh 1.
_A129_WEIGHT = {
    "C30C": (0.4, 0.3), "C21Z": (5.0, 4.0), "C20A": (4.0, 4.0), "C20B": (4.0, 1.0), "C11Z": (3.5, 1.0),
    "C29A": (4.0, 5.0), "C29B": (2.0, 2.5), "C28A": (3.0, 3.0), "C28D": (2.0, 1.5), "C27B": (3.0, 3.0),
    "C26E": (2.0, 1.5), "C26B": (0.8, 3.0), "C26C": (0.6, 3.0), "C24A": (2.0, 2.0), "C10H": (2.0, 1.5),
    "A01Z": (3.0, 2.5), "C22B": (2.0, 2.0), "C19Z": (1.5, 3.5), "B06Z": (0.3, 4.0), "D35A": (0.8, 0.6),
    "C14Z": (1.5, 3.0), "C10A": (1.5, 2.0), "C30D": (0.05, 0.05), "C25C": (0.2, 0.2), "B05Z": (0.05, 0.4),
}


@lru_cache(maxsize=1)
def _products() -> pd.DataFrame:
    """CPF4 goods codes of the packaged label file, their A129 position and base weights."""
    cpf4 = valid_during(packaged_reference().table("cpf4"), 2024)
    frame = pd.DataFrame({"cpf4": cpf4["code"]})
    frame["a129"] = frame["cpf4"].map(a129_for_cpf4)
    frame = frame.dropna().reset_index(drop=True)
    within = _rng("products").lognormal(0.0, 0.8, len(frame))  # a few CPF4 dominate a position
    per_position = frame.groupby("a129")["cpf4"].transform("size").to_numpy()
    for index, flow in enumerate(("E", "I")):
        position = frame["a129"].map(lambda a, i=index: _A129_WEIGHT.get(a, (1.0, 1.0))[i]).to_numpy()
        frame[flow] = position * within / np.sqrt(per_position)
    return frame


@lru_cache(maxsize=1)
def _countries() -> pd.DataFrame:
    pays = valid_during(packaged_reference().table("pays"), 2024)
    codes = pays["code"][~pays["code"].isin(["FR", "QP", "QQ", "XC", "XL"])].tolist()
    rng = _rng("countries")
    frame = pd.DataFrame({"code": codes})
    small = rng.lognormal(-3.0, 1.2, len(frame))
    frame["E"] = [(_PARTNER_WEIGHT.get(c, (s, s))[0]) for c, s in zip(frame["code"], small, strict=True)]
    frame["I"] = [(_PARTNER_WEIGHT.get(c, (s, s))[1]) for c, s in zip(frame["code"], small, strict=True)]
    frame["energy"] = frame["code"].map(_ENERGY_SUPPLIERS).fillna(0.01)
    return frame


def _department_totals(year: int, flow: str) -> dict[str, int]:
    """Département totals in euros; 2024 hits the published Hérault/Occitanie/France figures."""
    departments = valid_during(packaged_reference().table("departements"), 2024)
    rng = _rng("sizes", flow)
    trend = _rng("trend", flow)  # each département's own growth, the same every year
    noise = _rng("sizes", flow, year)
    index = 0 if flow == "E" else 1
    years_before = year - 2024
    size = {}
    for code in departments["department_code"]:
        drawn = float(rng.lognormal(np.log(2.2), 0.6))  # drawn for every code: a stable stream
        growth = float(trend.normal(0.0, _DEPARTMENT_GROWTH_SPREAD))
        base = _DEPARTMENT_SIZE[code][index] if code in _DEPARTMENT_SIZE else drawn
        size[code] = base * (1.0 if year == 2024 else
                             float(np.exp(growth * years_before) * noise.lognormal(0.0, 0.05)))
    region_of = dict(zip(departments["department_code"], departments["region_code"], strict=True))
    level = _YEAR_LEVEL[flow][year]
    france = round(PUBLISHED_2024_TOTALS["france"][flow] * level, -5)
    occitanie_level = level * (_OCCITANIE_EXPORT_LEVEL.get(year, 1.0) if flow == "E" else 1.0)
    occitanie = round(PUBLISHED_2024_TOTALS["region-12"][flow] * occitanie_level, -5)
    herault = round(PUBLISHED_2024_TOTALS["departement-34"][flow] * level
                    * (1.0 if year == 2024 else float(np.exp(_HERAULT_GROWTH[flow] * years_before)
                                                      * noise.lognormal(0.0, 0.04))), -5)
    totals = {HERAULT: int(herault)}
    occ_others = [c for c in size if region_of[c] == OCCITANIE and c != HERAULT]
    rest = [c for c in size if region_of[c] != OCCITANIE]
    totals |= _split(int(occitanie) - int(herault), {c: size[c] for c in occ_others})
    totals |= _split(int(france) - int(occitanie), {c: size[c] for c in rest})
    return totals


def _split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split an integer total by weights, exactly (largest remainder)."""
    codes = sorted(weights)
    w = np.array([weights[c] for c in codes], dtype=float)
    return dict(zip(codes, _allocate(total, w).tolist(), strict=True))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` summing exactly to `total` (largest remainder)."""
    shares = weights / weights.sum() * total
    base = np.floor(shares).astype(np.int64)
    remainder = int(total - base.sum())
    if remainder:
        order = np.argsort(-(shares - base), kind="stable")[:remainder]
        base[order] += 1
    return base


def _department_rows(code: str, region: str, flow: str, year: int, total: int, n_rows: int) -> pd.DataFrame:
    products = _products()
    countries = _countries()
    special = _SPECIALISATION.get(code, ({}, {}))[0 if flow == "E" else 1]
    structure = _rng("structure", code, flow)  # stable across years: same partners and products
    product_weight = products[flow].to_numpy() * structure.lognormal(0.0, 0.6, len(products))
    product_weight = _specialise(product_weight, products["a129"].to_numpy(), special)
    is_energy = products["a129"].isin(ENERGY_A129_CODES).to_numpy()
    product_weight = product_weight * _product_history(products["a129"].to_numpy(), is_energy, flow, year)
    country_weight = (countries[flow].to_numpy() * structure.lognormal(0.0, 0.7, len(countries))
                      * _partner_history(countries["code"], flow, year))
    energy_weight = countries["energy"].to_numpy() * _partner_history(countries["code"], "energy", year)
    # Pair weights: products × partners, energy from energy suppliers.
    pair = np.where(is_energy[:, None], energy_weight[None, :], country_weight[None, :]) * product_weight[:, None]
    pair = pair.ravel()
    n_pairs = max(20, min(int(n_rows / 2.2), pair.size))
    # Weighted sampling without replacement (Efraimidis–Spirakis), keys stable across years.
    keys = np.log(structure.random(pair.size)) / pair
    chosen = np.argpartition(-keys, n_pairs - 1)[:n_pairs]
    chosen = np.sort(chosen)
    values_rng = _rng("values", code, flow, year)
    pair_value = pair[chosen] * values_rng.lognormal(0.0, 1.4, n_pairs)
    # Big flows trade every quarter, small ones in one or two; aircraft and ships are lumpy.
    rank = np.argsort(np.argsort(-pair_value)) / n_pairs
    quarters_present = np.clip(np.ceil(4 * (1 - rank) ** 0.6 + values_rng.normal(0, 0.5, n_pairs)), 1, 4).astype(int)
    first_quarter = values_rng.integers(0, 4, n_pairs)
    quarter_mask = np.zeros((n_pairs, 4), dtype=bool)
    for q in range(4):
        present = quarters_present > q
        quarter_mask[present, (first_quarter[present] + q) % 4] = True
    product_index = chosen // len(countries)
    country_index = chosen % len(countries)
    lumpy = products["a129"].isin(["C30C", "C30A"]).to_numpy()[product_index]
    spread = values_rng.lognormal(0.0, np.where(lumpy, 1.3, 0.3)[:, None], (n_pairs, 4)) * quarter_mask
    cell_weight = (pair_value[:, None] * spread / np.maximum(spread.sum(axis=1, keepdims=True), 1e-12))
    pair_i, quarter_i = np.nonzero(quarter_mask)
    weights = cell_weight[pair_i, quarter_i]
    values = _allocate(total, weights)
    a129 = products["a129"].to_numpy()[product_index[pair_i]]
    price = np.array([_price_per_kg(a) for a in a129]) * values_rng.lognormal(0.0, 0.4, len(values))
    mass = np.maximum(np.round(values / price), 0).astype(np.int64)
    return pd.DataFrame({
        "flow": flow, "quarter": quarter_i + 1, "year": year, "department_code": code, "region_code": region,
        "a129_code": a129, "cpf4_code": products["cpf4"].to_numpy()[product_index[pair_i]],
        "country_code": countries["code"].to_numpy()[country_index[pair_i]],
        "value_eur": values, "mass_kg": mass,
    })


def _product_history(a129: np.ndarray, is_energy: np.ndarray, flow: str, year: int) -> np.ndarray:
    """Weight multipliers of the products in `year` (1 in 2024): energy prices, aircraft."""
    factor = np.ones(len(a129))
    factor[is_energy] = _PRODUCT_HISTORY.get((flow, "energy"), {}).get(year, 1.0)
    factor[a129 == "C30C"] = _PRODUCT_HISTORY.get((flow, "C30C"), {}).get(year, 1.0)
    return factor


def _partner_history(codes: pd.Series, kind: str, year: int) -> np.ndarray:
    """Weight multipliers of the partners in `year` (1 in 2024): partners that come and go."""
    return np.array([_PARTNER_HISTORY.get(code, {}).get(kind, {}).get(year, 1.0) for code in codes])


def _specialise(weights: np.ndarray, a129: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    """Rescale product weights so that the given A129 positions take the given shares."""
    weights = weights / weights.sum()
    special = np.isin(a129, list(shares))
    result = weights * (1.0 - sum(shares.values())) / max(weights[~special].sum(), 1e-12)
    for position, share in shares.items():
        in_position = a129 == position
        result[in_position] = weights[in_position] / max(weights[in_position].sum(), 1e-12) * share
    return result


def _price_per_kg(a129: str) -> float:
    for prefix in (a129, a129[:3], a129[:1]):
        if prefix in _PRICE_PER_KG:
            return _PRICE_PER_KG[prefix]
    return 10.0


def generate_rows(year: int, flow: str, scale: float = 1.0) -> pd.DataFrame:
    """All rows of one flow and year, sorted like a DGDDI file (quarter, département, products)."""
    if year not in SAMPLE_YEARS:
        raise ValueError(f"the embedded sample covers {SAMPLE_YEARS[0]}–{SAMPLE_YEARS[-1]}, not {year}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    departments = valid_during(packaged_reference().table("departements"), 2024)
    totals = _department_totals(year, flow)
    sizes = np.array([totals[c] for c in departments["department_code"]], dtype=float)
    target_rows = BASE_ROWS_PER_FLOW * scale
    # Larger départements trade more distinct products with more partners.
    rows = np.maximum(150, np.sqrt(sizes) / np.sqrt(sizes).sum() * target_rows).astype(int)
    frames = [
        _department_rows(code, region, flow, year, totals[code], int(n))
        for code, region, n in zip(departments["department_code"], departments["region_code"], rows, strict=True)
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["value_eur"] > 0]
    return frame.sort_values(["quarter", "department_code", "cpf4_code", "country_code"], kind="stable")[list(FILE_COLUMNS)]


# --------------------------------------------------------------------------------------------
# The latest publications after the annual sample (« dernière publication », 5 quarters)
# --------------------------------------------------------------------------------------------

#: The synthetic monthly publications after 2024, and the quarters each holds (the five last
#: complete ones: in November and December 2025, 2024-T3 → 2025-T3).
LATEST_VINTAGES = dict.fromkeys(SAMPLE_LATEST_VINTAGES, ((2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3)))
#: The story of 2025: exports to the United States fall from the second quarter in the
#: activities most exposed to the tariffs (wine and spirits, cosmetics, pharmaceuticals,
#: aircraft, machinery) — multipliers of the same quarter of 2024 — and a little in the others.
_US_TARIFF_ACTIVITIES = ("C11Z", "C20B", "C21Z", "C30C", "C28A")
_US_EXPORTS_2025 = {"exposed": {1: 1.02, 2: 0.84, 3: 0.68}, "other": {1: 1.01, 2: 0.97, 3: 0.93}}
#: How December's publication revises November's (late declarations, mostly on the last quarter).
_DECEMBER_REVISION = {1: 1.000, 2: 1.003, 3: 1.014}


@lru_cache(maxsize=2)
def _rows_of_2024(flow: str, scale: float) -> pd.DataFrame:
    return generate_rows(2024, flow, scale)  # read only: every vintage starts from it


def generate_latest_rows(vintage: str, flow: str, scale: float = 1.0) -> pd.DataFrame:
    """All rows of one flow of a synthetic latest publication.

    Its 2024 quarters are the annual sample's rows of those quarters, unchanged (the annual file
    wins anyway, and the 2024 calibration stays exact); a 2025 quarter is the same quarter of 2024
    moved by each département's growth and by the story of exports to the United States."""
    if vintage not in LATEST_VINTAGES:
        raise ValueError(f"the embedded sample's latest publications are {', '.join(LATEST_VINTAGES)}, not {vintage}")
    held = LATEST_VINTAGES[vintage]
    base = _rows_of_2024(flow, scale)
    frames = [base[base["quarter"] == quarter] for year, quarter in held if year == 2024]
    departments = sorted(base["department_code"].unique())
    growth = dict(zip(departments, _rng("latest-growth", flow).normal(1.025, 0.04, len(departments)), strict=True))
    for year, quarter in held:
        if year != 2025:
            continue
        rows = base[base["quarter"] == quarter].copy()
        factor = rows["department_code"].map(growth).to_numpy()
        factor = factor * _rng("latest-noise", flow, quarter).lognormal(0.0, 0.05, len(rows))
        if flow == "E":
            to_us = (rows["country_code"] == "US").to_numpy()
            exposed = rows["a129_code"].isin(_US_TARIFF_ACTIVITIES).to_numpy()
            factor = np.where(to_us & exposed, _US_EXPORTS_2025["exposed"][quarter], 1.0) * factor
            factor = np.where(to_us & ~exposed, _US_EXPORTS_2025["other"][quarter], 1.0) * factor
        if vintage == "202512":
            factor = factor * _DECEMBER_REVISION[quarter]
        rows["year"] = 2025
        rows["value_eur"] = np.round(rows["value_eur"].to_numpy() * factor).astype("int64")
        rows["mass_kg"] = np.round(rows["mass_kg"].to_numpy() * factor).astype("int64")
        frames.append(rows[rows["value_eur"] > 0])
    return pd.concat(frames, ignore_index=True)[list(FILE_COLUMNS)]
