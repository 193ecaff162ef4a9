"""Great Expectations 1.x suite on the validated rows of a year (run by hand: dagster-ge is GE < 1).

The pandera schema is the hard contract (types, patterns, ranges). These expectations look at
the year as a whole: duplicate keys (blocking), codes unknown to the label files of that year,
and row counts and totals within plausible bounds (warnings: real vintages may surprise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trade_pipeline.nomenclature import Reference

#: The key of a row: one value per (year, quarter, flow, département, CPF4, country).
ROW_KEY = ["year", "quarter", "flow", "department_code", "cpf4_code", "country_code"]

#: Plausible bounds for one flow of one year in France (the 2024 figures are ~600 000 M€ with
#: ~10^6 rows); outside them something is wrong with the file, not with the economy.
ROWS_PER_FLOW = (1_000, 30_000_000)
MILLION_EUR_PER_FLOW = (100_000.0, 2_000_000.0)


@dataclass(frozen=True)
class ExpectationSpec:
    check_name: str
    description: str
    blocking: bool


EXPECTATION_SPECS = (
    ExpectationSpec("no_duplicate_keys",
                    "No two rows share (year, quarter, flow, département, CPF4, country). Blocking.", True),
    ExpectationSpec("known_country_codes", "Every partner code is in Libelle_PAYS for the year.", False),
    ExpectationSpec("known_cpf4_codes", "Every CPF4 code is in the CPF4 label file for the year.", False),
    ExpectationSpec("known_a129_codes", "Every A129 code is in Libelle_A129 for the year.", False),
    ExpectationSpec("plausible_row_counts",
                    f"Rows per flow between {ROWS_PER_FLOW[0]:,} and {ROWS_PER_FLOW[1]:,}.", False),
    ExpectationSpec("plausible_totals",
                    f"Total per flow between {MILLION_EUR_PER_FLOW[0]:,.0f} and {MILLION_EUR_PER_FLOW[1]:,.0f} M€.", False),
)


@dataclass
class ExpectationOutcome:
    check_name: str
    passed: bool
    blocking: bool
    failing_count: int
    metadata: dict[str, Any] = field(default_factory=dict)


def row_keys(rows: pd.DataFrame) -> tuple[np.ndarray, Callable[[int], str]]:
    """One exact integer per row key (mixed radix over the codes of each column, not a hash), and
    a decoder back to the key's values — uniqueness of 6 text columns as uniqueness of one."""
    parts = [pd.factorize(rows[column], sort=True) for column in ROW_KEY]
    sizes = [max(len(uniques), 1) for _, uniques in parts]
    if float(np.prod(sizes, dtype=float)) >= 2**62:
        raise ValueError("too many distinct key values to encode a row key")
    keys = np.zeros(len(rows), dtype=np.int64)
    for (codes, _), size in zip(parts, sizes, strict=True):
        keys = keys * size + codes.astype(np.int64)

    def decode(key: int) -> str:
        values = []
        for (_, uniques), size in zip(reversed(parts), reversed(sizes), strict=True):
            key, code = divmod(int(key), size)
            values.append(str(uniques[code]))
        return "|".join(reversed(values))

    return keys, decode


def run_expectations(rows: pd.DataFrame, reference: Reference, year: int) -> list[ExpectationOutcome]:
    """Run the suite on one year's validated rows; one outcome per :data:`EXPECTATION_SPECS`.

    Row-level rules run on compact inputs with the same meaning: uniqueness on one exact integer
    key per row, known codes on each distinct code (the failing row count is then the number of
    rows carrying the unknown codes).
    """
    import great_expectations as gx  # lazy: ~3 s and 140 MB, only in the step that needs it
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("trade_flows")

    def validate(name: str, frame: pd.DataFrame, expectations: list) -> list:
        batch = (source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
                 .get_batch(batch_parameters={"dataframe": frame}))
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        return batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20}).results

    outcomes = []
    keys, decode = row_keys(rows)
    (unique,) = validate("row_keys", pd.DataFrame({"row_key": keys}), [gxe.ExpectColumnValuesToBeUnique(column="row_key")])
    examples = [decode(k) for k in (unique.result or {}).get("partial_unexpected_list") or []]
    outcomes.append(_outcome(EXPECTATION_SPECS[0], unique, failing_rows=None, examples=examples,
                             extra={"key": "|".join(ROW_KEY)}))

    for spec, column, kind in zip(EXPECTATION_SPECS[1:4], ("country_code", "cpf4_code", "a129_code"),
                                  ("pays", "cpf4", "a129"), strict=True):
        counts = rows[column].value_counts()
        distinct = pd.DataFrame({column: counts.index.astype(str)})
        (result,) = validate(f"distinct_{column}", distinct, [
            gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(reference.known_codes(kind, year)))])
        unknown = [str(code) for code in (result.result or {}).get("partial_unexpected_list") or []]
        unknown_all = sorted(set(distinct[column]) - reference.known_codes(kind, year))
        failing_rows = int(counts[counts.index.astype(str).isin(unknown_all)].sum())
        outcomes.append(_outcome(spec, result, failing_rows=failing_rows,
                                 examples=[f"{code} ({int(counts[code]):,} rows)" for code in unknown],
                                 extra={"distinct_codes": len(distinct), "unknown_codes": len(unknown_all)}))

    summary = (rows.groupby("flow", observed=True)
               .agg(rows=("value_eur", "size"), value_meur=("value_eur", "sum")).reset_index())
    summary["value_meur"] = summary["value_meur"] / 1e6
    per_flow = validate("per_flow", summary, [
        gxe.ExpectColumnValuesToBeBetween(column="rows", min_value=ROWS_PER_FLOW[0], max_value=ROWS_PER_FLOW[1]),
        gxe.ExpectColumnValuesToBeBetween(column="value_meur", min_value=MILLION_EUR_PER_FLOW[0],
                                          max_value=MILLION_EUR_PER_FLOW[1]),
    ])
    for spec, result in zip(EXPECTATION_SPECS[4:], per_flow, strict=True):
        outcomes.append(_outcome(spec, result, failing_rows=None, examples=[],
                                 extra={"per_flow": summary.round(1).to_dict(orient="records")}))
    return outcomes


def _outcome(spec: ExpectationSpec, result: Any, failing_rows: int | None, examples: list[str],
             extra: dict[str, Any]) -> ExpectationOutcome:
    details = result.result or {}
    failing = int(details.get("unexpected_count") or 0) if failing_rows is None else failing_rows
    metadata: dict[str, Any] = {
        "expectation": result.expectation_config.type,
        "failing_count": failing,
        "checked_values": int(details.get("element_count") or 0),
        **extra,
    }
    if examples:
        metadata["examples"] = examples[:20]
    return ExpectationOutcome(spec.check_name, bool(result.success), spec.blocking, failing, metadata)


def blocking_failures(outcomes: list[ExpectationOutcome], year: int) -> str | None:
    """The message that stops the year when a blocking check failed (None when none did)."""
    blocking = [o for o in outcomes if o.blocking and not o.passed]
    if not blocking:
        return None
    return ("; ".join(f"{o.check_name}: {o.failing_count:,} failing rows, e.g. {o.metadata.get('examples', [])[:3]}"
                      for o in blocking) + f" — {year} was not stored")
