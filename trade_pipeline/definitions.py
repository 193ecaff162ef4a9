"""The Dagster code location: assets, checks, resources, schedules and sensors."""

from __future__ import annotations

import dagster as dg

from trade_pipeline.aggregation.assets import territory_flows, territory_marts
from trade_pipeline.automation.schedules import yearly_refresh
from trade_pipeline.automation.sensors import automation, new_vintage_sensor
from trade_pipeline.charts.assets import territory_charts
from trade_pipeline.fiches.assets import fiche_index, fiches
from trade_pipeline.ingestion.assets import raw_trade_files
from trade_pipeline.publication.assets import published_store
from trade_pipeline.resources import PipelineSettings
from trade_pipeline.validation.assets import trade_flows

defs = dg.Definitions(
    assets=[raw_trade_files, trade_flows, territory_flows, territory_marts, territory_charts, fiches, fiche_index,
            published_store],
    schedules=[yearly_refresh],
    sensors=[automation, new_vintage_sensor],
    resources={"settings": PipelineSettings()},
    # One process per run: 2 cores, and Great Expectations costs ~3 s to import per process.
    executor=dg.in_process_executor,
)
