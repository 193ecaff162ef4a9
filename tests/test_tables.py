"""The registry of stored tables is the one truth: the warehouse, the published store, the
pandera contract and the data dictionary (docs/data-dictionary.md) all follow it."""

from pathlib import Path

import duckdb
import pytest

from trade_pipeline.lib.warehouse import create_tables
from trade_pipeline.publication.dictionary import DICTIONARY_PATH, data_dictionary
from trade_pipeline.tables import (
    FILE_COLUMNS,
    PUBLISHED,
    SOURCE_FIELDS,
    TRADE_FLOWS,
    WAREHOUSE,
)
from trade_pipeline.validation.schema import column_rules, trade_flows_schema

ROOT = Path(__file__).resolve().parent.parent


def columns_of(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, bool]]]:
    rows = connection.execute("""SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
                                 ORDER BY table_name, ordinal_position""").fetchall()
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, kind, nullable in rows:
        tables.setdefault(table, []).append((column, kind, nullable))
    return tables


def test_the_data_dictionary_is_generated_from_the_registry():
    """docs/data-dictionary.md is what `python -m trade_pipeline.tables` writes, whole: a table or
    a column added to the registry without regenerating it fails here."""
    written = (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8")
    assert written == data_dictionary(), "run `python -m trade_pipeline.publication.dictionary > docs/data-dictionary.md`"
    for table in PUBLISHED.values():  # every published table and column has its line
        assert f"## `{table.name}`" in written and all(f"| `{c.name}` |" in written for c in table.columns)


def test_the_warehouse_is_created_from_the_registry():
    with duckdb.connect(":memory:") as connection:
        create_tables(connection)
        created = columns_of(connection)
    assert set(created) == set(WAREHOUSE)
    for name, table in WAREHOUSE.items():
        assert created[name] == [(c.name, c.type, c.nullable) for c in table.columns], name


@pytest.mark.slow
def test_the_published_store_has_exactly_the_registry_columns(sample_build):
    with duckdb.connect(str(sample_build / "published" / "trade.duckdb"), read_only=True) as connection:
        published = columns_of(connection)
        # Consumers join with INSEE data and read the Territoires d'industrie from the store too.
        assert connection.execute("SELECT count(DISTINCT id_territoire) FROM territoires_industrie").fetchone() == (183,)
        assert connection.execute("SELECT insee_code FROM territory_insee_codes WHERE level = 'departement' "
                                  "AND code = '20' ORDER BY 1").fetchall() == [("2A",), ("2B",)]
        assert connection.execute("SELECT ranked FROM territories WHERE code = '99'").fetchone() == (False,)
    assert list(published) == sorted(PUBLISHED)
    for name, table in PUBLISHED.items():
        assert [(c, t) for c, t, _ in published[name]] == [(c.name, c.type) for c in table.columns], name


def test_every_trade_flows_column_is_checked_by_the_contract():
    rules = column_rules(2024, {"34": "12"})
    assert set(rules) == set(TRADE_FLOWS.column_names)
    assert all(rules.values())
    schema = trade_flows_schema(2024, {"34": "12"}, {})
    assert list(schema.columns) == list(TRADE_FLOWS.column_names)
    assert schema.columns["value_eur"].title == "valeur"


def test_the_file_columns_follow_the_dgddi_field_order():
    assert [TRADE_FLOWS.column(c).source_field for c in FILE_COLUMNS] == list(SOURCE_FIELDS)
    assert set(FILE_COLUMNS) == set(TRADE_FLOWS.column_names)
