"""Dagster resources: thin wrappers that hand the settings to plain functions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg

from trade_pipeline.settings import Settings, get_settings


class PipelineSettings(dg.ConfigurableResource):
    """Settings from the environment (`TRADE_PIPELINE_*`), optionally overridden for one run.

    `source` and `data_dir` can be set in the launchpad or by `trade-pipeline build --source`.
    """

    source: str | None = None
    data_dir: str | None = None

    def get(self) -> Settings:
        settings = get_settings()
        if self.data_dir:
            settings = replace(settings, data_dir=Path(self.data_dir).expanduser().resolve())
        return settings.with_source(self.source)
