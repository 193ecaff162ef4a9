"""`trade-pipeline build`: fetch the years asked for, then recompute what changed — through
Dagster, in this process, on the persistent instance (its runs show in the UI afterwards).

What is recomputed is decided by `automation.refresh`, exactly as the daemon's sensor decides:
the same conditions, the same cursor, the same runs. The build holds the pipeline lock from
start to end, so the sensor skips its ticks meanwhile and never requests the same work. It
evaluates in rounds (a slice that changed makes its marts stale only once it has run) until
nothing more is requested, and says what it recomputed and what it skipped. `--no-fiches`
evaluates the graph up to the published store; `--departement` runs only those territories
(and their région and France) and leaves the rest of what changed to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import dagster as dg

from trade_pipeline.lib.provenance import SYNTHETIC_LABEL
from trade_pipeline.lib.territories import department_scope, territory, territory_keys
from trade_pipeline.lib.warehouse import storage_write_message
from trade_pipeline.orchestration import dagster_internals, refresh, rounds
from trade_pipeline.orchestration.metadata import CLI_TAG, UNFINISHED_STATUSES
from trade_pipeline.orchestration.partitions import parse_partition_key, years_of
from trade_pipeline.publication.history import Publication, current_publication
from trade_pipeline.settings import Settings

if TYPE_CHECKING:
    from trade_pipeline.orchestration.dagster_internals import AssetGraph

RAW_FILES = dg.AssetKey("raw_trade_files")
LATEST_FILES = dg.AssetKey("latest_publication_files")
#: The steps of a latest publication before it meets the years: their failure does not stop a build.
LATEST_CHAIN = frozenset({LATEST_FILES, dg.AssetKey("provisional_flows")})
PUBLISHED_STORE = dg.AssetKey("published_store")
#: Rounds of evaluation before giving up (a year needs three: rows, then marts, then nothing).
MAX_ROUNDS = 8

Echo = Callable[[str], None]


class BuildFailed(RuntimeError):
    """A run failed; the message says which asset, which partition and why.

    `published` is the publication this build made before the failure (consumers see it), if
    any; `not_made` the assets of the failed run and those after it in the graph: what a reader
    of the fiches does not get from this build."""

    def __init__(self, message: str, run: refresh.Run | None = None):
        super().__init__(message)
        self.run = run
        self.published: Publication | None = None
        self.not_made: list[str] = []


@dataclass
class RunSummary:
    run_id: str
    label: str
    success: bool
    materialized: list[tuple[str, str | None]] = field(default_factory=list)  # (asset, partition)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: The fiche partitions whose page was rewritten (new or changed figures).
    rewritten_fiches: set[str] = field(default_factory=set)
    #: Seconds spent in each step that succeeded (a step is an asset: its key is the asset's name).
    step_seconds: dict[str, float] = field(default_factory=dict)


def _summarise(result: dg.ExecuteInProcessResult, label: str) -> RunSummary:
    summary = RunSummary(result.run_id, label, result.success)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        key = materialization.asset_key.to_user_string()
        recomputed = materialization.metadata.get("recomputed")
        if recomputed is not None and not recomputed.value:
            continue  # materialized again with its version unchanged: not recomputed
        summary.materialized.append((key, str(materialization.partition) if materialization.partition else None))
        written = materialization.metadata.get("html_written")
        if key == "fiches" and written is not None and written.value:
            summary.rewritten_fiches.add(str(materialization.partition))
    for evaluation in result.get_asset_check_evaluations():
        failing = evaluation.metadata.get("failing_count")
        examples = evaluation.metadata.get("examples")
        detail = f"{failing.value:,} failing" if failing is not None and failing.value else ""
        if examples is not None and examples.value:  # what failed, and where: a code and its file and lines
            shown = list(examples.value)
            detail += f": {'; '.join(map(str, shown[:2]))}{'; …' if len(shown) > 2 else ''}"
        summary.checks.append((evaluation.check_name, evaluation.passed, detail))
    for event in result.get_step_success_events():
        seconds = event.step_success_data.duration_ms / 1000
        summary.step_seconds[event.step_key] = summary.step_seconds.get(event.step_key, 0.0) + seconds
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        description = data.user_failure_data.description if data.user_failure_data else None
        if not description and data.error is not None:
            cause = data.error.cause or data.error
            description = cause.message.strip()
        summary.failures.append(f"{event.step_key}: {description}")
    return summary


def _run_config(settings: Settings, verbose: bool) -> dict:
    logger = {"console": {"config": {"log_level": "DEBUG"}}} if verbose else {"cli": {}}
    return {
        "loggers": logger,
        "resources": {"settings": {"config": {"source": settings.source, "data_dir": str(settings.data_dir),
                                              "accept_change": settings.accept_change}}},
    }


def execute(defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings, run: refresh.Run,
            verbose: bool = False) -> RunSummary:
    """One planned run, through its job, recorded on `instance`."""
    result = defs.resolve_job_def(run.job_name).execute_in_process(
        instance=instance, asset_selection=list(run.assets), partition_key=run.partition_key,
        tags={**CLI_TAG, **run.tags}, run_config=_run_config(settings, verbose), raise_on_error=False,
    )
    return _summarise(result, run.label)


def report(summary: RunSummary, echo: Echo) -> None:
    mark = "✔" if summary.success else "✘"
    echo(f"{mark} {summary.label} (run {summary.run_id[:8]})")
    for asset, keys in _recomputed([summary]).items():
        shown = sorted(k for k in keys if k)
        if len(shown) > 3:
            echo(f"    materialized {asset}: {len(shown)} partitions")
        else:
            echo(f"    materialized {asset}{': ' + ', '.join(shown) if shown else ''}")
    if summary.checks:
        passed = sum(ok for _, ok, _ in summary.checks)
        echo(f"    checks: {passed}/{len(summary.checks)} passed"
             + "".join(f"; {name} FAILED ({detail})" for name, ok, detail in summary.checks if not ok))
    for failure in summary.failures:
        echo(f"    FAILED {failure}")


def fail_abandoned_runs(instance: dg.DagsterInstance, echo: Echo) -> None:
    """Mark as failed the command-line runs a killed process left « in progress ».

    Command-line runs execute inside the process that holds the pipeline lock; we hold it now, so
    an unfinished one belongs to a process that died (SIGKILL, power cut). Left as is, Dagster
    would consider its partitions in progress for ever and never request them again, and keep
    its slot of the warehouse pool (no daemon watches command-line runs to give it back).
    """
    abandoned = instance.get_runs(dg.RunsFilter(statuses=UNFINISHED_STATUSES, tags=CLI_TAG))
    for run in abandoned:
        instance.report_run_failed(run, "its trade-pipeline process ended without finishing it (killed?)")
        dagster_internals.free_pool_slots(instance, run.run_id)
    if abandoned:
        echo(f"{len(abandoned)} run(s) of an interrupted build marked as failed; their work is done again now")


def _run_all(runs: list[refresh.Run], defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings,
             echo: Echo, verbose: bool, refused: set[dg.AssetKey] | None = None) -> list[RunSummary]:
    """Execute the runs in order; the first failure stops the build (BuildFailed) — but a refused
    latest publication (LATEST_CHAIN) is said, recorded in `refused`, and the build goes on:
    a damaged monthly file never holds back the years."""
    summaries = []
    for run in runs:
        if refused is not None and set(run.assets) <= refused:
            continue  # refused earlier in this build: left requested for the next one
        echo(f"→ {run.label}")
        try:
            summary = execute(defs, instance, settings, run, verbose)
        except Exception as error:  # Dagster's own storage failed under the run (a full disk…)
            storage = storage_write_message(str(error), settings.dagster_home)
            if storage is None:
                raise
            raise BuildFailed(f"{run.label}: {storage}", run) from None
        report(summary, echo)
        summaries.append(summary)
        if not summary.success and refused is not None and set(run.assets) <= LATEST_CHAIN:
            refused.update(run.assets)
            echo(f"warning: the latest publication was refused ({' | '.join(summary.failures)}); the years are "
                 "built without it and the latest quarters stay as they were")
            continue
        if not summary.success:
            failures = " | ".join(summary.failures)
            storage = storage_write_message(failures, settings.dagster_home)
            raise BuildFailed(f"{run.year if run.year is not None else 'publication'}: "
                              + (f"{storage} ({failures})" if storage else failures), run)
    return summaries


def _recomputed(summaries: list[RunSummary]) -> dict[str, set[str]]:
    """{asset: partition keys materialized} ('' for an unpartitioned asset)."""
    done: dict[str, set[str]] = {}
    for summary in summaries:
        for asset, partition in summary.materialized:
            done.setdefault(asset, set()).add(partition or "")
    return done


def _step_seconds(summaries: list[RunSummary]) -> dict[str, float]:
    """Seconds per step (asset), summed over the build's runs."""
    seconds: dict[str, float] = {}
    for summary in summaries:
        for step, value in summary.step_seconds.items():
            seconds[step] = seconds.get(step, 0.0) + value
    return seconds


def _say_left_out(left_out: refresh.Requested, echo: Echo) -> None:
    """What this build left for later: other years' charts and fiches, other territories."""
    for key, partitions in left_out.items():
        years = sorted({parse_partition_key(p)[0] for p in partitions})
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        echo(f"  {key.to_user_string():24} {len(partitions)} partition(s) of {span} outside this build's --year or "
             "--departement: left for the next build of those (or the daemon)")


def _say_what_changed(summaries: list[RunSummary], graph_order: list[str], left_out: refresh.Requested,
                      echo: Echo, wall_seconds: float) -> None:
    done = _recomputed(summaries)
    seconds = _step_seconds(summaries)
    echo("")
    if not any(asset not in (RAW_FILES.to_user_string(), LATEST_FILES.to_user_string()) for asset in done):
        echo(f"Nothing changed since the last build: nothing recomputed (raw files identical). "
             f"{wall_seconds:.1f} s in all.")
        _say_left_out(left_out, echo)
        return
    echo("Recomputed (— the time of each step):")
    for asset in graph_order:
        keys = done.get(asset)
        took = f" — {seconds[asset]:.1f} s" if asset in seconds else ""
        if asset == RAW_FILES.to_user_string():
            echo(f"  {asset:24} fetched {', '.join(sorted(keys or []))}{took}")
        elif asset == LATEST_FILES.to_user_string():
            echo(f"  {asset:24} {'fetched' if keys else 'none offered by the source'}{took}")
        elif keys is None:
            echo(f"  {asset:24} skipped (unchanged)")
        elif keys == {""}:
            echo(f"  {asset:24} rebuilt{took}")
        elif all("|" not in k for k in keys):
            echo(f"  {asset:24} {', '.join(sorted(keys))}{took}")
        else:
            for year, places in sorted(years_of(keys).items()):
                skipped = len(territory_keys()) - len(places)
                names = ", ".join(territory(p).name for p in sorted(places)) if len(places) <= 6 \
                    else f"{len(places)} territories"
                extra = ""
                if asset == "fiches":
                    written = sum(parse_partition_key(partition)[0] == year
                                  for s in summaries for partition in s.rewritten_fiches)
                    extra = f" — {written} written (new or changed figures), {len(places) - written} identical"
                echo(f"  {asset:24} {year}: {names}{extra}; {skipped} skipped (unchanged){took}")
                took = ""  # the step's time once, on its asset's first line
    _say_left_out(left_out, echo)
    steps = sum(seconds.values())
    echo(f"  {'in all':24} {wall_seconds:.1f} s ({steps:.1f} s in the steps, the rest in Dagster's runs and "
         "the evaluation of what changed)")


def _not_made(run: refresh.Run | None, graph: AssetGraph, only: Set[dg.AssetKey] | None) -> list[str]:
    """The failed run's assets and every asset after them in the graph (within `only`)."""
    if run is None:
        return []
    after = set(run.assets)
    for key in graph.toposorted_asset_keys:
        if any(parent in after for parent in graph.get(key).parent_keys):
            after.add(key)
    return [key.to_user_string() for key in graph.toposorted_asset_keys
            if key in after and (only is None or key in only)]


def build(years: Sequence[int], settings: Settings, echo: Echo = print, departments: Sequence[str] | None = None,
          fiches: bool = True, accept: bool = False, verbose: bool = False) -> list[RunSummary]:
    """Fetch the years, then recompute what changed; raises BuildFailed on the first failed run.

    `fiches=False` evaluates the graph up to the published store (no charts, no fiches); the
    charts and fiches made are those of `years` (the marts of every year are kept up to date:
    the fiches' series read them);
    `departments` restricts the territories to these départements, their régions and France;
    `accept` lets through a year whose totals differ widely from what is stored (see
    the check `consistent_with_stored`); `verbose` prints Dagster's own log, stack traces included.
    """
    from trade_pipeline.definitions import defs
    from trade_pipeline.lib.warehouse import holding_pipeline_lock
    from trade_pipeline.orchestration.instance import open_instance, prepare_dagster_home

    try:
        scope: Set[str] | None = set(department_scope(list(departments))) if departments else None
    except ValueError as error:
        raise BuildFailed(str(error)) from None
    settings = replace(settings, accept_change=accept)
    prepare_dagster_home(settings)
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    only = None if fiches else refresh.upstream_of(graph, {PUBLISHED_STORE})
    summaries: list[RunSummary] = []
    left_out: refresh.Requested = {}
    started = time.perf_counter()
    with open_instance(settings) as instance, holding_pipeline_lock(settings, on_wait=echo):
        before = current_publication(settings.published_dir)
        try:
            fail_abandoned_runs(instance, echo)
            recovered = rounds.recover_lost_round(instance)
            if recovered:
                echo(recovered)
            refresh.prime(repository, instance)
            echo(f"Fetching {', '.join(map(str, years))} from {settings.source}")
            refused: set[dg.AssetKey] = set()
            summaries += _run_all([refresh.Run((RAW_FILES,), year) for year in years] + [refresh.Run((LATEST_FILES,))],
                                  defs, instance, settings, echo, verbose, refused)
            for _ in range(MAX_ROUNDS):
                evaluation = refresh.evaluate(repository, instance, only)
                planned = refresh.plan(evaluation.requested, graph, scope, set(years), refresh.PICTURE_ASSETS)
                left_out = planned.left_out
                summaries += _run_all(planned.runs, defs, instance, settings, echo, verbose, refused)
                # Saved only once what was requested succeeded: after a failure or a crash, the next
                # build (or the daemon) asks for the same work again instead of seeing « nothing changed ».
                not_run = {**planned.not_run, **{key: {None} for key in refused if key in evaluation.requested}}
                refresh.save_cursor(instance, refresh.advance(evaluation, not_run))
                if not [run for run in planned.runs if not set(run.assets) <= refused] and not planned.held_back:
                    break
            else:
                echo(f"warning: still finding work after {MAX_ROUNDS} rounds; run the build again to finish it")
        except BuildFailed as failed:
            after = current_publication(settings.published_dir)
            failed.published = after if after is not None and (before is None or after.id != before.id) else None
            failed.not_made = _not_made(failed.run, graph, only)
            raise
        order = [key.to_user_string() for key in graph.toposorted_asset_keys if only is None or key in only]
        _say_what_changed(summaries, order, left_out, echo, time.perf_counter() - started)
    echo("")
    echo("Outputs:")
    for year in years:
        index = settings.fiches_dir / str(year) / "index.html"
        if index.exists():
            echo(f"  fiches {year}      {index}")
    conjoncture = settings.conjoncture_dir / "index.html"
    if fiches and conjoncture.exists():
        echo(f"  conjoncture      {conjoncture}  (the latest quarters, every territory)")
    echo(f"  published store  {settings.published_path}")
    echo(f"  warehouse        {settings.warehouse_path}")
    echo(f"  raw files        {settings.raw_dir}")
    echo(f"  Dagster instance {settings.dagster_home}  (UI: trade-pipeline dev)")
    if settings.is_sample:
        echo(f"  Source: embedded sample — {SYNTHETIC_LABEL}.")
    return summaries
