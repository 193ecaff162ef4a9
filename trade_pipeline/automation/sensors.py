"""Sensors: the automation sensor (recomputes what changed) and the new-vintage sensor."""

import json

import dagster as dg

from trade_pipeline.ingestion.assets import raw_trade_files
from trade_pipeline.ingestion.vintages import ANY_YEAR, fingerprints
from trade_pipeline.metadata import LAUNCHED_BY_TAG
from trade_pipeline.settings import get_settings

#: Runs every automation condition of the graph: the default one is stopped under `dagster dev`
#: (dagster_notes.md §4), this one runs by default.
automation = dg.AutomationConditionSensorDefinition(
    "trade_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Recomputes, in as few runs as possible, what depends on data that changed.",
)


@dg.sensor(
    target=[raw_trade_files],
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Polls the configured source (TRADE_PIPELINE_SOURCE): a new year on the DGDDI listing, a re-issued "
        "zip, a changed ETag or checksum requests the raw files of that year — and only then."
    ),
)
def new_vintage_sensor(context: dg.SensorEvaluationContext):
    settings = get_settings()
    try:
        current = fingerprints(settings)
    except Exception as error:  # the site may be down: try again at the next poll
        return dg.SkipReason(f"could not poll {settings.source}: {error}")
    previous = json.loads(context.cursor) if context.cursor else None
    context.update_cursor(json.dumps({str(year): value for year, value in current.items()}, sort_keys=True))
    if previous is None:
        return dg.SkipReason(f"first poll of {settings.source}: {len(current)} year(s) recorded as the baseline")
    changed = {year: value for year, value in current.items() if previous.get(str(year)) != value}
    if not changed:
        return dg.SkipReason(f"nothing new at {settings.source}")
    if ANY_YEAR in changed:  # one zip of unknown year: refresh the years already built from it
        built = context.instance.get_materialized_partitions(raw_trade_files.key)
        changed = {int(year): changed[ANY_YEAR] for year in built} or changed
        changed.pop(ANY_YEAR, None)
    return [dg.RunRequest(run_key=f"vintage-{year}-{value[-16:]}", partition_key=str(year),
                          tags={LAUNCHED_BY_TAG: "new_vintage_sensor"})
            for year, value in sorted(changed.items())]
