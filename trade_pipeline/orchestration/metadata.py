"""Dagster metadata helpers: DataFrames as tables in the UI, stage timings, run tags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from trade_pipeline.tables import Table

#: Run tag saying who launched a run: "cli", "yearly_refresh", "new_vintage_sensor".
LAUNCHED_BY_TAG = "trade_pipeline/launched_by"

#: The tags of a `trade-pipeline build`'s runs, which execute inside its own process
#: (orchestration/build.py `fail_abandoned_runs`).
CLI_TAG = {LAUNCHED_BY_TAG: "cli"}

#: The statuses of a run that has not ended (queued included).
UNFINISHED_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                       dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]

_TYPES = {"i": "int", "u": "int", "f": "float", "b": "bool"}


def table_metadata(frame: pd.DataFrame, limit: int = 200) -> dg.TableMetadataValue:
    """The first `limit` rows of a frame as a Dagster table (values as plain Python types)."""
    head = frame.head(limit)
    columns = [dg.TableColumn(str(name), _TYPES.get(head[name].dtype.kind, "string")) for name in head.columns]
    records = [dg.TableRecord({str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
               for row in head.astype(object).where(head.notna(), None).to_dict(orient="records")]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def column_schema(table: Table) -> dg.TableSchema:
    """A registry table as Dagster's column schema (the UI's « Columns » tab)."""
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.type, description=c.meaning,
                       constraints=dg.TableColumnConstraints(nullable=c.nullable))
        for c in table.columns])


def table_schemas(tables: dict[str, Table]) -> dict[str, dg.TableSchema]:
    """One `columns/<table>` entry per table an asset writes (the UI lists them with the asset)."""
    return {f"columns/{name}": column_schema(table) for name, table in tables.items()}


class Stopwatch:
    """Seconds spent per stage of a step, for the step's metadata (where does the time go?)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - start, 2)

    def metadata(self) -> dict[str, float]:
        return {f"seconds_{stage}": value for stage, value in self.seconds.items()}
