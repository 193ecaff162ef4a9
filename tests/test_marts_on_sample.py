"""Invariants of the published marts on the whole sample (2022–2024, every territory)."""

import dagster as dg
import duckdb
import pytest

from trade_pipeline.lib.territories import territory_keys

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(sample_build):
    with duckdb.connect(str(sample_build / "published" / "trade.duckdb"), read_only=True) as connection:
        yield connection


def rows(store, sql):
    return store.execute(sql).fetchall()


def test_herault_2024_matches_the_national_fiche(store):
    (exports, imports, e_region, e_france, i_region, i_france), = rows(store, """
        SELECT exports_eur, imports_eur, exports_share_of_region, exports_share_of_france,
               imports_share_of_region, imports_share_of_france
        FROM territory_totals WHERE year = 2024 AND level = 'departement' AND territory_code = '34'""")
    assert (round(exports / 1e6, 1), round(imports / 1e6, 1)) == (2674.2, 4818.7)
    assert (round(100 * e_region, 1), round(100 * e_france, 2)) == (5.4, 0.46)
    assert (round(100 * i_region, 1), round(100 * i_france, 2)) == (12.8, 0.70)


def test_every_territory_of_every_year_is_there(store):
    counts = rows(store, "SELECT year, count(*) FROM territory_totals GROUP BY year ORDER BY year")
    assert counts == [(2022, 116), (2023, 116), (2024, 116)]


def test_departments_of_a_region_sum_to_the_region(store):
    mismatches = rows(store, """
        SELECT r.year, r.territory_code FROM territory_totals r
        JOIN (SELECT year, parent_region_code, sum(exports_eur) AS e, sum(imports_eur) AS i FROM territory_totals
              WHERE level = 'departement' GROUP BY ALL) d
          ON d.year = r.year AND d.parent_region_code = r.territory_code
        WHERE r.level = 'region' AND (d.e <> r.exports_eur OR d.i <> r.imports_eur)""")
    assert mismatches == []
    regions_vs_france = rows(store, """
        SELECT f.year FROM territory_totals f JOIN (SELECT year, sum(exports_eur) e, sum(imports_eur) i
            FROM territory_totals WHERE level = 'region' GROUP BY year) r USING (year)
        WHERE f.level = 'france' AND (r.e <> f.exports_eur OR r.i <> f.imports_eur)""")
    assert regions_vs_france == []


def test_territory_totals_equal_the_sum_of_their_flow_links(store):
    mismatches = rows(store, """
        WITH links AS (SELECT year, level, territory_code, flow, sum(value_eur) AS total FROM flow_links GROUP BY ALL)
        SELECT t.year, t.level, t.territory_code FROM territory_totals t
        LEFT JOIN links e ON (e.year, e.level, e.territory_code, e.flow) = (t.year, t.level, t.territory_code, 'E')
        LEFT JOIN links i ON (i.year, i.level, i.territory_code, i.flow) = (t.year, t.level, t.territory_code, 'I')
        WHERE coalesce(e.total, 0) <> t.exports_eur OR coalesce(i.total, 0) <> t.imports_eur""")
    assert mismatches == []


def test_shares_are_fractions(store):
    out_of_range = rows(store, """
        SELECT count(*) FROM territory_totals WHERE
            NOT (coalesce(exports_share_of_region, 0) BETWEEN 0 AND 1 AND coalesce(imports_share_of_region, 0) BETWEEN 0 AND 1
             AND coalesce(exports_share_of_france, 0) BETWEEN 0 AND 1 AND coalesce(imports_share_of_france, 0) BETWEEN 0 AND 1)""")
    assert out_of_range == [(0,)]
    nulls = rows(store, """SELECT level, count(exports_share_of_region), count(exports_share_of_france)
                           FROM territory_totals GROUP BY level ORDER BY level""")
    assert nulls == [("departement", 303, 303), ("france", 0, 0), ("region", 0, 42)]
    exposure = rows(store, """SELECT count(*) FROM exposure WHERE NOT (
        exports_share_eu BETWEEN 0 AND 1 AND exports_share_united_states BETWEEN 0 AND 1
        AND exports_partner_hhi BETWEEN 0 AND 1 AND energy_share_of_imports BETWEEN 0 AND 1)""")
    assert exposure == [(0,)]


def test_exactly_five_highlighted_links_per_territory_and_flow(store):
    wrong = rows(store, """
        SELECT year, level, territory_code, flow, count(*) FILTER (is_top5) AS top5,
               count(*) FILTER (product_code <> 'AUTRES' AND country_code <> 'AUTRES') AS listed
        FROM flow_links GROUP BY ALL HAVING top5 <> least(5, listed)""")
    assert wrong == []
    assert rows(store, "SELECT max(product_rank), max(country_rank) FROM flow_links") == [(10, 10)]


def test_growth_contributions_add_up_to_the_change(store):
    wrong = rows(store, """
        WITH t AS (SELECT year, level, territory_code, flow, change_pct FROM growth_contributions WHERE dimension = 'total'),
             c AS (SELECT year, level, territory_code, flow, dimension, sum(contribution_pct_points) s
                   FROM growth_contributions WHERE dimension <> 'total' GROUP BY ALL)
        SELECT * FROM t JOIN c USING (year, level, territory_code, flow) WHERE abs(c.s - t.change_pct) > 1e-9""")
    assert wrong == []
    years = rows(store, "SELECT DISTINCT year FROM growth_contributions ORDER BY 1")
    assert years == [(2023,), (2024,)]  # 2022 has no previous year in the sample


def test_a_full_year_of_all_territories_is_one_run(sample_build):
    instance = dg.DagsterInstance.from_config(str(sample_build / "dagster"))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("territory_marts")), limit=5000).records
    of_2024 = [r for r in records if r.partition_key.endswith("|2024")]
    assert {r.partition_key for r in of_2024} == {f"{key}|2024" for key in territory_keys()}
    assert len({r.run_id for r in of_2024}) == 1
