"""Great Expectations 1.x suite on the validated rows of a year (run by hand: dagster-ge is GE < 1).

The pandera schema is the hard contract (types, patterns, ranges). These expectations look at
the year as a whole: duplicate keys (blocking), codes unknown to the label files of that year,
and row counts and totals within plausible bounds (warnings: real vintages may surprise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trade_pipeline.lib.nomenclature import Reference

#: The key of a row: one value per (year, quarter, flow, département, CPF4, country).
ROW_KEY = ["year", "quarter", "flow", "department_code", "cpf4_code", "country_code"]

#: How far a year may move before someone confirms it: against the vintage of the same year
#: already stored (DGDDI's revisions move a year's totals by a few per mille), and against the
#: year before (France's exports fell 16 % in 2020; imports rose 29 % in 2022).
REVISION_TOLERANCE = 0.10
YEAR_ON_YEAR_TOLERANCE = 0.40

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
    ExpectationSpec("consistent_with_stored",
                    f"Rows and total per flow within ±{REVISION_TOLERANCE:.0%} of the vintage of the year already stored "
                    f"and within ±{YEAR_ON_YEAR_TOLERANCE:.0%} of the year before. Blocking, unless accepted "
                    "(build --accept-change; in the launchpad, accept_change of the settings resource).", True),
)


@dataclass
class ExpectationOutcome:
    check_name: str
    passed: bool
    blocking: bool
    failing_count: int
    metadata: dict[str, Any] = field(default_factory=dict)


class RowKeys:
    """One exact integer per row key — mixed radix over each key column's dictionary code (the
    index of its value among that column's distinct values), not a hash — computed by Arrow
    over the rows in place: uniqueness of 6 columns as uniqueness of one integer column, and
    back to the values. (DuckDB ranking each column's values and joining them back cost twice
    the time; docs/benchmarks.md.)"""

    def __init__(self, db: duckdb.DuckDBPyConnection, rows: pa.Table):
        encoded = [pc.dictionary_encode(rows.column(column), null_encoding="encode").combine_chunks()
                   for column in ROW_KEY]
        self.values = [[str(value) for value in codes.dictionary.to_pylist()] for codes in encoded]
        if float(np.prod([max(len(v), 1) for v in self.values], dtype=float)) >= 2**62:
            raise ValueError("too many distinct key values to encode a row key")
        key = np.zeros(rows.num_rows, dtype=np.int64)
        for codes, values in zip(encoded, self.values, strict=True):
            key = key * max(len(values), 1) + codes.indices.to_numpy(zero_copy_only=False)
        self.key = key
        self.db = db
        # `source_file` stays dictionary-encoded: DuckDB reads it as text, and a cast to plain
        # strings would hold every row's file name again (about 160 MB for a year at DGDDI scale).
        db.register("row_keys", pa.table({"row_key": key, "source_file": rows.column("source_file"),
                                          "source_line": rows.column("source_line")}))

    def keys(self) -> pd.DataFrame:
        return pd.DataFrame({"row_key": self.key})

    def decode(self, key: int) -> list[str]:
        """The key's value in each column of ROW_KEY."""
        values = []
        for column_values in reversed(self.values):
            key, code = divmod(int(key), max(len(column_values), 1))
            values.append(column_values[code])
        return list(reversed(values))

    def lines(self, key: int) -> dict[str, list[int]]:
        """File → lines of the rows that hold this key."""
        found: dict[str, list[int]] = {}
        for file, line in self.db.execute("SELECT source_file, source_line FROM row_keys WHERE row_key = ? "
                                          "ORDER BY source_file, source_line", [int(key)]).fetchall():
            found.setdefault(file, []).append(line)
        return found


@dataclass(frozen=True)
class Stored:
    """Rows and euros per flow already in the warehouse: the year's previous vintage, the year before."""

    same_year: pd.DataFrame | None  # flow, rows, value_eur
    year_before: pd.DataFrame | None


def run_expectations(rows: pa.Table, reference: Reference, year: int, stored: Stored | None = None,
                     accept: bool = False) -> list[ExpectationOutcome]:
    """Run the suite on one year's validated rows; one outcome per :data:`EXPECTATION_SPECS`.

    DuckDB reads the rows where they are (Arrow) and gives Great Expectations compact inputs with
    the same meaning: uniqueness on one exact integer key per row, known codes on each distinct
    code (the failing row count is then the number of rows carrying the unknown codes), totals
    per flow. `stored` holds what the warehouse has (consistency); `accept` lets an inconsistent
    year through, recorded as a failed warning.
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
    with duckdb.connect() as db:
        db.register("incoming", rows)
        keys = RowKeys(db, rows)
        (unique,) = validate("row_keys", keys.keys(), [gxe.ExpectColumnValuesToBeUnique(column="row_key")])
        duplicated = [int(k) for k in dict.fromkeys((unique.result or {}).get("partial_unexpected_list") or [])]
        outcomes.append(_outcome(EXPECTATION_SPECS[0], unique, failing_rows=None,
                                 examples=_duplicate_lines(keys, duplicated),
                                 extra={"key": "|".join(ROW_KEY)}))

        for spec, column, kind in zip(EXPECTATION_SPECS[1:4], ("country_code", "cpf4_code", "a129_code"),
                                      ("pays", "cpf4", "a129"), strict=True):
            counts = db.execute(f"SELECT {column}::VARCHAR AS {column}, count(*) AS rows FROM incoming "
                                f"GROUP BY ALL ORDER BY 1").df()
            (result,) = validate(f"distinct_{column}", counts[[column]], [
                gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(reference.known_codes(kind, year)))])
            unknown = [str(code) for code in (result.result or {}).get("partial_unexpected_list") or []]
            unknown_all = counts[~counts[column].isin(reference.known_codes(kind, year))]
            rows_of = dict(zip(counts[column], counts["rows"], strict=True))
            outcomes.append(_outcome(spec, result, failing_rows=int(unknown_all["rows"].sum()),
                                     examples=[f"{code} ({int(rows_of[code]):,} rows: {_where(db, column, code)})"
                                               for code in unknown],
                                     extra={"distinct_codes": len(counts), "unknown_codes": len(unknown_all)}))

        new = db.execute("SELECT flow::VARCHAR AS flow, count(*) AS rows, sum(value_eur)::BIGINT AS value_eur "
                         "FROM incoming GROUP BY ALL ORDER BY flow").df()
    summary = pd.DataFrame({"flow": new["flow"], "rows": new["rows"], "value_meur": new["value_eur"] / 1e6})
    per_flow = validate("per_flow", summary, [
        gxe.ExpectColumnValuesToBeBetween(column="rows", min_value=ROWS_PER_FLOW[0], max_value=ROWS_PER_FLOW[1]),
        gxe.ExpectColumnValuesToBeBetween(column="value_meur", min_value=MILLION_EUR_PER_FLOW[0],
                                          max_value=MILLION_EUR_PER_FLOW[1]),
    ])
    for spec, result in zip(EXPECTATION_SPECS[4:6], per_flow, strict=True):
        outcomes.append(_outcome(spec, result, failing_rows=None, examples=[],
                                 extra={"per_flow": summary.round(1).to_dict(orient="records")}))

    comparisons = _comparisons(new.set_index("flow"), year, stored or Stored(None, None))
    (consistent,) = validate("against_stored", comparisons[["excess"]],
                             [gxe.ExpectColumnValuesToBeBetween(column="excess", max_value=0.0)])
    moved = comparisons[comparisons["excess"] > 0]
    outcome = _outcome(EXPECTATION_SPECS[6], consistent, failing_rows=len(moved), examples=list(moved["finding"]),
                       extra={"compared": len(comparisons), "accepted": bool(accept and len(moved))})
    if accept and not outcome.passed:  # acknowledged: stored, recorded as a failed warning
        outcome.blocking = False
    outcomes.append(outcome)
    return outcomes


def _where(db: duckdb.DuckDBPyConnection, column: str, value: str) -> str:
    """The file(s) and first lines (1-based) of the rows holding `value` in `column`."""
    places = db.execute(f"""SELECT source_file::VARCHAR, count(*), list(source_line ORDER BY source_line)[1:3]
                            FROM incoming WHERE {column}::VARCHAR = ? GROUP BY 1 ORDER BY 1""", [value]).fetchall()
    return "; ".join(f"{file}, line{'s' if count > 1 else ''} {', '.join(map(str, lines))}{', …' if count > 3 else ''}"
                     for file, count, lines in places)


def _duplicate_lines(keys: RowKeys, duplicated: list[int]) -> list[str]:
    """Where each duplicated key stands: file and lines (1-based), and the key in DGDDI fields."""
    from trade_pipeline.tables import TRADE_FLOWS

    fields = [TRADE_FLOWS.column(c).source_field for c in ROW_KEY]
    examples = []
    for key in duplicated[:10]:
        places = "; ".join(f"{file}, lines {', '.join(str(n) for n in lines)}" for file, lines in keys.lines(key).items())
        values = ", ".join(f"{field} {value}" for field, value in zip(fields, keys.decode(key), strict=True))
        examples.append(f"{places}: {values}")
    return examples


def _comparisons(new: pd.DataFrame, year: int, stored: Stored) -> pd.DataFrame:
    """Rows and euros per flow (`new`, indexed by flow) against what is stored; `excess` > 0
    where it moved too far."""
    from trade_pipeline.lib import french

    records = []
    for against, tolerance, frame in (
            (f"the vintage of {year} already stored", REVISION_TOLERANCE, stored.same_year),
            (f"{year - 1}", YEAR_ON_YEAR_TOLERANCE, stored.year_before)):
        if frame is None or frame.empty:
            continue
        for flow, old in frame.set_index("flow").iterrows():
            now = new.loc[flow] if flow in new.index else pd.Series({"rows": 0, "value_eur": 0})
            for measure, unit in (("value_eur", "M€"), ("rows", "rows")):
                before, after = float(old[measure]), float(now[measure])
                change = after / before - 1 if before else 0.0
                shown = (lambda v: f"{french.number(v / 1e6, 1)} M€") if unit == "M€" else \
                        (lambda v: f"{french.number(v)} rows")
                records.append({"excess": abs(change) - tolerance, "finding": (
                    f"{'exports' if flow == 'E' else 'imports'} {year}: {shown(after)} against {shown(before)} for "
                    f"{against} ({french.signed_pct(change)}; more than ±{tolerance:.0%})")})
    return pd.DataFrame(records, columns=["excess", "finding"])


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
    parts = []
    for o in blocking:
        examples = "; ".join(o.metadata.get("examples", [])[:3])
        parts.append(f"{o.check_name}: {o.failing_count:,} failing{' rows' if o.check_name != 'consistent_with_stored' else ''}"
                     + (f" — {examples}" if examples else ""))
    advice = (" If the change is real (a revision, another source), build again with --accept-change (in the UI: "
              "accept_change: true for the settings resource in the launchpad)."
              if any(o.check_name == "consistent_with_stored" for o in blocking) else "")
    return "; ".join(parts) + f" — {year} was not stored.{advice}"
