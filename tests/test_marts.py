"""Marts on a small fixture whose every number is computed by hand."""

import pandas as pd
import pytest

from trade_pipeline.aggregation.marts import MART_QUERIES, MartSettings, compute, open_scope, refresh
from trade_pipeline.publication.store import PUBLISHED_TABLES

from .support import KEYS, ROWS, warehouse_with


@pytest.fixture(scope="module")
def hand():
    connection = warehouse_with(ROWS)
    open_scope(connection, 2024, KEYS)
    yield {name: compute(connection, mart, 2024, MartSettings()) for name, mart in MART_QUERIES.items()}
    connection.close()


def one(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, (where, frame[mask])
    return frame[mask].iloc[0]


def test_totals_per_level(hand):
    totals = hand["territory_totals"]
    herault = one(totals, level="departement", territory_code="34")
    assert (herault.exports_eur, herault.imports_eur) == (500, 460)
    assert (herault.exports_excl_energy_eur, herault.imports_excl_energy_eur) == (470, 160)
    assert (herault.exports_energy_eur, herault.imports_energy_eur) == (30, 300)
    occitanie = one(totals, level="region", territory_code="12")
    assert (occitanie.exports_eur, occitanie.imports_eur) == (1500, 860)
    france = one(totals, level="france", territory_code="FR")
    assert (france.exports_eur, france.imports_eur) == (2000, 1560)


def test_partner_balance_flags_non_countries(hand):
    partners = hand["partner_balance"][lambda f: f.territory_code.eq("34") & f.level.eq("departement")]
    balance = dict(zip(partners.country_code, partners.balance_eur, strict=True))
    assert balance == {"DE": 190, "BE": 60, "US": 200, "NO": 30, "EU": 20, "ES": -300, "MA": -100, "CN": -50, "QU": -10}
    flags = dict(zip(partners.country_code, partners.is_country, strict=True))
    assert not flags["EU"] and not flags["QU"] and flags["NO"] and flags["DE"]
    assert one(partners, country_code="DE").country_name == "Allemagne"


def test_product_breakdown_values_and_shares(hand):
    products = hand["product_breakdown"]
    exports = products[(products.territory_code == "34") & (products.level == "departement") & (products.flow == "E")
                       & (products.product_level == "a129")]
    assert dict(zip(exports.product_code, exports.value_eur, strict=True)) == {"C11Z": 230, "C21Z": 240, "B06Z": 30}
    assert one(exports, product_code="C21Z").share_of_flow == pytest.approx(0.48)
    assert one(exports, product_code="C21Z").product_name == "Produits pharmaceutiques"
    cpf4 = products[(products.territory_code == "34") & (products.product_level == "cpf4") & (products.flow == "I")]
    assert dict(zip(cpf4.product_code, cpf4.value_eur, strict=True)) == {"1920": 300, "0113": 110, "2620": 50}


def test_flow_links_list_products_to_countries_and_sum_exactly(hand):
    links = hand["flow_links"]
    exports = links[(links.territory_code == "34") & (links.level == "departement") & (links.flow == "E")]
    got = {(r.product_code, r.country_code): r.value_eur for r in exports.itertuples()}
    # EU is not a country: its 20 go to « AUTRES » on the country side.
    assert got == {("C21Z", "US"): 200, ("C21Z", "DE"): 40, ("C11Z", "DE"): 150, ("C11Z", "BE"): 60,
                   ("B06Z", "NO"): 30, ("C11Z", "AUTRES"): 20}
    assert exports.value_eur.sum() == 500
    assert exports[exports.is_top5].shape[0] == 5 and not one(exports, country_code="AUTRES").is_top5
    assert one(exports, country_code="AUTRES").country_name == "Autres pays"


def test_exposure_indicators(hand):
    herault = one(hand["exposure"], level="departement", territory_code="34")
    assert herault.exports_share_united_states == pytest.approx(0.4)
    assert herault.exports_share_eu == pytest.approx(0.54)  # DE 190 + BE 60 + EU 20
    assert herault.exports_share_china == pytest.approx(0.0)
    assert herault.imports_share_china == pytest.approx(50 / 460)
    assert (herault.exports_first_partner_code, herault.exports_first_partner_share) == ("US", pytest.approx(0.4))
    assert (herault.exports_first_product_code, herault.exports_first_product_share) == ("C21Z", pytest.approx(0.48))
    assert herault.exports_partner_hhi == pytest.approx(0.38**2 + 0.12**2 + 0.4**2 + 0.06**2 + 0.04**2)
    assert herault.exports_product_hhi == pytest.approx(0.46**2 + 0.48**2 + 0.06**2)
    assert herault.energy_share_of_imports == pytest.approx(300 / 460)


def test_growth_contributions_in_points_of_the_previous_total(hand):
    growth = hand["growth_contributions"]
    herault = growth[(growth.territory_code == "34") & (growth.level == "departement") & (growth.flow == "E")]
    total = one(herault, dimension="total")
    assert (total.value_eur, total.previous_value_eur, total.change_eur) == (500, 400, 100)
    assert total.change_pct == pytest.approx(25.0)
    countries = herault[herault.dimension == "country"].set_index("code")
    assert countries.contribution_pct_points.to_dict() == pytest.approx(
        {"DE": 22.5, "US": -25.0, "BE": 15.0, "NO": 7.5, "EU": 5.0})
    assert countries.contribution_pct_points.sum() == pytest.approx(total.change_pct)
    products = herault[herault.dimension == "product"].set_index("code")
    assert products.contribution_pct_points.to_dict() == pytest.approx({"C11Z": 32.5, "C21Z": -15.0, "B06Z": 7.5})
    assert pd.isna(one(growth, territory_code="34", level="departement", flow="I", dimension="total").change_pct)
    # Haute-Garonne has no 2023 rows: no growth is invented for it.
    assert growth[(growth.territory_code == "31") & (growth.level == "departement")].empty


def test_top_ten_products_and_countries_with_others_computed_from_the_total():
    codes = ["0111", "0112", "0113", "1011", "1012", "1102", "2120", "2042", "3030", "2910", "1413", "2620"]
    countries = ["DE", "BE", "IT", "ES", "US", "GB", "NL", "CH", "CN", "PL", "PT", "SE"]
    rows = [(2024, 1, "E", "01", "18", "A01Z", code, country, (13 - i) * (13 - j) * 10)
            for i, code in enumerate(codes, 1) for j, country in enumerate(countries, 1)]
    connection = warehouse_with(rows)
    open_scope(connection, 2024, ["departement-01"])
    links = compute(connection, MART_QUERIES["flow_links"], 2024, MartSettings(product_level="cpf4"))
    got = {(r.product_code, r.country_code): r.value_eur for r in links.itertuples()}
    assert links.value_eur.sum() == 10 * 78 * 78
    assert got[("0111", "DE")] == 1440
    assert got[("0111", "AUTRES")] == 12 * 3 * 10  # countries 11 and 12 of product 1
    assert got[("AUTRES", "DE")] == 12 * 3 * 10  # products 11 and 12 to country 1
    assert got[("AUTRES", "AUTRES")] == 3 * 3 * 10
    assert len(links) == 10 * 10 + 10 + 10 + 1
    top5 = sorted((r.product_code, r.country_code) for r in links.itertuples() if r.is_top5)
    # 1440, 1320 twice, 1210, then the tie at 1200 goes to the lower product code.
    assert top5 == sorted([("0111", "DE"), ("0111", "BE"), ("0112", "DE"), ("0112", "BE"), ("0111", "IT")])


def test_refresh_replaces_only_the_given_territories():
    connection = warehouse_with(ROWS)
    settings = MartSettings()
    refresh(connection, MART_QUERIES["territory_totals"], 2024, KEYS, settings)
    connection.execute("UPDATE mart_territory_totals SET exports_eur = -1 WHERE territory_code = '75'")
    refresh(connection, MART_QUERIES["territory_totals"], 2024, ["departement-34"], settings)
    stored = dict(connection.execute("SELECT level || territory_code, exports_eur FROM mart_territory_totals").fetchall())
    assert stored["departement34"] == 500 and stored["departement75"] == -1 and len(stored) == len(KEYS)


def test_published_totals_add_shares_of_region_and_france():
    from trade_pipeline.lib.territories import territories_frame

    connection = warehouse_with(ROWS)
    refresh(connection, MART_QUERIES["territory_totals"], 2024, KEYS, MartSettings())
    connection.register("package_territories", territories_frame())
    totals = connection.execute(PUBLISHED_TABLES["territory_totals"].sql).df()
    herault = one(totals, level="departement", territory_code="34")
    assert herault.exports_share_of_region == pytest.approx(1 / 3)
    assert herault.exports_share_of_france == pytest.approx(0.25)
    assert herault.imports_share_of_region == pytest.approx(460 / 860)
    assert herault.balance_eur == 40 and herault.balance_excl_energy_eur == 310
    assert herault.territory_name == "Hérault" and herault.region_exports_eur == 1500
    region = one(totals, level="region", territory_code="12")
    assert pd.isna(region.exports_share_of_region) and region.exports_share_of_france == pytest.approx(0.75)
    france = one(totals, level="france")
    assert pd.isna(france.exports_share_of_region) and pd.isna(france.exports_share_of_france)
