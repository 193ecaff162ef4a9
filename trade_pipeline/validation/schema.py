"""The hard contract of `trade_flows`: a pandera schema, and readable reports of its violations.

A violation stops the year: nothing is stored, and the report names the file, the line, the
column (1-based, in DGDDI field order) and the value of each failing cell.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from trade_pipeline.lib.messages import cut, quoted
from trade_pipeline.lib.nomenclature import (
    A129_CODE_PATTERN,
    COUNTRY_CODE_PATTERN,
    CPF4_CODE_PATTERN,
    DEPARTMENT_CODE_PATTERN,
    REGION_CODE_PATTERN,
)
from trade_pipeline.tables import FILE_COLUMNS, TRADE_FLOWS

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


def column_rules(year: int | Collection[int], department_regions: dict[str, str]) -> dict[str, list[pa.Check]]:
    """What each `trade_flows` column must hold, beyond its type (docs/source-format.md, « Invariants »).
    `year`: the year loaded, or the years a latest publication spans."""
    return {
        "flow": [pa.Check.isin(["E", "I"])],
        "quarter": [pa.Check.isin([1, 2, 3, 4])],
        "year": [pa.Check.eq(year) if isinstance(year, int) else pa.Check.isin(sorted(year))],
        "department_code": [pa.Check.str_matches(DEPARTMENT_CODE_PATTERN), pa.Check.isin(sorted(department_regions))],
        "region_code": [pa.Check.str_matches(REGION_CODE_PATTERN)],
        "a129_code": [pa.Check.str_matches(A129_CODE_PATTERN)],
        "cpf4_code": [pa.Check.str_matches(CPF4_CODE_PATTERN)],
        "country_code": [pa.Check.str_matches(COUNTRY_CODE_PATTERN)],
        "value_eur": [pa.Check.ge(0)],
        "mass_kg": [pa.Check.ge(0)],
    }


def trade_flows_schema(year: int | Collection[int], department_regions: dict[str, str],
                       file_flows: dict[str, str]) -> pa.DataFrameSchema:
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
        name=f"trade_flows_{year if isinstance(year, int) else '_'.join(map(str, sorted(year)))}",
        description="DGDDI regional trade rows of one year (docs/source-format.md)",
    )


def _arrow(series: pd.Series) -> pa_arrow.Array:
    return pa_arrow.array(series.astype("string[pyarrow]"))


def _lookup(keys: pd.Series, mapping: dict[str, str]) -> pa_arrow.Array:
    """mapping[key] for each key (null where unknown), vectorised with Arrow."""
    positions = pc.index_in(_arrow(keys), value_set=pa_arrow.array(list(mapping), pa_arrow.string()))
    return pc.take(pa_arrow.array(list(mapping.values()), pa_arrow.string()), positions)


#: Groups of columns whose distinct combinations are few. Every rule on these columns looks only
#: at a value (or at a département–région or file–flow pair, both inside the first group), so
#: checking each distinct combination once checks every row — a few thousand instead of millions.
_DISTINCT_GROUPS = (("source_file", "flow", "quarter", "year", "department_code", "region_code"),
                    ("a129_code",), ("cpf4_code",), ("country_code",))
#: The columns each frame-wide check looks at (the first one is the one reported as wrong).
_FRAME_CHECKS = {"region_matches_department": ("region_code", "department_code"),
                 "flow_matches_file": ("flow", "source_file")}
#: Columns with millions of distinct values: their rules must be ranges (below), checked on each
#: column's smallest and largest value — a range holds for every value if it holds for those two.
_RANGE_CHECKED = ("value_eur", "mass_kg")
_RANGE_RULES = {"greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to", "in_range"}
_INTEGERS = tuple(c.name for c in TRADE_FLOWS.columns if c.type in ("INTEGER", "BIGINT"))
_FAILURE_COLUMNS = ["file", "line", "column", "field", "value", "length", "rule"]


def validate_trade_flows(table: pa_arrow.Table, schema: pa.DataFrameSchema) -> pa_arrow.Table:
    """Validate and coerce a year's rows; on violation raise :class:`ContractViolation` with
    file/line/column.

    The rows are checked where they are: DuckDB scans their Arrow buffers in place and hands
    pandera what decides each rule — every distinct combination of the few-valued columns
    (`_DISTINCT_GROUPS`) and the extremes of the integer columns — never millions of rows. Each
    failure is then traced back, in SQL, to every row that holds it. Returns the rows with their
    integer columns typed (the same table when the parser already typed them).
    """
    with duckdb.connect() as db:
        db.register("incoming", table)
        text_integers = [c for c in _INTEGERS if pa_arrow.types.is_string(table.schema.field(c).type)]
        failures = [_not_integers(db, text_integers)] if text_integers else []
        db.execute(f"CREATE TEMP VIEW typed AS SELECT {_typed_columns(table, text_integers)} FROM incoming")
        if failures and len(failures[0]):
            # Rows whose integers did not parse are reported already: the other rules check the rest.
            db.register("not_integers", failures[0][["file", "line"]])
            db.execute("CREATE TEMP VIEW checkable AS SELECT * FROM typed ANTI JOIN not_integers "
                       "ON typed.source_file::VARCHAR = not_integers.file AND typed.source_line = not_integers.line")
        else:
            db.execute("CREATE TEMP VIEW checkable AS SELECT * FROM typed")
        for group in _DISTINCT_GROUPS:
            distinct = _frame(db, f"SELECT DISTINCT {', '.join(group)} FROM checkable")
            cases = _failure_cases(_schema_of(schema, group), distinct)
            if cases is not None:
                failures.append(_traced(db, cases, distinct))
        failures.append(_check_ranges(db, schema))
        found = [f for f in failures if len(f)]
        if found:
            report = pd.concat(found, ignore_index=True).sort_values(["file", "line", "column"]).reset_index(drop=True)
            raise ContractViolation(format_failures(schema.name, report), report)
        return table if not text_integers else db.sql("SELECT * FROM typed").to_arrow_table()


def _frame(db: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A (small) query result as pandas, strings as Arrow strings (the contract's types)."""
    return db.sql(sql).to_arrow_table().to_pandas(types_mapper={pa_arrow.string(): pd.StringDtype("pyarrow")}.get)


def _schema_of(schema: pa.DataFrameSchema, columns: tuple[str, ...]) -> pa.DataFrameSchema:
    """The contract restricted to some columns, with the frame-wide checks that look only at them."""
    kept = [c for c in columns if c in schema.columns]
    checks = [check for check in schema.checks if set(_FRAME_CHECKS[check.name]) <= set(columns)]
    return pa.DataFrameSchema({c: schema.columns[c] for c in kept}, checks=checks, name=schema.name)


def _failure_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    """pandera's failure cases of `frame` (None when it passes)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        return error.failure_cases
    return None


def _check_ranges(db: duckdb.DuckDBPyConnection, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """The rules of the integer columns, on each column's smallest and largest value; when one
    of those fails, on every row (only then: to name each failing cell)."""
    columns = ", ".join(("source_file", "source_line", *_RANGE_CHECKED))
    ranged = pa.DataFrameSchema({c: schema.columns[c] for c in _RANGE_CHECKED}, name=schema.name)
    only_ranges = all(check.name in _RANGE_RULES for c in _RANGE_CHECKED for check in schema.columns[c].checks)
    if only_ranges:
        extremes = " UNION ALL ".join(f"(SELECT {columns} FROM checkable ORDER BY {c} {order} LIMIT 1)"
                                      for c in _RANGE_CHECKED for order in ("ASC", "DESC"))
        if _failure_cases(ranged, _frame(db, extremes)) is None:
            return pd.DataFrame(columns=_FAILURE_COLUMNS)
    every_row = _frame(db, f"SELECT {columns} FROM checkable")
    cases = _failure_cases(ranged, every_row)
    return pd.DataFrame(columns=_FAILURE_COLUMNS) if cases is None else describe_failures(cases, every_row)


def _typed_columns(table: pa_arrow.Table, text_integers: list[str]) -> str:
    """The select list that types integer columns read as text (a cell that is not an integer
    becomes 0: it is reported by `_not_integers`, and its row is not checked further)."""
    return ", ".join(f"coalesce(TRY_CAST({c} AS BIGINT), 0) AS {c}" if c in text_integers else c
                     for c in table.column_names)


def _not_integers(db: duckdb.DuckDBPyConnection, columns: list[str]) -> pd.DataFrame:
    """The cells of integer columns read as text that are not integers, or beyond int64 (a parse
    would wrap: 2^63 read as −2^63). Found before pandera, so that one bad cell does not hide the
    other faults of its column (pandera stops checking a column whose coercion failed)."""
    pieces = []
    for column in columns:
        found = _frame(db, f"""
            SELECT source_file::VARCHAR AS file, source_line AS line, {column} AS value,
                   regexp_full_match({column}, '[+-]?[0-9]+') AS digits
            FROM incoming WHERE NOT regexp_full_match({column}, '[+-]?[0-9]+') OR TRY_CAST({column} AS BIGINT) IS NULL""")
        if len(found):
            pieces.append(pd.DataFrame({
                "file": found["file"].astype(str), "line": found["line"].astype("int64"),
                "column": FILE_COLUMNS.index(column) + 1, "field": _field(column),
                "value": found["value"].astype(str).map(cut), "length": found["value"].str.len().astype(int),
                "rule": found["digits"].map({True: _RULES["int64_range"], False: _RULES["coerce_dtype"]}),
            }))
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=_FAILURE_COLUMNS)


def _traced(db: duckdb.DuckDBPyConnection, failure_cases: pd.DataFrame, distinct: pd.DataFrame) -> pd.DataFrame:
    """Failures found on distinct combinations → every row that holds a failing value (or pair)."""
    pieces = []
    for (column, check), group in _failing(failure_cases).groupby(["column", "check"], sort=False):
        keys = list(_FRAME_CHECKS.get(check, (column,)))
        failing = distinct.loc[group["index"].astype("int64").to_numpy(), keys].drop_duplicates()
        db.register("failing", failing)
        rows = _frame(db, f"""SELECT source_file::VARCHAR AS source_file, source_line, {column}::VARCHAR AS {column}
                              FROM checkable SEMI JOIN failing USING ({', '.join(keys)})""")
        db.unregister("failing")
        pieces.append(_cells(rows, column, check))
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=_FAILURE_COLUMNS)


def _failing(failure_cases: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases, one per failing cell: a frame-wide check reports every column
    of a failing row, of which only the first of `_FRAME_CHECKS` is wrong."""
    cases = failure_cases.copy()
    cases["check"] = cases["check"].astype(str).str.split("(").str[0]
    for check, columns in _FRAME_CHECKS.items():
        cases.loc[(cases["check"] == check) & cases["column"].isna(), "column"] = columns[0]
        cases = cases[(cases["check"] != check) | (cases["column"] == columns[0])]
    return cases.dropna(subset=["index"])


def _cells(rows: pd.DataFrame, column: str, check: str) -> pd.DataFrame:
    """One report row per failing cell: file, line, column number, field, value, rule."""
    values = rows[column].astype(str)
    return pd.DataFrame({
        "file": rows["source_file"].astype(str).to_numpy(),
        "line": rows["source_line"].astype("int64").to_numpy(),
        "column": FILE_COLUMNS.index(column) + 1 if column in FILE_COLUMNS else 0,
        "field": _field(column) if column in FILE_COLUMNS else column,
        "value": values.map(cut).to_numpy(),
        "length": values.str.len().to_numpy(),
        "rule": _rule(check),
    }).drop_duplicates()


def describe_failures(failure_cases: pd.DataFrame, checked: pd.DataFrame) -> pd.DataFrame:
    """pandera failure cases on whole rows (`checked` holds them) → one report row per cell."""
    pieces = [_cells(checked.loc[group["index"].astype("int64").to_numpy()], str(column), check)
              for (column, check), group in _failing(failure_cases).groupby(["column", "check"], sort=False)]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=_FAILURE_COLUMNS)


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
