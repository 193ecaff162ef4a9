"""`trade-pipeline build`: the pipeline run through Dagster on the persistent instance.

Runs go through the code location's asset job, in process, on the instance under
`$TRADE_PIPELINE_DATA_DIR/dagster`, so they appear in the UI afterwards (same run ids, events,
check results). One run per year for the year-level assets, then one publication run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from trade_pipeline.ingestion.sample import SYNTHETIC_LABEL
from trade_pipeline.nomenclature import territory, territory_keys
from trade_pipeline.partitions import territory_ranges, year_territory_key
from trade_pipeline.settings import Settings

Echo = Callable[[str], None]

YEAR_ASSETS = ("raw_trade_files", "trade_flows")
DATA_ASSETS = ("territory_flows", "territory_marts")
FICHE_ASSETS = ("territory_charts", "fiches")
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


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


def execute(job: dg.JobDefinition, instance: dg.DagsterInstance, settings: Settings, assets: Sequence[str],
            label: str, partition_key: str | None = None, tags: dict[str, str] | None = None) -> RunSummary:
    """One run of some assets of the code location's asset job, recorded on `instance`."""
    result = job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(a) for a in assets],
        partition_key=partition_key,
        tags={"trade_pipeline/launched_by": "cli", **(tags or {})},
        run_config=_run_config(settings),
        raise_on_error=False,
    )
    return _summarise(result, label)


def report(summary: RunSummary, echo: Echo) -> None:
    mark = "✔" if summary.success else "✘"
    echo(f"{mark} {summary.label} (run {summary.run_id[:8]})")
    for item in summary.materialized:
        echo(f"    materialized {item}")
    if summary.checks:
        passed = sum(ok for _, ok, _ in summary.checks)
        echo(f"    checks: {passed}/{len(summary.checks)} passed"
             + "".join(f"; {name} FAILED ({detail})" for name, ok, detail in summary.checks if not ok))
    for failure in summary.failures:
        echo(f"    FAILED {failure}")


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


def _report_territories(summary: RunSummary, echo: Echo) -> None:
    """Like report(), with materializations counted per asset (116 partitions each)."""
    partitions: dict[str, set[str]] = {}
    for item in summary.materialized:
        asset, _, partition = item.partition("[")
        partitions.setdefault(asset, set()).add(partition)
    mark = "✔" if summary.success else "✘"
    echo(f"{mark} {summary.label} (run {summary.run_id[:8]})")
    for asset, keys in partitions.items():
        echo(f"    materialized {asset}: {len(keys)} partition(s)")
    for failure in summary.failures:
        echo(f"    FAILED {failure}")


def build(years: Sequence[int], settings: Settings, echo: Echo = print,
          departements: Sequence[str] | None = None, fiches: bool = True) -> list[RunSummary]:
    """Ingest, validate, aggregate, draw and publish; raises BuildFailed on the first failed run.

    `fiches=False` stops at the published store (no charts, no fiches).
    """
    from trade_pipeline.definitions import defs
    from trade_pipeline.instance import prepare_dagster_home
    from trade_pipeline.warehouse import holding_pipeline_lock

    prepare_dagster_home(settings)
    territories = territories_for(departements)
    job = defs.resolve_implicit_global_asset_job_def()
    territory_assets = DATA_ASSETS + (FICHE_ASSETS if fiches else ())
    final_assets = ("published_store", "fiche_index") if fiches else ("published_store",)
    summaries = []
    with dg.DagsterInstance.get() as instance, holding_pipeline_lock(settings):
        for year in years:
            echo(f"→ {year}: ingestion and validation from {settings.source}")
            summary = execute(job, instance, settings, YEAR_ASSETS, f"{year}: ingestion", partition_key=str(year))
            report(summary, echo)
            summaries.append(summary)
            if not summary.success:
                raise BuildFailed(f"{year}: " + " | ".join(summary.failures))
        for year in years:
            # One run for a whole year of territories (single-run backfill policy); a selection
            # of départements may need a few runs, one per contiguous range of partitions.
            for start, end in territory_ranges(territories):
                echo(f"→ {year}: territories {start} … {end}")
                summary = execute(job, instance, settings, territory_assets, f"{year}: territories {start} … {end}",
                                  tags={RANGE_START: str(year_territory_key(year, start)),
                                        RANGE_END: str(year_territory_key(year, end))})
                _report_territories(summary, echo)
                summaries.append(summary)
                if not summary.success:
                    raise BuildFailed(f"{year}: " + " | ".join(summary.failures))
        echo("→ publication")
        summary = execute(job, instance, settings, final_assets, "publication")
        report(summary, echo)
        summaries.append(summary)
        if not summary.success:
            raise BuildFailed(" | ".join(summary.failures))
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
