"""What consumers get: a history of publications they can cite, the same tables as Parquet and
CSV (exact rows, exact types), exports of a subset, and the README's worked examples."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from trade_pipeline.publication import export as export_module
from trade_pipeline.publication.store import (
    WHOLE,
    current_publication,
    part_files,
    publications,
    publish,
    read_publication,
)

from .states import copy_state, run_cli
from .support import table_checksums

pytestmark = pytest.mark.slow  # they start from the shared first build

ROOT = Path(__file__).resolve().parent.parent


def publish_again(data: Path, kept: int = 10):  # noqa: ANN201
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb")) as connection:
        return publish(connection, data / "published", kept)


def test_publishing_twice_keeps_two_snapshots_and_an_older_one_keeps_its_tables(tmp_path, first_build):
    data = copy_state(first_build, tmp_path / "data")
    first = current_publication(data / "published")
    assert first is not None and [p.id for p in publications(data / "published")] == [first.id]
    first_tables = table_checksums(first.duckdb_path)

    # Nothing changed: a snapshot of its own (its own date), the same checksum, links not copies.
    again = publish_again(data)
    second = again.publication
    assert not again.changed and second.id != first.id and second.published_at != first.published_at
    assert second.checksum == first.checksum and second.same_content_as == first.id
    assert os.stat(second.duckdb_path).st_ino == os.stat(first.duckdb_path).st_ino
    assert current_publication(data / "published").id == second.id

    # The fiches name the publication their figures come from.
    fiche = (data / "fiches" / "2024" / "departement-34.html").read_text(encoding="utf-8")
    assert f'data-publication="{first.id}"' in fiche and first.checksum[:12] in fiche

    # New figures (Hérault's rows gone from the warehouse): a third snapshot, current; the older
    # ones still hold exactly their tables.
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb")) as connection:
        connection.execute("DELETE FROM trade_flows WHERE department_code = '34'")
    third = publish_again(data).publication
    kept = publications(data / "published")
    assert [p.id for p in kept] == [third.id, second.id, first.id] and third.checksum != first.checksum
    assert table_checksums(data / "published" / "trade.duckdb") == table_checksums(third.duckdb_path)
    assert table_checksums(read_publication(first.folder).duckdb_path) == first_tables
    assert table_checksums(third.duckdb_path)["trade_flows"] != first_tables["trade_flows"]
    # Only the changed table-years were written again; the others are links to the previous files.
    for table, parts in third.parts.items():
        for part, fingerprint in parts.items():
            new, old = part_files(third.folder, table, part)[0], part_files(first.folder, table, part)[0]
            assert (os.stat(new).st_ino == os.stat(old).st_ino) == (fingerprint == first.parts[table][part]), table

    listing = run_cli(data, "publications")
    assert listing.code == 0
    lines = [line for line in listing.out.splitlines() if re.match(r"\s+\d{4}-", line)]
    assert [line.split()[0] for line in lines] == [p.id for p in kept]
    assert "current" in lines[0] and f"same content as {first.id}" in lines[1]


def test_only_the_kept_number_of_publications_stays_never_the_current_one(tmp_path, first_build):
    data = copy_state(first_build, tmp_path / "data")
    results = [publish_again(data, kept=2) for _ in range(3)]  # within a second, too: ids stay distinct
    kept = publications(data / "published")
    assert [p.id for p in kept] == [r.publication.id for r in reversed(results[1:])]
    assert current_publication(data / "published").id == results[-1].publication.id
    assert results[-1].pruned == [results[0].publication.id]
    # The stable path still opens, through the current snapshot.
    with duckdb.connect(str(data / "published" / "trade.duckdb"), read_only=True) as store:
        assert store.execute("SELECT value FROM metadata WHERE key = 'content_checksum'").fetchall()[0][0] == \
            results[-1].checksum


def test_a_snapshot_a_crash_left_unfinished_is_removed_and_never_listed(tmp_path, first_build):
    """A kill between the rename into history/ and the swap of `current` (the marker is left)."""
    data = copy_state(first_build, tmp_path / "data")
    history = data / "published" / "history"
    current = current_publication(data / "published")
    unfinished = history / "2999-01-01T00-00-00Z"
    unfinished.mkdir()
    (unfinished / "publication.json").write_text((current.folder / "publication.json").read_text())
    (history / f".pending-{unfinished.name}").touch()
    (history / f".pending-{current.id}").touch()  # died just after the swap: that one stays
    (history / ".staging-2999-01-01T00-00-01Z").mkdir()
    result = publish_again(data)
    assert not unfinished.exists() and not [p for p in history.iterdir() if p.name.startswith(".")]
    assert [p.id for p in publications(data / "published")] == [result.publication.id, current.id]


def _duckdb_types(store: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in store.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}


def test_parquet_and_csv_hold_exactly_the_rows_and_types_of_the_duckdb_tables(first_build):
    published = first_build / "published"
    publication = current_publication(published)
    csvw = json.loads((published / "csv" / "csv-metadata.json").read_text(encoding="utf-8"))
    assert csvw["dc:identifier"] == publication.checksum == json.loads(
        (published / "publication.json").read_text(encoding="utf-8"))["checksum"]
    schemas = {entry["url"]: entry["tableSchema"]["columns"] for entry in csvw["tables"]}
    with duckdb.connect(str(published / "trade.duckdb"), read_only=True) as store:
        assert store.execute("SELECT value FROM metadata WHERE key = 'content_checksum'").fetchall()[0][0] == \
            publication.checksum
        for table, table_parts in publication.parts.items():
            types = _duckdb_types(store, table)
            for part, fingerprint in table_parts.items():
                parquet, csv = part_files(published, table, part)
                rows = f"SELECT * FROM {table}" + ("" if part == WHOLE else f" WHERE year = {part}")
                # Parquet: the same types, the same rows (both ways, duplicates counted).
                from_parquet = f"read_parquet('{parquet}')"
                assert _duckdb_types(store, from_parquet) == types, (table, part)
                assert store.execute(f"SELECT count(*) FROM ({rows} EXCEPT ALL SELECT * FROM {from_parquet})"
                                     ).fetchall()[0][0] == 0, (table, part)
                assert store.execute(f"SELECT count(*) FROM {from_parquet}").fetchall()[0][0] == \
                    store.execute(f"SELECT count(*) FROM ({rows})").fetchall()[0][0]
                assert store.execute(f"SELECT value FROM parquet_kv_metadata('{parquet}') "
                                     "WHERE key = 'trade_pipeline_fingerprint'").fetchall()[0][0].decode() == fingerprint
                # CSV, read with the types its CSVW metadata declares: the same rows.
                columns = schemas[f"{table}/{part}.csv"]
                assert [c["name"] for c in columns] == list(types) and \
                    {c["name"]: c["trade:duckdb_type"] for c in columns} == types
                declared = ", ".join(f"'{c['name']}': '{c['trade:duckdb_type']}'" for c in columns)
                from_csv = f"read_csv('{csv}', header = true, columns = {{{declared}}})"
                assert store.execute(f"SELECT count(*) FROM (({rows}) EXCEPT ALL SELECT * FROM {from_csv}) "
                                     f"UNION ALL SELECT count(*) FROM (SELECT * FROM {from_csv} EXCEPT ALL ({rows}))"
                                     ).fetchall() == [(0,), (0,)], (table, part)
        # Codes stay text and amounts 64-bit, in every format.
        flows = _duckdb_types(store, "trade_flows")
        assert flows["department_code"] == flows["cpf4_code"] == flows["country_code"] == "VARCHAR"
        assert flows["value_eur"] == "BIGINT"


def test_export_writes_the_subset_asked_for_or_says_why_not(tmp_path, first_build, monkeypatch):
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(first_build))
    published = first_build / "published" / "trade.duckdb"
    with duckdb.connect(str(published), read_only=True) as store:
        expected = store.execute("SELECT count(*) FROM trade_flows WHERE year = 2024").fetchall()[0][0]
        herault = store.execute("SELECT * FROM territory_totals ORDER BY ALL").df()
    for fmt in ("csv", "parquet"):
        done = run_cli(first_build, "export", "--table", "trade_flows", "--year", "2024", "--format", fmt,
                       "--out", str(tmp_path))
        assert done.code == 0, done.err
        path = tmp_path / f"trade_flows-2024.{fmt}"
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        with duckdb.connect() as check:
            assert check.execute(f"SELECT count(*) FROM {reader}('{path}')").fetchall()[0][0] == expected
    done = run_cli(first_build, "export", "--table", "territory_totals", "--format", "xlsx",
                   "--out", str(tmp_path / "totals.xlsx"))
    assert done.code == 0, done.err
    import pandas as pd

    sheet = pd.read_excel(tmp_path / "totals.xlsx", dtype={"territory_code": str})
    assert len(sheet) == len(herault) and set(sheet["territory_code"]) == set(herault["territory_code"])

    refused = {
        ("--table", "nope", "--format", "csv"): "not a table of publication",
        ("--table", "trade_flows", "--year", "2019", "--format", "csv"): "--year 2019: not in trade_flows",
        ("--table", "territories", "--year", "2024", "--format", "csv"): "has no year column",
        ("--table", "trade_flows", "--format", "csv", "--publication", "1999"): "is not a kept publication",
    }
    for arguments, message in refused.items():
        result = run_cli(first_build, "export", *arguments, "--out", str(tmp_path / "refused.csv"))
        assert result.code == 2 and message in result.err, (arguments, result.err)
    monkeypatch.setattr(export_module, "EXCEL_MAX_ROWS", 10)
    too_big = run_cli(first_build, "export", "--table", "trade_flows", "--format", "xlsx", "--out", str(tmp_path))
    assert too_big.code == 2 and "do not fit in a sheet" in too_big.err
    assert not (tmp_path / "refused.csv").exists() and not (tmp_path / "trade_flows.xlsx").exists()


def _readme_examples(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Consumers", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_the_readme_consumer_examples_run_on_a_publication(first_build, monkeypatch, capsys):
    sql, python, r = _readme_examples("sql"), _readme_examples("python"), _readme_examples("r")
    assert sql and python and r
    monkeypatch.chdir(first_build)  # the examples are written from the data directory
    with duckdb.connect() as connection:
        for example in sql:
            for statement in [s.strip() for s in example.split(";") if s.strip()]:
                rows = connection.execute(statement).fetchall()
                assert rows or not statement.startswith("SELECT"), statement  # Hérault has figures
    for example in python:
        exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert "value_eur" in printed and "exports_eur" in printed, printed
