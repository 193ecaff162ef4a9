"""What consumers get: a history of publications they can cite, the same tables as Parquet and
CSV (exact rows, exact types), exports of a subset, and the worked examples of docs/consumers.md."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trade_pipeline.lib.provenance import cited_publications
from trade_pipeline.publication import export as export_module
from trade_pipeline.publication.history import WHOLE, current_publication, part_files, publications, read_publication
from trade_pipeline.publication.store import publish

from .states import copy_state, run_cli
from .support import table_checksums, unsynced

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
                assert csv.read_bytes()[:2] == b"\x1f\x8b", (table, part)  # gzip
                columns = schemas[f"{table}/{part}.csv.gz"]
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
        # pandas reads the compressed CSV with the declared types: « 01 » stays « 01 ».
        _, csv = part_files(published, "trade_flows", "2024")
        text = {c["name"]: str for c in schemas["trade_flows/2024.csv.gz"] if c["trade:duckdb_type"] == "VARCHAR"}
        frame = pd.read_csv(csv, dtype=text)
        expected = store.execute("SELECT * FROM trade_flows WHERE year = 2024").df()
        assert len(frame) == len(expected) and "01" in set(frame["department_code"])
        assert sorted(frame["department_code"].unique()) == sorted(expected["department_code"].unique())
        assert frame["value_eur"].dtype == "int64" and frame["value_eur"].sum() == expected["value_eur"].sum()


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
    """The worked examples of docs/consumers.md, where the README sends a consumer."""
    return re.findall(rf"```{language}\n(.*?)```", (ROOT / "docs" / "consumers.md").read_text(encoding="utf-8"),
                      flags=re.S)


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
        exec(compile(example, "docs/consumers.md", "exec"), {})  # noqa: S102 - our own docs
    printed = capsys.readouterr().out
    assert "value_eur" in printed and "exports_eur" in printed, printed


def _one_error_line(result) -> str:  # noqa: ANN001
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (result.code, result.err)
    return lines[0]


def test_export_writes_a_regular_file_outside_the_data_directory_and_nothing_else(tmp_path, first_build):
    """`--out` may name a new or a regular file, or a directory; a FIFO, a symbolic link, a
    socket, anything inside the data directory is refused (exit 2, one line, target unchanged).
    Never point such a test at a real device: a failing test would damage the machine."""
    import socket
    import stat

    export = ("export", "--table", "territories", "--format", "csv")
    outside = tmp_path / "outside"
    outside.mkdir()
    # A FIFO, a symbolic link to a file of the test, a socket: refused, left as they were.
    fifo = outside / "fifo"
    os.mkfifo(fifo)
    target = outside / "target.txt"
    target.write_text("keep me")
    link = outside / "link"
    link.symlink_to(target)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(outside / "socket"))
    for path, kind in ((fifo, "a FIFO"), (link, "a symbolic link"), (outside / "socket", "a socket")):
        line = _one_error_line(run_cli(first_build, *export, "--out", str(path)))
        assert kind in line, line
    server.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink() and target.read_text() == "keep me"

    # Inside the data directory, however spelled: the consumers' link, a kept publication, `..`,
    # a symbolic link to a folder of it.
    published = first_build / "published"
    before = {p: (p.is_symlink(), p.read_bytes() if p.is_file() else None) for p in published.rglob("*")}
    history = next((published / "history").iterdir())
    (outside / "into-data").symlink_to(history)
    for out in (published / "trade.duckdb", history / "parquet" / "territories" / "all.parquet", f"{history}/",
                os.path.join(outside, os.path.relpath(first_build / "x.csv", outside)), outside / "into-data" / "x.csv"):
        line = _one_error_line(run_cli(first_build, *export, "--out", str(out)))
        assert "is inside the data directory" in line, line
    assert {p: (p.is_symlink(), p.read_bytes() if p.is_file() else None) for p in published.rglob("*")} == before

    # A regular file is replaced; a directory gets the default name; `dir/` is created.
    assert run_cli(first_build, *export, "--out", str(target)).code == 0 and target.read_text().startswith("level,")
    assert run_cli(first_build, *export, "--out", str(outside)).code == 0 and (outside / "territories.csv").is_file()
    assert run_cli(first_build, *export, "--out", f"{outside}/new/").code == 0
    assert (outside / "new" / "territories.csv").is_file()

    # I/O failures: one line, exit 2, no file left behind.
    line = _one_error_line(run_cli(first_build, *export, "--out", str(target / "sub" / "x.csv")))
    assert f"{target} is a file, not a folder" in line
    assert not [p for p in outside.rglob("*.tmp")]


def test_an_export_that_does_not_fit_leaves_nothing(tmp_path, first_build):
    """A full disk (a 64 KiB tmpfs, mounted where the test may) and a read-only one: one line,
    exit 2, no partial file."""
    import subprocess

    for options, reason in (("size=64k", "No space left on device"), ("ro,size=64k", "Read-only file system")):
        folder = tmp_path / options.replace(",", "-").replace("=", "")
        folder.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True).returncode:
            pytest.skip("cannot mount a small tmpfs here (not root): the full disk is tested by the build's own tests")
        try:
            for fmt in ("csv", "parquet", "xlsx"):
                result = run_cli(first_build, "export", "--table", "trade_flows", "--year", "2024", "--format", fmt,
                                 "--out", f"{folder}/")
                line = _one_error_line(result)
                assert f"could not write — {reason}; nothing was written" in line, line
                assert "{" not in line and "errno" not in line  # DuckDB's JSON is not shown
                assert list(folder.iterdir()) == []
        finally:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_text_cell_that_a_spreadsheet_would_run_is_never_published_nor_exported_as_csv(tmp_path, first_build):
    """Labels are refused at their file (test_hostile_input); here a warehouse that holds one
    anyway (a publication of an older version): nothing is published, and an older publication
    holding one is not exported as CSV (XLSX makes the cell text)."""
    from trade_pipeline.publication.store import PublicationRefused

    data = copy_state(first_build, tmp_path / "data")
    current = current_publication(data / "published")
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb")) as connection:
        connection.execute("UPDATE labels SET label = '=HYPERLINK(\"http://x.example/\",\"click\")' WHERE code = 'BE'")
        with pytest.raises(PublicationRefused, match=r"labels\.label holds '=HYPERLINK"):
            publish(connection, data / "published")
    assert current_publication(data / "published").id == current.id
    assert [p.id for p in publications(data / "published")] == [current.id]

    with duckdb.connect(str(current.duckdb_path)) as store:  # an older publication, made before the rule
        store.execute("UPDATE labels SET label = '+33 cliquez' WHERE code = 'BE'")
    refused = run_cli(data, "export", "--table", "labels", "--format", "csv", "--out", str(tmp_path / "labels.csv"))
    assert "would run as a formula" in _one_error_line(refused) and not (tmp_path / "labels.csv").exists()
    assert run_cli(data, "export", "--table", "labels", "--format", "xlsx", "--out", str(tmp_path / "l.xlsx")).code == 0
    import pandas as pd

    cells = pd.read_excel(tmp_path / "l.xlsx", dtype=str)
    assert "'+33 cliquez" in set(cells["label"])


def test_the_publication_the_fiches_cite_is_never_pruned(tmp_path, first_build, revised_sources):
    """TRADE_PIPELINE_PUBLICATIONS_KEPT=1, then a --no-fiches build of a revision: the fiches
    still cite the first publication, which stays until they cite another."""
    data = copy_state(first_build, tmp_path / "data")
    cited = current_publication(data / "published")
    result = run_cli(data, "build", "--year", "2024", "--no-fiches", "--source", str(revised_sources[1]),
                     TRADE_PIPELINE_PUBLICATIONS_KEPT="1")
    assert result.code == 0, result.err[-2000:]
    kept = [p.id for p in publications(data / "published")]
    newest = current_publication(data / "published")
    assert newest.id != cited.id and kept == [newest.id, cited.id]
    assert (cited.folder / "trade.duckdb").exists()
    fiche = (data / "fiches" / "2024" / "departement-34.html").read_text(encoding="utf-8")
    assert f'content="{cited.id}"' in fiche
    listing = run_cli(data, "publications", TRADE_PIPELINE_PUBLICATIONS_KEPT="1")
    assert re.search(rf"{cited.id} .*cited by the fiches", listing.out), listing.out
    # Once the fiches cite the newest, the older one goes at the next publication.
    assert run_cli(data, "build", "--year", "2024", "--source", str(revised_sources[1]),
                   TRADE_PIPELINE_PUBLICATIONS_KEPT="1").code == 0
    assert cited_publications(data / "fiches") == {newest.id}
    with duckdb.connect(str(data / "warehouse" / "warehouse.duckdb")) as connection:
        latest = publish(connection, data / "published", 1, cited=cited_publications(data / "fiches")).publication
    assert [p.id for p in publications(data / "published")] == [latest.id, newest.id]


def test_the_same_files_from_another_source_are_published_with_their_new_provenance(tmp_path, first_build,
                                                                                   revised_sources):
    """Identical rows reloaded from elsewhere: `sources` says where they came from now; the marts
    are not recomputed, and one publication is made."""
    data = copy_state(first_build, tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for archive in revised_sources[0].glob("*.zip"):
        (elsewhere / archive.name).write_bytes(archive.read_bytes())
    count = len(publications(data / "published"))
    result = run_cli(data, "build", "--year", "2024", "--no-fiches", "--source", str(elsewhere))
    assert result.code == 0, result.err[-2000:]
    assert "territory_marts          skipped (unchanged)" in result.out
    with duckdb.connect(str(data / "published" / "trade.duckdb"), read_only=True) as store:
        source, files = store.execute("SELECT source, files FROM sources WHERE year = 2024").fetchall()[0]
    assert source == str(elsewhere) and str(elsewhere) in files
    assert len(publications(data / "published")) == count + 1
    # The charts read the rows, not where they came from: still current, not « Unsynced ». The
    # fiches still cite the previous publication (kept): « Unsynced » against published_store; the
    # latest quarters' pages (not drawn by --no-fiches) against the quarters table, which names
    # each quarter's source.
    shown = unsynced(data)
    assert "territory_charts" not in shown and "territory_marts" not in shown, shown
    assert set(shown) <= {"fiches", "conjoncture"}, shown
    again = run_cli(data, "build", "--year", "2024", "--no-fiches", "--source", str(elsewhere))
    assert "Nothing changed since the last build" in again.out
