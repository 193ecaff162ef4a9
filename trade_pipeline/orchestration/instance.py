"""The persistent Dagster instance, kept inside the data directory.

`dagster dev` run from the repository root reads `./dagster.yaml`, whose paths are relative to
the default data directory (`data/dagster/…`). The CLI points `DAGSTER_HOME` at
`$TRADE_PIPELINE_DATA_DIR/dagster` and writes there the same configuration with absolute paths,
so runs started by `trade-pipeline build` and by the UI land in the same instance.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from trade_pipeline.orchestration import dagster_internals
from trade_pipeline.settings import Settings, SettingsError, cut_url

#: The setting that holds the PostgreSQL URL; the instance file names it (`env:`) rather than
#: copying the URL, so a password never lands on disk.
PG_URL_VARIABLE = "TRADE_PIPELINE_DAGSTER_PG_URL"

def instance_config(storage_root: str, postgres: bool = False) -> dict:
    """The instance configuration with every path under `storage_root` (…/dagster); runs,
    events and schedules in SQLite files there, or in PostgreSQL when `postgres`."""
    # SQLite: Dagster's own storage with one SQLAlchemy engine per database and process (the same
    # files; orchestration/dagster_internals.py says why).
    storage = ({"postgres": {"postgres_url": {"env": PG_URL_VARIABLE}}} if postgres
               else {"custom": {"module": dagster_internals.__name__, "class": dagster_internals.SQLITE_STORAGE,
                                "config": {"base_dir": f"{storage_root}/storage"}}})
    return {
        "storage": storage,
        "local_artifact_storage": {
            "module": "dagster.core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": storage_root},
        },
        "compute_logs": {
            "module": "dagster.core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": f"{storage_root}/compute_logs"},
        },
        # The automation sensor queues a refresh as several short runs (one per asset and range of
        # territories): taking the next one every second, not every 5 s, halves a refresh's time.
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                            "config": {"dequeue_interval_seconds": 1}},
        # One writer at a time: DuckDB allows a single writing process per file.
        "concurrency": {"runs": {"max_concurrent_runs": 1},
                        "pools": {"default_limit": 1, "granularity": "op"}},
        # A killed run's pool slot is given back once the daemon has seen the run end.
        "run_monitoring": {"enabled": True, "free_slots_after_run_end_seconds": 30},
        # Dagster's asset daemon would evaluate the automation conditions a second time (its
        # default_automation_condition_sensor): the trade_automation sensor does (orchestration/refresh.py).
        "auto_materialize": {"enabled": False},
        "retention": {
            "schedule": {"purge_after_days": 90},
            "sensor": {"purge_after_days": {"skipped": 7, "failure": 30, "success": -1}},
            "auto_materialize": {"purge_after_days": {"skipped": 7, "failure": 30, "success": -1}},
        },
        "telemetry": {"enabled": False},
    }


HEADER = (
    "# Dagster instance of trade_pipeline. Generated from trade_pipeline/orchestration/instance.py (a test keeps\n"
    "# the two equal). Paths are relative to the repository root, where `dagster dev` is started;\n"
    "# `trade-pipeline` writes the same file with absolute paths to $TRADE_PIPELINE_DATA_DIR/dagster.\n"
)


PRODUCTION_HEADER = (
    "# Dagster instance of a production trade_pipeline: the same as ../dagster.yaml with runs, events\n"
    "# and schedules in PostgreSQL (URL in $TRADE_PIPELINE_DAGSTER_PG_URL). Generated from\n"
    "# trade_pipeline/orchestration/instance.py; `trade-pipeline` writes it, with absolute paths, to\n"
    "# $TRADE_PIPELINE_DATA_DIR/dagster when TRADE_PIPELINE_DAGSTER_PG_URL is set (docs/production.md).\n"
)


def render(storage_root: str, postgres: bool = False) -> str:
    return ((PRODUCTION_HEADER if postgres else HEADER)
            + yaml.safe_dump(instance_config(storage_root, postgres), sort_keys=False))


def prepare_dagster_home(settings: Settings) -> Path:
    """Create `$DATA_DIR/dagster/dagster.yaml` if needed; returns the folder (the `DAGSTER_HOME`
    of services started on their own, which the CLI prints or sets for the processes it starts)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = render(str(home), postgres=settings.dagster_pg_url is not None)
    if not config.exists() or config.read_text(encoding="utf-8") != text:
        config.write_text(text, encoding="utf-8")
    return home


def open_instance(settings: Settings):  # noqa: ANN201 - dagster is imported here, not at module import
    """The Dagster instance of `settings` (prepare_dagster_home first), from its folder — not from
    `DAGSTER_HOME`, which this process does not set; a PostgreSQL server that cannot be reached
    is one clear error naming the setting, not a traceback. (The instance file names the
    PostgreSQL URL's variable, which the settings were read from: it is in the environment.)"""
    import dagster as dg

    try:
        return dg.DagsterInstance.from_config(str(settings.dagster_home))
    except Exception as error:  # dagster_postgres.DagsterPostgresException, after its own retries
        if settings.dagster_pg_url is None or "DB connection" not in str(error):
            raise
        cause = error.__cause__ or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise SettingsError(f"{PG_URL_VARIABLE}={cut_url(settings.dagster_pg_url)}: cannot connect to PostgreSQL "
                            f"({cut_url(reason)}); is the server running, and the URL right?") from None
