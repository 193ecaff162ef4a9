"""Dagster metadata helpers: DataFrames as tables in the UI."""

from __future__ import annotations

import dagster as dg
import pandas as pd

_TYPES = {"i": "int", "u": "int", "f": "float", "b": "bool"}


def table_metadata(frame: pd.DataFrame, limit: int = 200) -> dg.TableMetadataValue:
    """The first `limit` rows of a frame as a Dagster table (values as plain Python types)."""
    head = frame.head(limit)
    columns = [dg.TableColumn(str(name), _TYPES.get(head[name].dtype.kind, "string")) for name in head.columns]
    records = [dg.TableRecord({str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
               for row in head.astype(object).where(head.notna(), None).to_dict(orient="records")]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))
