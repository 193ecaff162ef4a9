"""The yearly refresh: re-fetch the latest two years after DGDDI's annual publication."""

import dagster as dg

from trade_pipeline.ingestion.assets import raw_trade_files
from trade_pipeline.orchestration.metadata import LAUNCHED_BY_TAG

#: Years refreshed by each tick: the last complete year (provisional in March) and the one
#: before (revised by DGDDI in the meantime).
REFRESHED_YEARS = 2


def yearly_refresh_schedule(cron: str) -> dg.ScheduleDefinition:
    """The schedule, on `cron` (TRADE_PIPELINE_REFRESH_CRON, read when the code location loads)."""

    @dg.schedule(
        name="yearly_refresh",
        cron_schedule=cron,
        execution_timezone="Europe/Paris",
        target=[raw_trade_files],
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Re-fetches the raw files of the latest two complete years (by default on 15 March, after the "
            "annual publication, and on 15 October, after its revision; TRADE_PIPELINE_REFRESH_CRON). Only "
            "what changed is then recomputed, by the automation sensor."
        ),
    )
    def yearly_refresh(context: dg.ScheduleEvaluationContext):
        year = context.scheduled_execution_time.year
        stamp = f"{context.scheduled_execution_time:%Y%m%d}"
        for refreshed in range(year - REFRESHED_YEARS, year):
            yield dg.RunRequest(run_key=f"yearly-refresh-{refreshed}-{stamp}", partition_key=str(refreshed),
                                tags={LAUNCHED_BY_TAG: "yearly_refresh"})

    return yearly_refresh
