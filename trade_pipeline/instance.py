"""The persistent Dagster instance, kept inside the data directory.

`dagster dev` run from the repository root reads `./dagster.yaml`, whose paths are relative to
the default data directory (`data/dagster/…`). The CLI points `DAGSTER_HOME` at
`$TRADE_PIPELINE_DATA_DIR/dagster` and writes there the same configuration with absolute paths,
so runs started by `trade-pipeline build` and by the UI land in the same instance.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from trade_pipeline.settings import Settings


def instance_config(storage_root: str) -> dict:
    """The instance configuration with every path under `storage_root` (…/dagster)."""
    return {
        "storage": {"sqlite": {"base_dir": f"{storage_root}/storage"}},
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
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"},
        # One writer at a time: DuckDB allows a single writing process per file.
        "concurrency": {"runs": {"max_concurrent_runs": 1}},
        "run_monitoring": {"enabled": True},
        # Dagster's asset daemon would evaluate the automation conditions a second time (its
        # default_automation_condition_sensor): the trade_automation sensor does (automation/refresh.py).
        "auto_materialize": {"enabled": False},
        "retention": {
            "schedule": {"purge_after_days": 90},
            "sensor": {"purge_after_days": {"skipped": 7, "failure": 30, "success": -1}},
            "auto_materialize": {"purge_after_days": {"skipped": 7, "failure": 30, "success": -1}},
        },
        "telemetry": {"enabled": False},
    }


HEADER = (
    "# Dagster instance of trade_pipeline. Generated from trade_pipeline/instance.py (a test keeps\n"
    "# the two equal). Paths are relative to the repository root, where `dagster dev` is started;\n"
    "# `trade-pipeline` writes the same file with absolute paths to $TRADE_PIPELINE_DATA_DIR/dagster.\n"
)


def render(storage_root: str) -> str:
    return HEADER + yaml.safe_dump(instance_config(storage_root), sort_keys=False)


def prepare_dagster_home(settings: Settings) -> Path:
    """Create `$DATA_DIR/dagster/dagster.yaml` if needed and point `DAGSTER_HOME` at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = render(str(home))
    if not config.exists() or config.read_text(encoding="utf-8") != text:
        config.write_text(text, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home
