"""Sensors: the automation sensor (recomputes what changed), the new-vintage sensor (the years' files)
and the latest-publication sensor (DGDDI's monthly « dernière publication »)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import dagster as dg

from trade_pipeline.ingestion.assets import latest_publication_files, raw_trade_files
from trade_pipeline.ingestion.vintages import ANY_YEAR, fingerprints, latest_fingerprint
from trade_pipeline.lib.warehouse import PipelineBusy, holding_pipeline_lock
from trade_pipeline.orchestration import refresh, rounds, run_workers
from trade_pipeline.orchestration.metadata import LAUNCHED_BY_TAG, UNFINISHED_STATUSES
from trade_pipeline.orchestration.partitions import parse_partition_key
from trade_pipeline.orchestration.resources import PipelineSettings
from trade_pipeline.settings import Settings

if TYPE_CHECKING:
    from trade_pipeline.orchestration.dagster_internals import AssetJob

AUTOMATION_SENSOR = "trade_automation"


def automation_sensor(interval_s: int, jobs: list[AssetJob]) -> dg.SensorDefinition:
    """The daemon's side of `automation.refresh`: the same evaluation, cursor and plan as
    `trade-pipeline build`, whose runs go to the run queue (in dependency order: one run at a
    time, dagster.yaml). Skipped while a build holds the pipeline lock: it does the work."""

    @dg.sensor(
        name=AUTOMATION_SENSOR,
        jobs=jobs,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Recomputes what depends on data whose version changed — the same decision as "
                    "`trade-pipeline build` (orchestration/refresh.py). Charts and fiches: only for the years "
                    "of TRADE_PIPELINE_FICHE_YEARS — by default the years that have fiches and the latest year "
                    "(a year built with --no-fiches stays so); `trade-pipeline plan` prints what it would run now.",
    )
    def trade_automation(context: dg.SensorEvaluationContext, settings: PipelineSettings):
        config = settings.get()
        repository = context.repository_def
        gone = run_workers.fail_runs_without_worker(context.instance)
        if gone:  # their round's work is requested again once its other runs end (rounds.recover_lost_round)
            return _skip(context, f"{len(gone)} run(s) whose worker process is gone (the code server was stopped "
                                  f"with them) marked as failed: {', '.join(gone)}")
        # One round at a time, like `trade-pipeline build`: evaluating while the previous round's
        # runs wait in the queue would see half of its changes (France's marts not yet redone)
        # and request the charts and fiches again for each half.
        unfinished = context.instance.get_runs_count(dg.RunsFilter(
            statuses=UNFINISHED_STATUSES, tags={LAUNCHED_BY_TAG: AUTOMATION_SENSOR}))
        if unfinished:
            return _skip(context, f"{unfinished} run(s) of its previous evaluation not finished yet; "
                                  "it evaluates again once they are")
        try:
            with holding_pipeline_lock(config, timeout=0):
                recovered = rounds.recover_lost_round(context.instance)
                if recovered:
                    context.log.warning(recovered)
                evaluation = refresh.evaluate(repository, context.instance)
                planned = daemon_plan(evaluation, repository, context.instance, config)
                cursor, runs = refresh.advance(evaluation, planned.not_run), planned.runs
                if not runs:
                    refresh.save_cursor(context.instance, cursor)
                    return _skip(context, "nothing changed since the last evaluation"
                                          + left_out_words(planned.left_out))
                round_tag = rounds.save_cursor_for_round(context.instance, cursor, len(runs))
        except PipelineBusy as busy:
            return _skip(context, f"a build is running ({busy}); it recomputes what changed itself")
        context.log.info(f"{len(runs)} run(s), in this order: " + "; ".join(run.label for run in runs)
                         + left_out_words(planned.left_out))
        return [run.run_request({LAUNCHED_BY_TAG: AUTOMATION_SENSOR, rounds.ROUND_TAG: round_tag})
                for run in runs]

    return trade_automation


def _skip(context: dg.SensorEvaluationContext, reason: str) -> dg.SkipReason:
    """A skipped tick, with its reason where the UI shows it: the tick's « View logs » (the tick
    list itself shows « 0 runs requested », and its skip reason nowhere)."""
    context.log.info(reason)
    return dg.SkipReason(reason)


def daemon_plan(evaluation: refresh.Evaluation, repository: dg.RepositoryDefinition,
                instance: dg.DagsterInstance, config: Settings) -> refresh.Plan:
    """What the daemon runs of an evaluation: everything, but the charts and fiches of the years
    outside TRADE_PIPELINE_FICHE_YEARS (left requested: a build of those years makes them)."""
    years = refresh.automated_years(config.fiche_years, refresh.stored_years(instance),
                                    refresh.years_built(config.fiches_dir))
    return refresh.plan(evaluation.requested, repository.asset_graph, years=years,
                        years_restrict=refresh.PICTURE_ASSETS)


def left_out_words(left_out: refresh.Requested) -> str:
    years = sorted({parse_partition_key(p)[0] for keys in left_out.values() for p in keys})
    if not years:
        return ""
    return (f"; the charts and fiches of {', '.join(map(str, years))} are left alone (TRADE_PIPELINE_FICHE_YEARS: "
            "`trade-pipeline build --year` makes them)")


@dg.sensor(
    target=[raw_trade_files],
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Polls the configured source (TRADE_PIPELINE_SOURCE): a new year on the DGDDI listing, a re-issued "
        "zip, a changed ETag or checksum requests the raw files of that year — and only then."
    ),
)
def new_vintage_sensor(context: dg.SensorEvaluationContext, settings: PipelineSettings):
    config = settings.get()
    try:
        current = fingerprints(config)
    except Exception as error:  # the site may be down: try again at the next poll
        return _skip(context, f"could not poll {config.source}: {error}")
    previous = json.loads(context.cursor) if context.cursor else None
    context.update_cursor(json.dumps({str(year): value for year, value in current.items()}, sort_keys=True))
    if previous is None:
        return _skip(context, f"first poll of {config.source}: {len(current)} year(s) recorded as the baseline")
    changed = {year: value for year, value in current.items() if previous.get(str(year)) != value}
    if not changed:
        return _skip(context, f"nothing new at {config.source}")
    if ANY_YEAR in changed:  # one zip of unknown year: refresh the years already built from it
        built = context.instance.get_materialized_partitions(raw_trade_files.key)
        changed = {int(year): changed[ANY_YEAR] for year in built} or changed
        changed.pop(ANY_YEAR, None)
    return [dg.RunRequest(run_key=f"vintage-{year}-{value[-16:]}", partition_key=str(year),
                          tags={LAUNCHED_BY_TAG: "new_vintage_sensor"})
            for year, value in sorted(changed.items())]


@dg.sensor(
    target=[latest_publication_files],
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Polls the configured source (TRADE_PIPELINE_SOURCE) for DGDDI's latest publication, released every "
        "month: a new month (or a re-issued file) requests latest_publication_files — and only then; the "
        "automation sensor then recomputes the latest quarters and what shows them (docs/latest-quarters.md)."
    ),
)
def latest_publication_sensor(context: dg.SensorEvaluationContext, settings: PipelineSettings):
    config = settings.get()
    try:
        current = latest_fingerprint(config)
    except Exception as error:  # the site may be down: try again at the next poll
        return _skip(context, f"could not poll {config.source}: {error}")
    previous = context.cursor
    context.update_cursor(current or "")
    if current is None:
        return _skip(context, f"{config.source} offers no latest publication")
    if previous is None:
        return _skip(context, f"first poll of {config.source}: its latest publication recorded as the baseline")
    if previous == current:
        return _skip(context, f"no new latest publication at {config.source}")
    return dg.RunRequest(run_key=f"latest-{current[-16:]}", tags={LAUNCHED_BY_TAG: "latest_publication_sensor"})
