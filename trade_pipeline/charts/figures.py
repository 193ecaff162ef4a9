"""The charts of a territory's fiche, in the order the fiche shows them."""

from __future__ import annotations

from collections.abc import Callable

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.charts.activities import activities_chart
from trade_pipeline.charts.chart import Chart
from trade_pipeline.charts.contributions import contributions_chart
from trade_pipeline.charts.evolution import evolution_chart
from trade_pipeline.charts.flows import flows_chart
from trade_pipeline.charts.maps import locator_chart
from trade_pipeline.charts.partners import partners_chart
from trade_pipeline.charts.united_states import united_states_chart

#: Charts of every territory; régions and France also get the compact Sankeys shown beside a
#: département's (or a région's) own in its fiche.
OWN_CHARTS: tuple[Callable[[TerritoryData], Chart], ...] = (
    partners_chart,
    lambda d: activities_chart(d, "I"),
    lambda d: activities_chart(d, "E"),
    lambda d: flows_chart(d, "E"),
    lambda d: flows_chart(d, "I"),
    evolution_chart,
    lambda d: contributions_chart(d, "E"),
    lambda d: contributions_chart(d, "I"),
    united_states_chart,
    lambda d: united_states_chart(d, "I"),
    lambda d: locator_chart(d.territory),
)


COMPARISON_CHARTS: tuple[Callable[[TerritoryData], Chart], ...] = (
    lambda d: flows_chart(d, "E", compact=True),
    lambda d: flows_chart(d, "I", compact=True),
)


def charts_for(data: TerritoryData) -> list[Chart]:
    charts = [build(data) for build in OWN_CHARTS]
    if data.territory.level in ("region", "france"):
        charts += [build(data) for build in COMPARISON_CHARTS]
    return charts
