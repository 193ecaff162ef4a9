"""The latest quarters: which file each quarter comes from, and the indicators that compare them.

DGDDI's « dernière publication » holds the five last complete quarters and is refreshed every
month, each refresh revising earlier months (docs/latest-quarters.md). Quarters of a year that
an annual file covers are **definitive** and come from it; the others are **provisional** and
come from the newest vintage (the publication month) that holds them. Every vintage that held a
quarter stays listed, so that a revision can be read.

The indicators compare periods of quarters, for every territory:

* rolling four quarters (`r4q`): the four quarters up to the latest against the four before;
* year to date (`ytd`): the quarters of the latest quarter's year against the same quarters a
  year earlier;
* the latest quarter (`quarter`) against the same quarter a year earlier.

A previous period with a quarter the store does not hold is **not comparable**: its values are
missing (NULL), never zero. A quarter the store holds where a territory has no row is a zero.

Plain functions on small frames (the quarterly totals per territory, summed in SQL by
`quarter_marts.py`); the Dagster wiring is in `assets.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from trade_pipeline.lib.quarters import PROVISIONAL, Quarter, QuarterSource, quarters_in_use

#: The three comparisons, in the order the fiche shows them.
MEASURES = ("r4q", "ytd", "quarter")
#: Dimensions of the detailed changes: partners (countries and the EU as a whole) and activities (A129).
PARTNER, ACTIVITY = "partner", "activity"
#: The partners always detailed, beside each territory's first ones.
UNITED_STATES, CHINA, EUROPEAN_UNION = "US", "CN", "UE27"
FOCUS_PARTNERS = (UNITED_STATES, EUROPEAN_UNION, CHINA)
TOP_PARTNERS = 5


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    measure: str
    current: tuple[Quarter, ...]
    previous: tuple[Quarter, ...]


def comparisons(latest: Quarter) -> list[Comparison]:
    """The periods each measure compares, for the latest quarter in the store."""
    rolling = tuple(latest.plus(-i) for i in range(3, -1, -1))
    to_date = tuple(Quarter(latest.year, q) for q in range(1, latest.quarter + 1))
    return [
        Comparison("r4q", rolling, tuple(q.plus(-4) for q in rolling)),
        Comparison("ytd", to_date, tuple(q.plus(-4) for q in to_date)),
        Comparison("quarter", (latest,), (latest.plus(-4),)),
    ]


# --------------------------------------------------------------------------------------------
# Indicators
# --------------------------------------------------------------------------------------------

#: Columns of the quarterly totals the indicators start from (one row per territory, flow,
#: dimension member and quarter; dimension `total` has the member '').
TOTALS_COLUMNS = ("level", "territory_code", "flow", "dimension", "member", "year", "quarter", "value_eur")
TOTAL = "total"


@dataclass(frozen=True)
class QuarterlyIndicators:
    summary: pd.DataFrame  # QUARTERLY_SUMMARY
    changes: pd.DataFrame  # QUARTERLY_CHANGES
    series: pd.DataFrame  # QUARTERLY_SERIES


def _period_values(totals: pd.DataFrame, period: tuple[Quarter, ...], keys: list[str]) -> pd.Series:
    indexes = {q.index for q in period}
    selected = totals[totals["quarter_index"].isin(indexes)]
    return selected.groupby(keys, sort=False)["value_eur"].sum()


def _status_of(period: tuple[Quarter, ...], held: Mapping[Quarter, QuarterSource]) -> tuple[bool, str | None]:
    provisional = [held[q] for q in period if q in held and held[q].status == PROVISIONAL]
    return bool(provisional), (max(s.vintage for s in provisional) if provisional else None)


def quarterly_indicators(totals: pd.DataFrame, sources: Iterable[QuarterSource],
                         territories: pd.DataFrame) -> QuarterlyIndicators:
    """R4Q, year-to-date and latest-quarter indicators of every territory in `territories`
    (`level`, `territory_code`), from `totals` (TOTALS_COLUMNS) of the quarters in use."""
    held = quarters_in_use(sources)
    if not held:
        return QuarterlyIndicators(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    latest = max(held)
    frame = totals.assign(quarter_index=totals["year"] * 4 + totals["quarter"] - 1)
    territory_keys = ["level", "territory_code"]
    scope = territories[territory_keys].drop_duplicates().reset_index(drop=True)
    summaries, changes = [], []
    for comparison in comparisons(latest):
        missing = [q for q in comparison.previous if q not in held]
        comparable = not missing
        provisional, vintage = _status_of(comparison.current, held)
        previous_provisional, _ = _status_of(comparison.previous, held)
        summaries.append(_summary(frame, scope, comparison, comparable, len(missing), provisional, vintage,
                                  previous_provisional))
        changes.append(_changes(frame, comparison, comparable))
    summary = pd.concat(summaries, ignore_index=True)
    return QuarterlyIndicators(summary, pd.concat(changes, ignore_index=True), _series(frame, scope, held))


def _summary(frame: pd.DataFrame, scope: pd.DataFrame, comparison: Comparison, comparable: bool, missing: int,
             provisional: bool, vintage: str | None, previous_provisional: bool) -> pd.DataFrame:
    keys = ["level", "territory_code", "flow"]
    total = frame[frame["dimension"] == TOTAL]
    current = _period_values(total, comparison.current, keys).unstack("flow")
    previous = _period_values(total, comparison.previous, keys).unstack("flow") if comparable else None
    first, last = comparison.current[0], comparison.current[-1]
    out = scope.assign(measure=comparison.measure, first_year=first.year, first_quarter=first.quarter,
                       last_year=last.year, last_quarter=last.quarter, quarters=len(comparison.current))
    index = pd.MultiIndex.from_frame(scope)
    for flow, name in (("E", "exports"), ("I", "imports")):
        now = current.reindex(index)[flow] if flow in current else pd.Series(0, index=index)
        out[f"{name}_eur"] = now.fillna(0).astype("int64").to_numpy()
        if previous is not None:
            before = previous.reindex(index)[flow] if flow in previous else pd.Series(0, index=index)
            out[f"previous_{name}_eur"] = pd.array(before.fillna(0).astype("int64").to_numpy(), dtype="Int64")
        else:
            out[f"previous_{name}_eur"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["balance_eur"] = out["exports_eur"] - out["imports_eur"]
    out["previous_balance_eur"] = out["previous_exports_eur"] - out["previous_imports_eur"]
    for name in ("exports", "imports"):
        out[f"{name}_change_pct"] = _percent_change(out[f"{name}_eur"], out[f"previous_{name}_eur"])
    out["previous_complete"] = comparable
    out["previous_quarters_missing"] = missing
    out["provisional"] = provisional
    out["previous_provisional"] = previous_provisional
    out["vintage"] = vintage
    return out


def _percent_change(current: pd.Series, previous: pd.Series) -> pd.Series:
    """Change in %; missing when the previous value is missing or zero (no base to compare with)."""
    base = previous.astype("Float64")
    change = (current.astype("Float64") - base) / base * 100
    return change.where(base.notna() & (base != 0)).astype("Float64")


def _changes(frame: pd.DataFrame, comparison: Comparison, comparable: bool) -> pd.DataFrame:
    """Every partner and activity with its change and contribution to the territory's change.

    Partners kept: the focus partners (United States, EU, China) and each territory's first five
    countries of the current period; activities: every A129 with trade in either period."""
    keys = ["level", "territory_code", "flow", "dimension", "member"]
    detail = frame[frame["dimension"] != TOTAL]
    current = _period_values(detail, comparison.current, keys).rename("current_eur")
    previous = (_period_values(detail, comparison.previous, keys) if comparable
                else pd.Series(dtype="int64", index=current.index[:0])).rename("previous_eur")
    both = pd.concat([current, previous], axis=1).fillna(0).reset_index()
    both["current_eur"] = both["current_eur"].astype("int64")
    both["previous_eur"] = pd.array(both["previous_eur"].astype("int64").to_numpy(), dtype="Int64")
    if not comparable:
        both["previous_eur"] = pd.array([pd.NA] * len(both), dtype="Int64")
    both = both[(both["current_eur"] != 0) | (both["previous_eur"].fillna(0) != 0)]
    # Ranks break ties by member code: the rows' order comes from SQL, which has none, and the
    # same quarters must publish the same ranks.
    both = both.sort_values(keys).reset_index(drop=True)
    territory_total = (frame[frame["dimension"] == TOTAL])
    previous_total = _period_values(territory_total, comparison.previous, ["level", "territory_code", "flow"])
    both["rank"] = (both.groupby(["level", "territory_code", "flow", "dimension"])["current_eur"]
                    .rank(method="first", ascending=False).astype("int64"))
    is_partner = both["dimension"] == PARTNER
    country = is_partner & (both["member"] != EUROPEAN_UNION)
    country_rank = (both[country].groupby(["level", "territory_code", "flow"])["current_eur"]
                    .rank(method="first", ascending=False))
    kept = ~is_partner | both["member"].isin(FOCUS_PARTNERS) | (country_rank.reindex(both.index) <= TOP_PARTNERS)
    both = both[kept].copy()
    both.loc[both["dimension"] == PARTNER, "rank"] = (
        both[both["dimension"] == PARTNER].groupby(["level", "territory_code", "flow"])["current_eur"]
        .rank(method="first", ascending=False).astype("int64"))
    base = pd.Series(list(zip(both["level"], both["territory_code"], both["flow"], strict=True)),
                     index=both.index).map(previous_total.to_dict() if comparable else {}).astype("Float64")
    both["change_eur"] = (both["current_eur"] - both["previous_eur"]).astype("Int64")
    both["change_pct"] = _percent_change(both["current_eur"], both["previous_eur"])
    # Contribution: the member's change as points of the territory's change (sums to its change %).
    both["contribution_points"] = (both["change_eur"].astype("Float64") / base * 100).where(base.notna() & (base != 0))
    both.insert(2, "measure", comparison.measure)
    return both.sort_values(["level", "territory_code", "flow", "dimension", "rank"]).reset_index(drop=True)


def _series(frame: pd.DataFrame, scope: pd.DataFrame, held: Mapping[Quarter, QuarterSource]) -> pd.DataFrame:
    """Exports to and imports from the United States, every quarter in the store, every territory."""
    us = frame[(frame["dimension"] == PARTNER) & (frame["member"] == UNITED_STATES)]
    values = us.groupby(["level", "territory_code", "quarter_index", "flow"])["value_eur"].sum().unstack("flow")
    quarters = sorted(held)
    grid = scope.merge(pd.DataFrame({"quarter_index": [q.index for q in quarters]}), how="cross")
    grid = grid.join(values, on=["level", "territory_code", "quarter_index"])
    out = grid[["level", "territory_code"]].copy()
    out["year"] = grid["quarter_index"] // 4
    out["quarter"] = grid["quarter_index"] % 4 + 1
    for flow, name in (("E", "exports_eur"), ("I", "imports_eur")):
        out[name] = (grid[flow] if flow in grid else pd.Series(0, index=grid.index)).fillna(0).astype("int64")
    by_quarter = {q.index: held[q] for q in quarters}
    out["status"] = grid["quarter_index"].map(lambda i: by_quarter[i].status)
    out["vintage"] = grid["quarter_index"].map(lambda i: by_quarter[i].vintage)
    return out.reset_index(drop=True)
