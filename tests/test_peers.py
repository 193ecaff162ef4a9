"""The fiche situates a territory in time and among its peers: the ten-year series, what drove the
change, France's values and the ranks, the United States focus — on a small hand-made data set
whose answers are worked out by hand below."""

import duckdb
import pandas as pd
import pytest

from trade_pipeline.aggregation.mart_sql import EXPOSURE_COMPARISON
from trade_pipeline.aggregation.marts import MART_QUERIES, MartSettings, refresh
from trade_pipeline.aggregation.reads import load
from trade_pipeline.charts.contributions import contributions_chart, main_contributions
from trade_pipeline.charts.evolution import evolution_chart
from trade_pipeline.charts.united_states import united_states_chart, united_states_figures
from trade_pipeline.fiches.prose import exposure_items, exposure_notes, united_states_lead
from trade_pipeline.tables import RANKED_INDICATORS

from .support import warehouse_with

KEYS = ["france-FR", "region-12", "region-03", "departement-34", "departement-31", "departement-75"]
YEARS = (2020, 2021, 2023)  # 2022 is missing from the store: a gap


def _rows(year: int, cells: list[tuple]) -> list[tuple]:
    return [(year, 1, flow, dept, region, a129, cpf4, country, value) for flow, dept, region, a129, cpf4, country, value
            in cells]


ROWS = (
    _rows(2020, [("E", "34", "12", "C11Z", "1102", "DE", 100), ("E", "34", "12", "C21Z", "2120", "US", 300),
                 ("I", "34", "12", "C19Z", "1920", "ES", 200), ("E", "31", "12", "C30C", "3030", "US", 1000),
                 ("I", "31", "12", "C30C", "3030", "CN", 500), ("E", "75", "03", "C32A", "3212", "CH", 400),
                 ("I", "75", "03", "D35A", "3511", "DE", 600)])
    + _rows(2021, [("E", "34", "12", "C11Z", "1102", "DE", 150), ("E", "34", "12", "C21Z", "2120", "US", 250),
                   ("E", "34", "12", "C11Z", "1102", "IT", 100), ("E", "34", "12", "C21Z", "2120", "DE", 50),
                   ("I", "34", "12", "C19Z", "1920", "ES", 300), ("E", "31", "12", "C30C", "3030", "US", 1200),
                   ("I", "31", "12", "C30C", "3030", "CN", 500), ("E", "75", "03", "C32A", "3212", "CH", 500),
                   ("I", "75", "03", "D35A", "3511", "DE", 700)])
    + _rows(2023, [("E", "34", "12", "C11Z", "1102", "DE", 200), ("E", "34", "12", "C21Z", "2120", "US", 400),
                   ("I", "34", "12", "C19Z", "1920", "ES", 100), ("E", "31", "12", "C30C", "3030", "US", 900),
                   ("I", "31", "12", "C30C", "3030", "CN", 600), ("E", "75", "03", "C32A", "3212", "CH", 300),
                   ("I", "75", "03", "D35A", "3511", "DE", 800)])
)


@pytest.fixture(scope="module")
def warehouse() -> duckdb.DuckDBPyConnection:
    connection = warehouse_with(ROWS)
    for year in YEARS:
        for mart in MART_QUERIES.values():
            refresh(connection, mart, year, KEYS, MartSettings())
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def data(warehouse):
    return {year: load(warehouse, year, KEYS) for year in YEARS}


def test_the_series_are_the_totals_of_each_year_and_a_missing_year_is_a_gap(data):
    series = data[2023]["departement-34"].series
    assert list(series["year"]) == [2020, 2021, 2022, 2023]
    assert series["exports_eur"].tolist()[:2] + series["exports_eur"].tolist()[3:] == [400, 550, 600]
    assert series["imports_eur"].tolist()[:2] + series["imports_eur"].tolist()[3:] == [200, 300, 100]
    assert series.loc[2, ["exports_eur", "imports_eur", "balance_eur"]].isna().all()  # 2022: no data, not 0
    assert series.loc[0, "exports_share_of_france"] == pytest.approx(400 / (400 + 1000 + 400))
    assert series.loc[3, "balance_eur"] == 600 - 100

    figure = evolution_chart(data[2023]["departement-34"]).figure
    exports = next(t for t in figure["data"] if t["name"] == "Exportations")
    assert exports["x"] == [2020, 2021, 2022, 2023] and exports["y"][2] is None and exports["connectgaps"] is False
    assert [s["x0"] for s in figure["layout"]["shapes"]] == [2021.5]  # the EMEBI series break
    table = evolution_chart(data[2023]["departement-34"]).table.frame
    assert table["exportations_eur"].isna().tolist() == [False, False, True, False]
    # The series of a year stop at that year.
    assert list(data[2021]["departement-34"].series["year"]) == [2020, 2021]


def test_contributions_shown_and_others_add_up_to_the_total_change(data):
    d = data[2021]["departement-34"]
    # Exports 400 → 550: +37,5 %. DE 100 → 200 (+25 pts), US 300 → 250 (−12,5), IT 0 → 100 (+25).
    full = main_contributions(d, "E", "country", "Autres pays")
    assert dict(zip(full["code"], full["contribution"], strict=True)) == pytest.approx(
        {"DE": 25.0, "IT": 25.0, "US": -12.5, "AUTRES": 0.0, "TOTAL": 37.5})
    two = main_contributions(d, "E", "country", "Autres pays", count=2)
    assert list(two["code"]) == ["DE", "IT", "AUTRES", "TOTAL"]
    assert two.loc[two["code"] == "AUTRES", "contribution"].item() == pytest.approx(-12.5)
    assert two.loc[two["kind"] != "total", "contribution"].sum() == pytest.approx(37.5)
    assert two.loc[two["kind"] != "total", "change_eur"].sum() == 150
    products = main_contributions(d, "E", "product", "Autres activités")
    # C11Z 100 → 250 (+37,5 pts), C21Z 300 → 300 (0).
    assert dict(zip(products["code"], products["contribution"], strict=True)) == pytest.approx(
        {"C11Z": 37.5, "C21Z": 0.0, "AUTRES": 0.0, "TOTAL": 37.5})
    chart = contributions_chart(d, "E")
    bars = chart.figure["data"][0]
    assert bars["x"][-1] == pytest.approx(37.5)
    assert "évoluent de +37,5\u202f% (+150\u202f€)" in chart.alt


def test_without_the_previous_year_there_is_nothing_to_decompose(data):
    chart = contributions_chart(data[2023]["departement-34"], "E")  # 2022 is not in the store
    assert chart.figure["data"] == [] and chart.table.frame.empty
    assert chart.alt == "2022 n'est pas dans la base : pas d'évolution à décomposer."


def test_ranks_and_france_values_are_consistent_with_exposure(warehouse):
    compared = warehouse.execute(f"SELECT * FROM ({EXPOSURE_COMPARISON}) x").df()
    exposure = warehouse.execute("SELECT * FROM mart_exposure").df()
    assert set(compared["indicator"]) <= set(RANKED_INDICATORS)
    for row in compared.itertuples(index=False):
        peers = exposure[(exposure["year"] == row.year) & (exposure["level"] == row.level)][row.indicator].dropna()
        france = exposure[(exposure["year"] == row.year) & (exposure["level"] == "france")][row.indicator].item()
        assert row.value == pytest.approx(exposure[(exposure["year"] == row.year) & (exposure["level"] == row.level)
                                                   & (exposure["territory_code"] == row.territory_code)][row.indicator].item())
        assert row.france_value == pytest.approx(france)
        if row.level == "france":
            assert pd.isna(row.rank) and pd.isna(row.ranked_among)
        else:
            assert row.rank == 1 + (peers > row.value).sum() and row.ranked_among == len(peers)
    # By hand, 2021: share of exports to the US — 31: 1200/1200, 34: 250/550, 75: 0/500.
    us = compared[(compared["year"] == 2021) & (compared["indicator"] == "exports_share_united_states")
                  & (compared["level"] == "departement")].set_index("territory_code")
    assert us["rank"].to_dict() == {"31": 1, "34": 2, "75": 3}
    assert us.loc["34", "france_value"] == pytest.approx((250 + 1200) / (550 + 1200 + 500))


def test_the_fiche_ranks_only_among_every_territory_of_its_level(data):
    d = data[2021]["departement-34"]
    item = next(i for i in exposure_items(d) if i["indicator"] == "exports_share_united_states")
    assert item["value"] == "45,5\u202f%" and item["france"] == "64,4\u202f%"
    assert item["rank"] == "–"  # 3 départements of 100: a rank among them would mislead
    notes = exposure_notes(d)
    assert notes[0] == "Rangs non calculés : seuls 3 départements sur 100 sont dans la base pour 2021."
    assert "l'Hérault se distingue par" in notes[1]
    complete = d.comparison.assign(ranked_among=100)  # Monaco is not a département: never counted
    full = exposure_items(type(d)(**{**d.__dict__, "comparison": complete}))
    assert next(i for i in full if i["indicator"] == "exports_share_united_states")["rank"] == "2e sur 100"


def test_the_united_states_focus(data):
    d = data[2021]["departement-34"]
    figures = united_states_figures(d)
    # 250 € of 550 to the US; 300 € the year before (−16,7 %).
    assert (figures.exports_eur, figures.change_eur) == (250, -50)
    assert figures.share_of_exports == pytest.approx(250 / 550)
    assert figures.change_pct == pytest.approx(-50 / 300)
    chart = united_states_chart(d)
    assert list(chart.table.frame["code_a129"]) == ["C21Z"]  # C11Z goes elsewhere only
    assert chart.table.frame["part_du_produit_vers_etats_unis"].tolist() == [pytest.approx(250 / 300, abs=1e-6)]
    assert united_states_lead(d) == ("Exportations vers les États-Unis : 250\u202f€, soit 45,5\u202f% des exportations "
                                     "(France : 64,4\u202f%) ; sur un an : −16,7\u202f% (−50\u202f€). "
                                     "Aucune importation depuis les États-Unis.")


def test_the_united_states_focus_shows_imports_from_the_united_states_too():
    from .support import territory_data

    d = territory_data()["departement-31"]  # Haute-Garonne imports 400 € of aircraft, all from the US
    figures = united_states_figures(d)
    assert figures.imports.value_eur == 400 and figures.imports.share == pytest.approx(1.0)
    assert figures.imports.france_share == pytest.approx(400 / (460 + 400 + 700))  # France imports 1 560 €
    chart = united_states_chart(d, "I")
    assert chart.name == "united_states_imports"
    assert list(chart.table.frame["code_a129"]) == ["C30C"]
    assert chart.table.frame["part_du_produit_depuis_etats_unis"].tolist() == [pytest.approx(1.0)]
    assert ("Importations depuis les États-Unis : 400\u202f€, soit 100,0\u202f% des importations "
            "(France : 25,6\u202f%).") in united_states_lead(d)
    assert chart.alt.startswith("En 2024, la Haute-Garonne importe 400\u202f€ des États-Unis, soit 100,0\u202f% de ses "
                                "importations.")
