"""The latest quarters on hand-made data: every expected number is worked out in the comments."""

import pandas as pd
import pytest

from trade_pipeline.aggregation.quarters import comparisons, quarterly_indicators
from trade_pipeline.lib.quarters import DEFINITIVE, PROVISIONAL, Holding, Quarter, choose_quarter_sources

Q = Quarter


def holding(vintage: str, *quarters: Quarter, source: str = "") -> Holding:
    return Holding(vintage, source or f"{vintage}.zip", frozenset(quarters))


def year(y: int) -> tuple[Quarter, ...]:
    return tuple(Q(y, q) for q in range(1, 5))


NOVEMBER = holding("202511", Q(2024, 3), Q(2024, 4), Q(2025, 1), Q(2025, 2), Q(2025, 3))
DECEMBER = holding("202512", Q(2024, 3), Q(2024, 4), Q(2025, 1), Q(2025, 2), Q(2025, 3))


def in_use(sources) -> dict[str, tuple[str, str]]:
    return {str(Q(s.year, s.quarter)): (s.vintage, s.status) for s in sources if s.in_use}


def test_the_annual_file_wins_and_the_newest_vintage_revises_the_others():
    sources = choose_quarter_sources({2024: holding("202502", *year(2024))}, [DECEMBER, NOVEMBER])
    assert in_use(sources) == {
        "2024-T1": ("202502", DEFINITIVE), "2024-T2": ("202502", DEFINITIVE),
        "2024-T3": ("202502", DEFINITIVE), "2024-T4": ("202502", DEFINITIVE),
        "2025-T1": ("202512", PROVISIONAL), "2025-T2": ("202512", PROVISIONAL), "2025-T3": ("202512", PROVISIONAL),
    }
    # Provenance keeps every vintage that held a quarter, the revised one included.
    held_2025_t1 = sorted((s.vintage, s.in_use) for s in sources if (s.year, s.quarter) == (2025, 1))
    assert held_2025_t1 == [("202511", False), ("202512", True)]
    held_2024_t3 = sorted((s.vintage, s.status, s.in_use) for s in sources if (s.year, s.quarter) == (2024, 3))
    assert held_2024_t3 == [("202502", DEFINITIVE, True), ("202511", PROVISIONAL, False),
                            ("202512", PROVISIONAL, False)]


def test_before_the_annual_file_the_quarters_of_the_year_are_provisional():
    sources = choose_quarter_sources({}, [NOVEMBER])
    assert {k: v[1] for k, v in in_use(sources).items()} == dict.fromkeys(
        ["2024-T3", "2024-T4", "2025-T1", "2025-T2", "2025-T3"], PROVISIONAL)


def test_two_vintages_of_the_same_month_are_refused():
    with pytest.raises(ValueError, match="same month 202512: a.zip and b.zip"):
        choose_quarter_sources({}, [holding("202512", Q(2025, 1), source="a.zip"),
                                    holding("202512", Q(2025, 1), source="b.zip")])


def test_the_periods_compared():
    r4q, ytd, latest = comparisons(Q(2025, 3))
    assert [str(q) for q in r4q.current] == ["2024-T4", "2025-T1", "2025-T2", "2025-T3"]
    assert [str(q) for q in r4q.previous] == ["2023-T4", "2024-T1", "2024-T2", "2024-T3"]
    assert [str(q) for q in ytd.current] == ["2025-T1", "2025-T2", "2025-T3"]
    assert [str(q) for q in ytd.previous] == ["2024-T1", "2024-T2", "2024-T3"]
    assert [str(q) for q in latest.current] == ["2025-T3"] and [str(q) for q in latest.previous] == ["2024-T3"]
    # In the first quarter, the year to date is that quarter alone.
    assert [str(q) for q in comparisons(Q(2026, 1))[1].current] == ["2026-T1"]


# Hérault's exports by quarter (the total), in euros:
#   2023: 90, 90, 90, 100 · 2024: 100, 110, 120, 130 · 2025 (provisional): 140, 150, 90
# imports 50 every quarter; exports to the United States 60 in 2024-T3, 30 in 2025-T3, to
# Germany 60 in both; activity C30C 100 in 2024-T3 and 40 in 2025-T3.
EXPORTS = {Q(2023, 1): 90, Q(2023, 2): 90, Q(2023, 3): 90, Q(2023, 4): 100, Q(2024, 1): 100, Q(2024, 2): 110,
           Q(2024, 3): 120, Q(2024, 4): 130, Q(2025, 1): 140, Q(2025, 2): 150, Q(2025, 3): 90}


def totals(first_year: int = 2023) -> pd.DataFrame:
    rows = []
    for q, value in EXPORTS.items():
        if q.year >= first_year:
            rows.append(("departement", "34", "E", "total", "", q.year, q.quarter, value))
            rows.append(("departement", "34", "I", "total", "", q.year, q.quarter, 50))
    for q, us, de, c30c in ((Q(2024, 3), 60, 60, 100), (Q(2025, 3), 30, 60, 40)):
        rows += [("departement", "34", "E", "partner", "US", q.year, q.quarter, us),
                 ("departement", "34", "E", "partner", "DE", q.year, q.quarter, de),
                 ("departement", "34", "E", "partner", "UE27", q.year, q.quarter, de),
                 ("departement", "34", "E", "activity", "C30C", q.year, q.quarter, c30c)]
    return pd.DataFrame(rows, columns=["level", "territory_code", "flow", "dimension", "member", "year", "quarter",
                                       "value_eur"])


HERAULT = pd.DataFrame({"level": ["departement", "departement"], "territory_code": ["34", "30"]})


def indicators(first_year: int = 2023):
    annual = {y: holding(f"{y + 1}02", *year(y)) for y in range(first_year, 2025)}
    return quarterly_indicators(totals(first_year), choose_quarter_sources(annual, [NOVEMBER, DECEMBER]), HERAULT)


def row_of(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, (where, frame[mask])
    return frame[mask].iloc[0]


def test_rolling_four_quarters_year_to_date_and_latest_quarter_by_hand():
    summary = indicators().summary
    r4q = row_of(summary, territory_code="34", measure="r4q")
    # 130 + 140 + 150 + 90 = 510 against 100 + 100 + 110 + 120 = 430: +18.60 %
    assert (r4q.exports_eur, r4q.previous_exports_eur) == (510, 430)
    assert r4q.exports_change_pct == pytest.approx(80 / 430 * 100)
    # imports 4 × 50 = 200 in both; balance 310 against 230
    assert (r4q.imports_eur, r4q.previous_imports_eur, r4q.imports_change_pct) == (200, 200, 0)
    assert (r4q.balance_eur, r4q.previous_balance_eur) == (310, 230)
    assert (r4q.first_year, r4q.first_quarter, r4q.last_year, r4q.last_quarter) == (2024, 4, 2025, 3)
    # 2024-T4 is definitive, 2025's quarters provisional: the period is provisional, of December's vintage.
    assert r4q.provisional and r4q.vintage == "202512" and r4q.previous_complete
    ytd = row_of(summary, territory_code="34", measure="ytd")
    # 140 + 150 + 90 = 380 against 100 + 110 + 120 = 330: +15.15 %
    assert (ytd.exports_eur, ytd.previous_exports_eur) == (380, 330)
    assert ytd.exports_change_pct == pytest.approx(50 / 330 * 100)
    assert not ytd.previous_provisional
    latest = row_of(summary, territory_code="34", measure="quarter")
    assert (latest.exports_eur, latest.previous_exports_eur, latest.exports_change_pct) == (90, 120, -25)


def test_a_territory_without_rows_in_a_held_quarter_is_a_zero_not_a_gap():
    gard = row_of(indicators().summary, territory_code="30", measure="r4q")
    assert (gard.exports_eur, gard.previous_exports_eur) == (0, 0)
    assert pd.isna(gard.exports_change_pct)  # no base: no percentage, never an infinite one


def test_contributions_of_partners_and_activities_by_hand():
    changes = indicators().changes
    latest = changes[(changes.measure == "quarter") & (changes.flow == "E")]
    # Exports fell from 120 to 90 (−25 %): the United States 60 → 30, i.e. −30 of 120 = −25 points.
    us = row_of(latest, dimension="partner", member="US")
    assert (us.current_eur, us.previous_eur, us.change_eur) == (30, 60, -30)
    assert us.change_pct == -50 and us.contribution_points == pytest.approx(-25)
    assert row_of(latest, dimension="partner", member="DE").contribution_points == 0
    assert row_of(latest, dimension="partner", member="UE27").current_eur == 60
    c30c = row_of(latest, dimension="activity", member="C30C")
    assert (c30c.change_eur, c30c.contribution_points) == (-60, pytest.approx(-50))


def test_the_same_quarters_in_any_row_order_give_the_same_ranks_ties_by_code():
    """The rows come from SQL, in no set order: a tie (Italy and Spain, 60 each) is ranked by
    code, so that the same quarters always publish the same table."""
    rows = totals()
    extra = rows[(rows.member == "DE")].assign(member="IT")
    extra = pd.concat([extra, extra.assign(member="ES")])
    rows = pd.concat([rows, extra], ignore_index=True)
    annual = {y: holding(f"{y + 1}02", *year(y)) for y in range(2023, 2025)}
    sources = choose_quarter_sources(annual, [NOVEMBER, DECEMBER])
    results = [quarterly_indicators(rows.sample(frac=1, random_state=seed), sources, HERAULT).changes
               for seed in range(4)]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0], other)
    latest = results[0][(results[0].measure == "quarter") & (results[0].dimension == "partner")]
    ranks = dict(zip(latest.member, latest["rank"], strict=True))
    assert ranks["DE"] < ranks["ES"] < ranks["IT"]  # 60 each: by code


def test_a_missing_previous_quarter_is_said_never_compared_with_zero():
    # Without 2023 in the store, the rolling four quarters' previous period lacks 2023-T4.
    result = indicators(first_year=2024)
    r4q = row_of(result.summary, territory_code="34", measure="r4q")
    assert not r4q.previous_complete and r4q.previous_quarters_missing == 1
    assert pd.isna(r4q.previous_exports_eur) and pd.isna(r4q.exports_change_pct) and pd.isna(r4q.previous_balance_eur)
    assert r4q.exports_eur == 510
    # The year to date needs only 2024-T1…T3: still compared.
    assert row_of(result.summary, territory_code="34", measure="ytd").previous_complete
    r4q_changes = result.changes[result.changes.measure == "r4q"]
    assert r4q_changes["previous_eur"].isna().all() and r4q_changes["contribution_points"].isna().all()


def test_the_united_states_series_covers_every_quarter_held_with_its_status():
    series = indicators().series
    herault = series[series.territory_code == "34"].set_index(["year", "quarter"])
    assert len(herault) == 11  # 2023-T1 … 2025-T3
    assert herault.loc[(2024, 3), "exports_eur"] == 60 and herault.loc[(2025, 3), "exports_eur"] == 30
    assert herault.loc[(2024, 1), "exports_eur"] == 0
    assert (herault.loc[(2025, 3), "status"], herault.loc[(2025, 3), "vintage"]) == (PROVISIONAL, "202512")
    assert (herault.loc[(2024, 3), "status"], herault.loc[(2024, 3), "vintage"]) == (DEFINITIVE, "202502")


def test_the_warehouse_takes_each_quarter_from_its_annual_file_or_newest_vintage():
    """compute_quarterly on a hand-made warehouse: Hérault exports 100 a quarter in 2024 (annual
    file); November's publication says 2024-T4 is 999 (the annual file wins) and 2025-T1 is 110;
    December's revises 2025-T1 to 120. Year to date: 120 against 100 (+20 %)."""
    import json

    import duckdb

    from trade_pipeline.aggregation.quarter_marts import compute_quarterly
    from trade_pipeline.lib.warehouse import create_tables

    def row(year, quarter, value, flow="E"):
        return (year, quarter, flow, "34", "12", "C11Z", "1102", "US", value, 1)

    with duckdb.connect() as connection:
        create_tables(connection)
        connection.executemany("INSERT INTO trade_flows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               [row(2024, q, 100) for q in range(1, 5)])
        connection.execute("INSERT INTO ingestions VALUES (2024, 'v', 'here', false, ?, 4, now()::TIMESTAMP)",
                           [json.dumps([{"name": "202502-Regional-2024-export.zip"}])])
        for vintage, t1 in (("202511", 110), ("202512", 120)):
            connection.executemany("INSERT INTO provisional_flows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   [(vintage, *row(2024, 4, 999)), (vintage, *row(2025, 1, t1))])
            connection.execute("INSERT INTO latest_publications VALUES (?, 'v', 'here', false, '[]', 2, "
                               "now()::TIMESTAMP, 2024, 4, 2025, 1)", [vintage])
        marts = compute_quarterly(connection)
    summary = marts.indicators.summary
    ytd = row_of(summary, territory_code="34", measure="ytd")
    assert (ytd.exports_eur, ytd.previous_exports_eur, ytd.vintage) == (120, 100, "202512")
    assert ytd.exports_change_pct == pytest.approx(20)
    r4q = row_of(summary, territory_code="34", measure="r4q")  # 2024-T2…2025-T1: 100 + 100 + 100 + 120
    assert (r4q.exports_eur, r4q.previous_complete, r4q.previous_quarters_missing) == (420, False, 3)
    quarters = marts.quarters.set_index(["year", "quarter", "origin", "vintage"])
    assert quarters.loc[(2024, 4, "annual", "202502"), "in_use"]
    assert not quarters.loc[(2024, 4, "latest", "202512"), "in_use"]
    assert quarters.loc[(2024, 4, "latest", "202511"), "exports_eur"] == 999  # what November said, kept
    assert quarters.loc[(2025, 1, "latest", "202511"), "exports_eur"] == 110
    assert quarters.loc[(2025, 1, "latest", "202512"), "in_use"]
    series = marts.indicators.series
    assert series[(series.territory_code == "FR")]["exports_eur"].tolist() == [100, 100, 100, 100, 120]
