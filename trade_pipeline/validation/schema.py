"""The hard contract of `trade_flows`: a pandera schema, and readable reports of its violations.

A violation stops the year: nothing is stored, and the report names the file, the line, the
column (1-based, in DGDDI field order) and the value of each failing cell.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa_arrow
import pyarrow.compute as pc

os.environ.setdefault("DISABLE_PANDERA_IMPORT_WARNING", "True")
import pandera.pandas as pa  # noqa: E402  (after the warning switch)

from trade_pipeline.messages import cut, quoted  # noqa: E402
from trade_pipeline.nomenclature import (  # noqa: E402
    A129_CODE_PATTERN,
    COUNTRY_CODE_PATTERN,
    CPF4_CODE_PATTERN,
    DEPARTMENT_CODE_PATTERN,
    REGION_CODE_PATTERN,
)
from trade_pipeline.tables import FILE_COLUMNS, TRADE_FLOWS  # noqa: E402

_MAX_LISTED = 25

#: What each rule means, for the report (pandera check names → plain words).
_RULES = {
    "isin": "not an allowed value",
    "str_matches": "does not match the code pattern",
    "greater_than_or_equal_to": "must be ≥ 0",
    "equal_to": "is not the year being loaded",
    "coerce_dtype": "is not an integer",
    "int64_range": "exceeds the 64-bit integer range (±9 223 372 036 854 775 807)",
    "dtype": "has the wrong type",
    "region_matches_department": "is not the région of this département in the reference table",
    "flow_matches_file": "does not match the file's flow (an export file holds only E, an import file only I)",
    "not_nullable": "is missing",
}


class ContractViolation(ValueError):
    """Rows that break the `trade_flows` contract; `failures` has one row per failing cell."""

    def __init__(self, message: str, failures: pd.DataFrame):
        super().__init__(message)
        self.failures = failures


#: In-memory type of each registry type (strings stay Arrow strings: no copy into Python objects).
PANDAS_TYPES = {"VARCHAR": "string[pyarrow]", "INTEGER": "int32", "BIGINT": "int64"}


def column_rules(year: int, department_regions: dict[str, str]) -> dict[str, list[pa.Check]]:
    """What each `trade_flows` column must hold, beyond its type (dgddi_format.md §8)."""
    return {
        "flow": [pa.Check.isin(["E", "I"])],
        "quarter": [pa.Check.isin([1, 2, 3, 4])],
        "year": [pa.Check.eq(year)],
        "department_code": [pa.Check.str_matches(DEPARTMENT_CODE_PATTERN), pa.Check.isin(sorted(department_regions))],
        "region_code": [pa.Check.str_matches(REGION_CODE_PATTERN)],
        "a129_code": [pa.Check.str_matches(A129_CODE_PATTERN)],
        "cpf4_code": [pa.Check.str_matches(CPF4_CODE_PATTERN)],
        "country_code": [pa.Check.str_matches(COUNTRY_CODE_PATTERN)],
        "value_eur": [pa.Check.ge(0)],
        "mass_kg": [pa.Check.ge(0)],
    }


def trade_flows_schema(year: int, department_regions: dict[str, str], file_flows: dict[str, str]) -> pa.DataFrameSchema:
    """The contract for one year's rows.

    `department_regions` maps each known DGDDI département code to its région; `file_flows`
    maps each source file name to the flow ('E' or 'I') it must hold.
    """
    def region_matches_department(frame: pd.DataFrame) -> pd.Series:
        expected = _lookup(frame["department_code"], department_regions)
        # Unknown départements (null) are reported by their own column check, not twice here.
        return pd.Series(pc.fill_null(pc.equal(expected, _arrow(frame["region_code"])), True), index=frame.index)

    def flow_matches_file(frame: pd.DataFrame) -> pd.Series:
        expected = _lookup(frame["source_file"].astype("string"), file_flows)
        return pd.Series(pc.fill_null(pc.equal(expected, _arrow(frame["flow"])), True), index=frame.index)

    # The columns, their types and nullability are the registry's; the rules are the contract's.
    rules = column_rules(year, department_regions)
    return pa.DataFrameSchema(
        {column.name: pa.Column(PANDAS_TYPES[column.type], rules[column.name], nullable=column.nullable, coerce=True,
                                title=column.source_field, description=column.meaning)
         for column in TRADE_FLOWS.columns},
        checks=[
            pa.Check(region_matches_department, name="region_matches_department", element_wise=False),
            pa.Check(flow_matches_file, name="flow_matches_file", element_wise=False),
        ],
        name=f"trade_flows_{year}",
        description="DGDDI regional trade rows of one year (dgddi_format.md §3, §8)",
    )


def _arrow(series: pd.Series) -> pa_arrow.Array:
    return pa_arrow.array(series.astype("string[pyarrow]"))


def _lookup(keys: pd.Series, mapping: dict[str, str]) -> pa_arrow.Array:
    """mapping[key] for each key (null where unknown), vectorised with Arrow."""
    positions = pc.index_in(_arrow(keys), value_set=pa_arrow.array(list(mapping), pa_arrow.string()))
    return pc.take(pa_arrow.array(list(mapping.values()), pa_arrow.string()), positions)


#: Columns checked in full: integers take millions of distinct values.
_CHECKED_IN_FULL = ("value_eur", "mass_kg")
#: Groups of columns whose distinct combinations are few. Every other rule looks only at a value
#: (or at a département–région or file–flow pair, both inside the first group), so checking one
#: row per distinct combination checks every row — in a fraction of the time on millions of rows.
_DISTINCT_GROUPS = (("source_file", "flow", "quarter", "year", "department_code", "region_code"),
                    ("a129_code",), ("cpf4_code",), ("country_code",))
#: The columns each frame-wide check looks at.
_FRAME_CHECKS = {"region_matches_department": ("department_code", "region_code"),
                 "flow_matches_file": ("source_file", "flow")}


def validate_trade_flows(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Validate and coerce; on violation raise :class:`ContractViolation` with file/line/column.

    The schema runs on one row per distinct value combination (see `_DISTINCT_GROUPS`) and on
    the integer columns in full; each failure is then traced back to every row that holds it.
    """
    frame, not_integers = _coerce_integers(frame)
    # Rows whose integers did not parse are already reported; the rest is checked for all else.
    checkable = frame
    if len(not_integers):
        reported = pd.MultiIndex.from_arrays([not_integers["file"], not_integers["line"]])
        checkable = frame[~pd.MultiIndex.from_arrays([frame["source_file"].astype(str), frame["source_line"]]).isin(reported)]
    representatives = checkable.loc[_representatives(checkable)]
    per_value = schema.remove_columns(list(_CHECKED_IN_FULL))
    in_full = pa.DataFrameSchema({c: schema.columns[c] for c in _CHECKED_IN_FULL}, name=schema.name)
    failures = [not_integers]
    for part, part_schema, expand in ((representatives, per_value, True), (checkable, in_full, False)):
        try:
            part_schema.validate(part, lazy=True)
        except pa.errors.SchemaErrors as error:
            failures.append(describe_failures(error.failure_cases, part, checkable if expand else None))
    failures = pd.concat([f for f in failures if len(f)], ignore_index=True) if any(len(f) for f in failures) else None
    if failures is not None:
        failures = failures.sort_values(["file", "line", "column"]).reset_index(drop=True)
        raise ContractViolation(format_failures(schema.name, failures), failures)
    return frame


def _representatives(frame: pd.DataFrame) -> pd.Index:
    """The first row of every distinct combination of each group of `_DISTINCT_GROUPS`."""
    index = pd.Index([], dtype=frame.index.dtype)
    for group in _DISTINCT_GROUPS:
        index = index.union(frame.drop_duplicates(subset=list(group)).index)
    return index


def _coerce_integers(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn text integer columns into numbers, reporting (not dropping) the cells that are not.

    Done before pandera so that one bad cell does not hide the other faults of its column
    (pandera stops checking a column whose coercion failed).
    """
    failures = []
    frame = frame.copy(deep=False)
    for column in ("quarter", "year", "value_eur", "mass_kg"):
        if pd.api.types.is_integer_dtype(frame[column]):
            continue
        text = frame[column].astype("string")
        digits = text.str.fullmatch(r"[+-]?\d+").fillna(False)
        # Beyond int64, a parse would wrap (2^63 read as −2^63): say so, with the text as written.
        long = digits & (text.str.lstrip("+-").str.lstrip("0").str.len() >= 19)
        too_big = pd.Series(False, index=text.index)
        if long.any():
            too_big[long] = [len(t.lstrip("+-").lstrip("0")) > 19 or not -2**63 <= int(t) < 2**63 for t in text[long]]
        # Nullable integers: exact (a float would round values above 2^53).
        numbers = pd.to_numeric(text.where(digits & ~too_big, None), errors="coerce", dtype_backend="numpy_nullable")
        for bad, rule in ((too_big, _RULES["int64_range"]), (numbers.isna() & ~too_big, _RULES["coerce_dtype"])):
            if bad.any():
                failures.append(pd.DataFrame({
                    "file": frame.loc[bad, "source_file"].astype(str), "line": frame.loc[bad, "source_line"],
                    "column": FILE_COLUMNS.index(column) + 1, "field": _field(column),
                    "value": text[bad].astype(str).map(cut), "length": text[bad].str.len().astype(int), "rule": rule,
                }))
        frame[column] = numbers.fillna(0).astype("int64")
    columns = ["file", "line", "column", "field", "value", "length", "rule"]
    return frame, (pd.concat(failures, ignore_index=True) if failures else pd.DataFrame(columns=columns))


def describe_failures(failure_cases: pd.DataFrame, checked: pd.DataFrame, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """pandera failure cases → file, line, column number, field, value, rule (one row per cell).

    With `frame`, `checked` held representatives: each failing value (or pair) is traced back to
    every row of `frame` that holds it.
    """
    cases = failure_cases.copy()
    cases["check"] = cases["check"].astype(str)
    # A frame-wide check reports every column of a failing row: keep the one that is wrong.
    wrong_column = {"region_matches_department": "region_code", "flow_matches_file": "flow"}
    for check, column in wrong_column.items():
        cases.loc[(cases["check"] == check) & cases["column"].isna(), "column"] = column
        cases = cases[(cases["check"] != check) | (cases["column"] == column)]
    cases = cases.dropna(subset=["index"])
    pieces = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        column = str(column)
        failing = checked.loc[group["index"].astype("int64").to_numpy()]
        if frame is None:
            rows = failing
        elif check in _FRAME_CHECKS:
            keys = list(_FRAME_CHECKS[check])
            rows = frame[frame.set_index(keys).index.isin(failing.set_index(keys).index)]
        else:
            rows = frame[frame[column].isin(failing[column].unique())]
        pieces.append(pd.DataFrame({
            "file": rows["source_file"].astype(str).to_numpy(),
            "line": rows["source_line"].to_numpy(),
            "column": FILE_COLUMNS.index(column) + 1 if column in FILE_COLUMNS else 0,
            "field": _field(column) if column in FILE_COLUMNS else column,
            "value": rows[column].astype(str).map(cut).to_numpy() if column in rows else "",
            "length": rows[column].astype(str).str.len().to_numpy() if column in rows else 0,
            "rule": _rule(check),
        }))
    if not pieces:
        return pd.DataFrame(columns=["file", "line", "column", "field", "value", "length", "rule"])
    return pd.concat(pieces, ignore_index=True).drop_duplicates()


def _field(column: str) -> str:
    """How a report names a column: the DGDDI field, then ours (« valeur (value_eur) »)."""
    return f"{TRADE_FLOWS.column(column).source_field} ({column})"


def _rule(check: str) -> str:
    name = check.split("(")[0]
    return _RULES.get(name, check)


def format_failures(schema_name: str, failures: pd.DataFrame) -> str:
    head = failures.head(_MAX_LISTED)
    lines = [f"  {r.file}, line {r.line}, column {r.column} {r.field}: {quoted(r.value, r.length)} {r.rule}"
             for r in head.itertuples()]
    more = f"\n  … and {len(failures) - _MAX_LISTED} more" if len(failures) > _MAX_LISTED else ""
    by_rule = failures.groupby("rule").size().sort_values(ascending=False)
    summary = "; ".join(f"{n} × {rule}" for rule, n in by_rule.items())
    return (f"{schema_name}: {len(failures)} value(s) break the contract ({summary}); nothing was stored.\n"
            + "\n".join(lines) + more)
