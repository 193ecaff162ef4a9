"""Great Expectations 1.x suite on the validated rows of a year (run by hand: dagster-ge is GE < 1).

The pandera schema is the hard contract (types, patterns, ranges). These expectations look at
the year as a whole: duplicate keys (blocking), codes unknown to the label files of that year,
and row counts and totals within plausible bounds (warnings: real vintages may surprise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def run_expectations(rows: pd.DataFrame, reference: Reference, year: int) -> list[ExpectationOutcome]:
    """Run the suite on one year's validated rows; one outcome per :data:`EXPECTATION_SPECS`."""
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

    # Codes as categories: the same checks on a far smaller frame.
    narrow = rows[ROW_KEY + ["a129_code"]].astype({c: "category" for c in ROW_KEY[2:] + ["a129_code"]})
    row_results = validate("rows", narrow, [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=ROW_KEY),
        gxe.ExpectColumnValuesToBeInSet(column="country_code", value_set=sorted(reference.known_codes("pays", year))),
        gxe.ExpectColumnValuesToBeInSet(column="cpf4_code", value_set=sorted(reference.known_codes("cpf4", year))),
        gxe.ExpectColumnValuesToBeInSet(column="a129_code", value_set=sorted(reference.known_codes("a129", year))),
    ])
    summary = (rows.groupby("flow", observed=True)
               .agg(rows=("value_eur", "size"), value_meur=("value_eur", "sum")).reset_index())
    summary["value_meur"] = summary["value_meur"] / 1e6
    summary_results = validate("per_flow", summary, [
        gxe.ExpectColumnValuesToBeBetween(column="rows", min_value=ROWS_PER_FLOW[0], max_value=ROWS_PER_FLOW[1]),
        gxe.ExpectColumnValuesToBeBetween(column="value_meur", min_value=MILLION_EUR_PER_FLOW[0],
                                          max_value=MILLION_EUR_PER_FLOW[1]),
    ])
    outcomes = []
    for spec, result in zip(EXPECTATION_SPECS, row_results + summary_results, strict=True):
        details = result.result or {}
        failing = int(details.get("unexpected_count") or 0)
        metadata: dict[str, Any] = {
            "expectation": result.expectation_config.type,
            "failing_count": failing,
            "failing_percent": round(float(details.get("unexpected_percent") or 0.0), 4),
            "checked_rows": int(details.get("element_count") or 0),
        }
        examples = details.get("partial_unexpected_list") or []
        if examples:
            metadata["examples"] = [str(e) for e in examples[:20]]
        if spec.check_name.startswith("plausible"):
            metadata["per_flow"] = summary.round(1).to_dict(orient="records")
        outcomes.append(ExpectationOutcome(spec.check_name, bool(result.success), spec.blocking, failing, metadata))
    return outcomes
