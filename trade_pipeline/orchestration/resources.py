"""Dagster resources: the settings of a run, the warehouse, Chromium.

Assets, sensors and schedules receive these instead of reading settings themselves. Each is
resolved once per run (or sensor tick), when Dagster initialises it: the run config's values
where the CLI or the launchpad gives some, else the environment (`settings.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from trade_pipeline.lib import browser
from trade_pipeline.lib.warehouse import (
    DUCKDB_MEMORY_LIMIT,
    create_tables,
    holding_pipeline_lock,
    ingested_years,
    no_space_message,
)
from trade_pipeline.orchestration.partitions import years_of
from trade_pipeline.settings import Settings, get_settings, prepare_data_dir


class PipelineSettings(dg.ConfigurableResource):
    """Settings from the environment (`TRADE_PIPELINE_*`), optionally overridden for one run.

    `source` and `data_dir` can be set in the launchpad or by `trade-pipeline build --source`.
    """

    source: str | None = None
    data_dir: str | None = None
    #: Let through a year whose totals differ widely from what is stored (the check
    #: `consistent_with_stored`, validation/expectations.py).
    accept_change: bool = False

    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._resolve()
        prepare_data_dir(self._settings.data_dir)  # a bad data directory fails the run with its reason

    def _resolve(self) -> Settings:
        settings = replace(get_settings(), accept_change=self.accept_change)
        if self.data_dir:
            settings = replace(settings, data_dir=Path(self.data_dir).expanduser().resolve())
        return settings.with_source(self.source)

    def get(self) -> Settings:
        """The run's settings (resolved once, when the run started)."""
        if self._settings is None:  # used outside a run (a direct call in a test)
            self._settings = self._resolve()
        return self._settings


#: The Dagster pool of every step that opens the DuckDB warehouse. Its limit, 1 (orchestration/instance.py), holds across
#: processes and machines (the instance storage keeps the slots): DuckDB allows one writer per
#: file, and a reader in another process blocks that writer.
WAREHOUSE_POOL = "duckdb_warehouse"


class Warehouse(dg.ConfigurableResource):
    """The live DuckDB warehouse, through `dagster_duckdb.DuckDBResource`.

    Its connection rules: one writing process at a time (the pipeline's file lock, waited for up
    to TRADE_PIPELINE_LOCK_TIMEOUT), every table of the registry created, and no consumer ever
    opens it (they read the published store).
    """

    settings: PipelineSettings

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        config = self.settings.get()
        config.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with holding_pipeline_lock(config), \
                    DuckDBResource(database=str(config.warehouse_path),
                                   connection_config={"memory_limit": DUCKDB_MEMORY_LIMIT}).get_connection() as connection:
                create_tables(connection)
                yield connection
        except duckdb.Error as error:
            message = no_space_message(error, config.warehouse_path)
            if message is None:
                raise
            raise dg.Failure(description=message) from error

    def years_with_data(self, partition_keys: Sequence[str], warn: Callable[[str], object]) -> dict[int, list[str]]:
        """The requested `territory|year` partitions as year → territories, for the ingested
        years only; the others are announced and left alone. Dagster adds the next year to a
        backfill of a year (the marts read the previous year for growth), and the latest year is
        often not published yet: nothing to compute, no error."""
        requested = years_of(partition_keys)
        with self.connect() as connection:
            ingested = ingested_years(connection)
        missing = sorted(set(requested) - ingested)
        if missing:
            warn(f"no data for {', '.join(map(str, missing))} (not ingested yet): nothing computed for "
                 f"{'that year' if len(missing) == 1 else 'those years'}")
        return {year: keys for year, keys in requested.items() if year in ingested}


class Chromium(dg.ConfigurableResource):
    """Debian's Chromium for the chart pictures and the PDFs, looked for once per run
    (BROWSER_PATH, else `chromium` on PATH); without it the fiches are HTML only."""

    settings: PipelineSettings

    _path: str | None = PrivateAttr(default=None)
    _probed: bool = PrivateAttr(default=False)

    @property
    def available(self) -> bool:
        if not self._probed:
            self._path, self._probed = browser.chromium_path(self.path_setting), True
        return self._path is not None

    @property
    def path_setting(self) -> str | None:
        """BROWSER_PATH, as the settings read it (None: chromium on PATH)."""
        return self.settings.get().browser_path

    @property
    def options(self) -> dict[str, object]:
        """How to run it, for `render_pictures` and `print_pdfs`: tabs, timeout, which browser."""
        config = self.settings.get()
        return {"tabs": config.render_tabs, "timeout_s": config.browser_timeout_s, "browser_path": config.browser_path}

    def warn_if_missing(self, log: dg.DagsterLogManager, consequence: str) -> None:
        """Say in the run log what a run without Chromium leaves out."""
        if not self.available:
            log.warning(f"no Chromium: {consequence} — {browser.INSTALL_HINT}")


def pipeline_resources(settings: PipelineSettings | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources of the code location (or of a test: `dg.materialize(…, resources=…)`)."""
    settings = settings or PipelineSettings()
    return {"settings": settings, "warehouse": Warehouse(settings=settings), "chromium": Chromium(settings=settings)}
