"""`trade-pipeline build`: the pipeline run through Dagster on the persistent instance.

Runs go through the code location's asset job, in process, on the instance under
`$TRADE_PIPELINE_DATA_DIR/dagster`, so they appear in the UI afterwards (same run ids, events,
check results).

A full build uses the same mechanism as the automation sensor: the raw files of the years are
fetched (one run per year), then the graph's automation conditions say what must be recomputed
— what is missing, or depends on data whose version changed — and those partitions are run, in
dependency order, a whole year of territories per run. A second identical build recomputes
nothing and says so. A partial build (`--departement`, `--no-fiches`) runs its scope explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from trade_pipeline.atomic import write_atomically
from trade_pipeline.metadata import LAUNCHED_BY_TAG
from trade_pipeline.partitions import territory_ranges, year_territory_key
from trade_pipeline.provenance import SYNTHETIC_LABEL
from trade_pipeline.settings import Settings
from trade_pipeline.territories import territory, territory_keys

#: The runs this command executes in its own process (see fail_abandoned_runs).
CLI_TAG = {LAUNCHED_BY_TAG: "cli"}

Echo = Callable[[str], None]

#: The assets in dependency order; the runs of a build follow it.
ORDER = ("raw_trade_files", "trade_flows", "territory_flows", "territory_marts", "territory_charts", "fiches",
         "fiche_index", "published_store")
YEAR_LEVEL = ("raw_trade_files", "trade_flows")
UNPARTITIONED = ("fiche_index", "published_store")
FICHE_ASSETS = ("territory_charts", "fiches", "fiche_index")
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
MAX_ROUNDS = 8


class BuildFailed(RuntimeError):
    """A run failed; the message says which asset, which partition and why."""


@dataclass
class RunSummary:
    run_id: str
    label: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rewritten_fiches: int = 0


@dataclass(frozen=True)
class PlannedRun:
    """Some assets over one year, one contiguous range of territories, or no partition."""

    assets: tuple[str, ...]
    year: int | None = None
    territories: tuple[str, str] | None = None  # first and last territory key of a range

    @property
    def label(self) -> str:
        if self.territories:
            first, last = self.territories
            span = territory(first).name if first == last else f"{first} … {last}"
            return f"{self.year}: {', '.join(self.assets)} — {span}"
        return f"{self.year}: {', '.join(self.assets)}" if self.year else ", ".join(self.assets)


def plan_runs(requested: dict[str, set[str | None]]) -> list[PlannedRun]:
    """Runs for requested asset partitions (keys `2024` or `departement-34|2024`), in dependency
    order: consecutive assets wanting the same partitions share runs; a year of territories is
    one run per contiguous range (one run for all of them)."""
    plans: list[PlannedRun] = []
    for year in sorted({int(key) for asset in YEAR_LEVEL for key in requested.get(asset, ())}):
        plans.append(PlannedRun(tuple(a for a in YEAR_LEVEL if str(year) in requested.get(a, ())), year))
    for assets, year, territories in _territory_groups(requested):
        plans += [PlannedRun(assets, year, span) for span in territory_ranges(sorted(territories))]
    unpartitioned = tuple(a for a in UNPARTITIONED if requested.get(a))
    if unpartitioned:
        plans.append(PlannedRun(unpartitioned))
    return plans


def _territory_groups(requested: dict[str, set[str | None]]) -> list[tuple[tuple[str, ...], int, set[str]]]:
    by_year: dict[int, dict[str, set[str]]] = {}
    for asset in ORDER:
        if asset in YEAR_LEVEL or asset in UNPARTITIONED:
            continue
        for key in requested.get(asset, ()):
            place, year = key.split("|")
            by_year.setdefault(int(year), {}).setdefault(asset, set()).add(place)
    groups = []
    for year, assets in sorted(by_year.items()):
        current: list[str] = []
        for asset in [a for a in ORDER if a in assets]:
            if current and assets[current[-1]] != assets[asset]:
                groups.append((tuple(current), year, assets[current[-1]]))
                current = []
            current.append(asset)
        if current:
            groups.append((tuple(current), year, assets[current[-1]]))
    return groups


# --------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------


def _run_config(settings: Settings) -> dict:
    return {
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
        "resources": {"settings": {"config": {"source": settings.source, "data_dir": str(settings.data_dir)}}},
    }


def _summarise(result: dg.ExecuteInProcessResult, label: str) -> RunSummary:
    summary = RunSummary(result.run_id, label, result.success)
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.to_user_string()
            summary.materialized.append(f"{key}[{materialization.partition}]" if materialization.partition else key)
            written = materialization.metadata.get("html_written")
            if key == "fiches" and written is not None and written.value:
                summary.rewritten_fiches += 1
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            failing = evaluation.metadata.get("failing_count")
            detail = f"{failing.value:,} failing" if failing is not None and failing.value else ""
            summary.checks.append((evaluation.check_name, evaluation.passed, detail))
        elif event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            description = data.user_failure_data.description if data.user_failure_data else None
            if not description and data.error is not None:
                cause = data.error.cause or data.error
                description = cause.message.strip()
            summary.failures.append(f"{event.step_key}: {description}")
    return summary


def execute(job: dg.JobDefinition, instance: dg.DagsterInstance, settings: Settings, plan: PlannedRun) -> RunSummary:
    """One run of the code location's asset job, recorded on `instance`."""
    tags = dict(CLI_TAG)
    partition_key = None
    if plan.territories:
        first, last = plan.territories
        tags |= {RANGE_START: str(year_territory_key(plan.year, first)), RANGE_END: str(year_territory_key(plan.year, last))}
    elif plan.year:
        partition_key = str(plan.year)
    result = job.execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(a) for a in plan.assets], partition_key=partition_key,
        tags=tags, run_config=_run_config(settings), raise_on_error=False,
    )
    return _summarise(result, plan.label)


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


UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
              dg.DagsterRunStatus.CANCELING]


def fail_abandoned_runs(instance: dg.DagsterInstance, echo: Echo) -> None:
    """Mark as failed the command-line runs a killed process left « in progress ».

    Command-line runs execute inside the process that holds the pipeline lock; we hold it now, so
    an unfinished one belongs to a process that died (SIGKILL, power cut). Left as is, Dagster
    would consider its partitions in progress for ever and never request them again.
    """
    abandoned = instance.get_runs(dg.RunsFilter(statuses=UNFINISHED, tags=CLI_TAG))
    for run in abandoned:
        instance.report_run_failed(run, "its trade-pipeline process ended without finishing it (killed?)")
    if abandoned:
        echo(f"{len(abandoned)} run(s) of an interrupted build marked as failed; their work is done again now")


def _run_all(plans: list[PlannedRun], job: dg.JobDefinition, instance: dg.DagsterInstance, settings: Settings,
             echo: Echo) -> list[RunSummary]:
    summaries = []
    for plan in plans:
        echo(f"→ {plan.label}")
        summary = execute(job, instance, settings, plan)
        report(summary, echo)
        summaries.append(summary)
        if not summary.success:
            raise BuildFailed(f"{plan.year or 'publication'}: " + " | ".join(summary.failures))
    return summaries


# --------------------------------------------------------------------------------------------
# What to run: automation conditions (full builds) or an explicit scope (partial builds)
# --------------------------------------------------------------------------------------------


def _cursor_path(settings: Settings) -> Path:
    return settings.dagster_home / "cli_automation_cursor"


def requested_by_automation(defs: dg.Definitions, instance: dg.DagsterInstance,
                            cursor: str | None) -> tuple[dict[str, set[str | None]], str]:
    """What the automation conditions request now: {asset: partition keys}, and the new cursor
    (serialized: it is kept between builds, so that « changed » means « since the last build »)."""
    previous = dg.deserialize_value(cursor) if cursor else None
    quiet = logging.getLogger("dagster")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the evaluation logs internals (timestamp fallbacks…) at INFO
    try:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=previous)
    finally:
        quiet.setLevel(level)
    requested: dict[str, set[str | None]] = {}
    for item in result.results:
        if item.true_subset.size:
            keys = {p.partition_key for p in item.true_subset.expensively_compute_asset_partitions()}
            requested[item.key.to_user_string()] = keys
    return requested, dg.serialize_value(result.cursor)


def missing_partitions(instance: dg.DagsterInstance, years: Sequence[int]) -> dict[str, set[str | None]]:
    """Partitions of the built years never materialized (automation does not backfill history:
    what was missing when its conditions were first evaluated is left to explicit builds)."""
    missing: dict[str, set[str | None]] = {}
    for asset in ORDER[1:]:
        done = instance.get_materialized_partitions(dg.AssetKey(asset)) if asset not in UNPARTITIONED else None
        if asset in UNPARTITIONED:
            if instance.get_latest_materialization_event(dg.AssetKey(asset)) is None:
                missing[asset] = {None}
            continue
        wanted = ({str(y) for y in years} if asset in YEAR_LEVEL
                  else {str(year_territory_key(y, t)) for y in years for t in territory_keys()})
        if wanted - done:
            missing[asset] = wanted - done
    return missing


def territories_for(departements: Sequence[str] | None) -> list[str]:
    """Territory keys to build: all, or the given départements with their région and France."""
    if not departements:
        return territory_keys()
    keys = ["france-FR"]
    for code in departements:
        key = f"departement-{code}"
        if key not in territory_keys():
            raise BuildFailed(f"unknown département code {code!r} (DGDDI codes: 01–95, 20, 9A–9E, 99)")
        keys += [f"region-{territory(key).parent_region_code}", key]
    return list(dict.fromkeys(keys))


def explicit_plan(years: Sequence[int], territories: list[str], fiches: bool) -> list[PlannedRun]:
    assets = ("territory_flows", "territory_marts") + (("territory_charts", "fiches") if fiches else ())
    plans = [PlannedRun(("trade_flows",), year) for year in years]
    plans += [PlannedRun(assets, year, span) for year in years for span in territory_ranges(territories)]
    plans.append(PlannedRun(("published_store", "fiche_index") if fiches else ("published_store",)))
    return plans


def _recomputed(summaries: list[RunSummary]) -> dict[str, set[str]]:
    """{asset: partition keys materialized} ('' for an unpartitioned asset)."""
    done: dict[str, set[str]] = {}
    for summary in summaries:
        for item in summary.materialized:
            asset, _, partition = item.partition("[")
            done.setdefault(asset, set()).add(partition.rstrip("]"))
    return done


def _say_what_changed(summaries: list[RunSummary], years: Sequence[int], echo: Echo) -> None:
    done = _recomputed(summaries)
    echo("")
    if not any(asset != "raw_trade_files" for asset in done):
        echo("Nothing changed since the last build: nothing recomputed (raw files identical).")
        return
    echo("Recomputed:")
    for asset in ORDER[1:]:
        keys = done.get(asset)
        if keys is None:
            echo(f"  {asset:17} skipped (unchanged)")
            continue
        if asset in UNPARTITIONED:
            echo(f"  {asset:17} rebuilt")
            continue
        if asset in YEAR_LEVEL:
            echo(f"  {asset:17} {', '.join(sorted(keys))}")
            continue
        for year in sorted({k.split('|')[1] for k in keys}):
            places = sorted(k.split("|")[0] for k in keys if k.endswith(f"|{year}"))
            skipped = len(territory_keys()) - len(places)
            names = ", ".join(territory(p).name for p in places) if len(places) <= 6 else f"{len(places)} territories"
            extra = ""
            if asset == "fiches":
                written = sum(s.rewritten_fiches for s in summaries)
                extra = f" — {written} written (new or changed figures), {len(places) - written} identical"
            echo(f"  {asset:17} {year}: {names}{extra}; {skipped} skipped (unchanged)")


def build(years: Sequence[int], settings: Settings, echo: Echo = print,
          departements: Sequence[str] | None = None, fiches: bool = True) -> list[RunSummary]:
    """Fetch, validate, aggregate, draw and publish; raises BuildFailed on the first failed run.

    `fiches=False` stops at the published store (no charts, no fiches).
    """
    from trade_pipeline.definitions import defs
    from trade_pipeline.instance import prepare_dagster_home
    from trade_pipeline.warehouse import holding_pipeline_lock

    prepare_dagster_home(settings)
    territories = territories_for(departements)
    job = defs.resolve_implicit_global_asset_job_def()
    summaries: list[RunSummary] = []
    with dg.DagsterInstance.get() as instance, holding_pipeline_lock(settings):
        fail_abandoned_runs(instance, echo)
        echo(f"Fetching {', '.join(map(str, years))} from {settings.source}")
        summaries += _run_all([PlannedRun(("raw_trade_files",), year) for year in years], job, instance, settings, echo)
        if departements or not fiches:
            summaries += _run_all(explicit_plan(years, territories, fiches), job, instance, settings, echo)
        else:
            cursor_file = _cursor_path(settings)
            cursor = cursor_file.read_text() if cursor_file.exists() else None
            for _ in range(MAX_ROUNDS):
                requested, cursor = requested_by_automation(defs, instance, cursor)
                requested.pop("raw_trade_files", None)  # fetched above, for the years asked only
                for asset, keys in missing_partitions(instance, years).items():
                    requested.setdefault(asset, set()).update(keys)
                if requested:
                    summaries += _run_all(plan_runs(requested), job, instance, settings, echo)
                # Saved only once what was requested succeeded: after a failure or a crash, the
                # next build asks for the same work again instead of seeing « nothing changed ».
                write_atomically(cursor_file, cursor.encode())
                if not requested:
                    break
            _say_what_changed(summaries, years, echo)
    echo("")
    echo("Outputs:")
    for year in years:
        index = settings.fiches_dir / str(year) / "index.html"
        if index.exists():
            echo(f"  fiches {year}      {index}")
    echo(f"  published store  {settings.published_path}")
    echo(f"  warehouse        {settings.warehouse_path}")
    echo(f"  raw files        {settings.raw_dir}")
    echo(f"  Dagster instance {settings.dagster_home}  (UI: trade-pipeline dev)")
    if settings.is_sample:
        echo(f"  Source: embedded sample — {SYNTHETIC_LABEL}.")
    return summaries

