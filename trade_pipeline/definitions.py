"""The Dagster code location: assets, checks, resources, schedules and sensors.

Built from the settings once, when the code location loads (`build_definitions`): the schedule's
cron and the automation sensor's interval are part of the definitions. Everything a run needs
is resolved again when the run starts, by the resources.
"""

from __future__ import annotations

import dagster as dg

from trade_pipeline.aggregation.assets import quarterly_indicators, territory_flows, territory_marts
from trade_pipeline.charts.assets import territory_charts
from trade_pipeline.fiches.assets import conjoncture, fiche_index, fiches
from trade_pipeline.ingestion.assets import latest_publication_files, raw_trade_files
from trade_pipeline.orchestration.loggers import LOGGERS
from trade_pipeline.orchestration.refresh import jobs_for
from trade_pipeline.orchestration.resources import pipeline_resources
from trade_pipeline.orchestration.schedules import yearly_refresh_schedule
from trade_pipeline.orchestration.sensors import automation_sensor, latest_publication_sensor, new_vintage_sensor
from trade_pipeline.publication.assets import published_store
from trade_pipeline.settings import Settings, get_settings
from trade_pipeline.validation.assets import provisional_flows, trade_flows

ASSETS = [raw_trade_files, trade_flows, territory_flows, territory_marts, territory_charts, fiches, fiche_index,
          published_store, latest_publication_files, provisional_flows, quarterly_indicators, conjoncture]


def build_definitions(settings: Settings) -> dg.Definitions:
    jobs = jobs_for(ASSETS)
    return dg.Definitions(
        assets=ASSETS,
        jobs=jobs,
        schedules=[yearly_refresh_schedule(settings.refresh_cron)],
        sensors=[automation_sensor(settings.automation_interval_s, jobs), new_vintage_sensor, latest_publication_sensor],
        resources=pipeline_resources(),
        loggers=LOGGERS,
        # One process per run: 2 cores, and Great Expectations costs ~3 s to import per process.
        executor=dg.in_process_executor,
    )


defs = build_definitions(get_settings())
