"""Helpers shared by the tests: hand-written DGDDI files and a local HTTP server."""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from trade_pipeline.aggregation.marts import refresh_year_cells
from trade_pipeline.fiches.page import BUILD_SPECIFIC
from trade_pipeline.lib.nomenclature import packaged_reference
from trade_pipeline.lib.warehouse import create_tables

LABEL_FILES = ("Libelle_PAYS.txt", "Libelle_CPF4_rev2.1.txt", "Libelle_A129.txt", "Departement_region.txt")

# (flow, quarter, dept, region, a129, cpf4, country, value, mass): the special cases of
# docs/source-format.md, « What test files must hold » — NA (Namibia), Corsica 20, overseas 9A, Monaco 99, QU, EU, > 2^31.
SMALL_ROWS = [
    ("E", 1, "34", "12", "C11Z", "1102", "DE", 1_200_000, 300_000),
    ("E", 2, "34", "12", "C11Z", "1102", "BE", 800_000, 200_000),
    ("E", 3, "34", "12", "C21Z", "2120", "US", 2_500_000, 1_000),
    ("E", 4, "34", "12", "A01Z", "0111", "NA", 50_000, 40_000),
    ("E", 1, "31", "12", "C30C", "3030", "CN", 3_000_000_000, 2_000),  # > 2^31
    ("E", 2, "20", "22", "C11Z", "1102", "IT", 400_000, 90_000),
    ("E", 3, "9A", "24", "C11Z", "1101", "QU", 70_000, 10_000),
    ("E", 4, "99", "21", "C20B", "2042", "EU", 90_000, 1_000),
    ("E", 1, "75", "03", "C32A", "3212", "CH", 5_000_000, 100),
    ("I", 1, "34", "12", "C19Z", "1920", "ES", 4_000_000, 5_000_000),
    ("I", 2, "34", "12", "A01Z", "0113", "MA", 600_000, 700_000),
    ("I", 3, "34", "12", "C26B", "2620", "CN", 900_000, 3_000),
    ("I", 4, "31", "12", "C30C", "3030", "US", 2_200_000_000, 1_500),  # > 2^31
    ("I", 1, "75", "03", "D35A", "3511", "DE", 7_000_000, 0),
    ("I", 2, "20", "22", "C10C", "1039", "NA", 30_000, 20_000),
    ("I", 3, "9A", "24", "C19Z", "1920", "US", 800_000, 900_000),
    ("I", 4, "99", "21", "C14Z", "1413", "QU", 10_000, 100),
]


def dgddi_line(flow: str, quarter: int, year: int, dept: str, region: str, a129: str, cpf4: str, country: str,
               value: int, mass: int) -> str:
    return f"{flow};{quarter};{year};{dept};{region};{a129};{cpf4};{country};{value};{mass}"


def small_lines(year: int, flow: str) -> list[str]:
    return [dgddi_line(f, q, year, d, r, a, c, p, v, m) for f, q, d, r, a, c, p, v, m in SMALL_ROWS if f == flow]


def text(lines: list[str], newline: str = "\r\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


def packaged_label(name: str) -> bytes:
    return (resources.files("trade_pipeline") / "reference" / name).read_bytes()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return sink.getvalue()


def hostile_zip(kind: str, year: int = 2024, flow: str = "E") -> bytes:
    """A DGDDI-looking zip with one hostile member (the data file is there and valid)."""
    word = "export" if flow == "E" else "import"
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"Regional-{year}-{word}/Region_{year}_{word.capitalize()}.txt", text(small_lines(year, flow)))
        if kind == "traversal":
            archive.writestr("../../evil.txt", b"written outside")
        elif kind == "absolute":
            info = zipfile.ZipInfo("x")
            info.filename = "/tmp/evil.txt"  # ZipInfo() strips a leading slash; hostile tools do not
            archive.writestr(info, b"written outside")
        elif kind == "symlink":
            info = zipfile.ZipInfo(f"Regional-{year}-{word}/Libelle_PAYS.txt")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
        elif kind == "bomb":
            archive.writestr(f"Regional-{year}-{word}/Libelle_A129.txt", bytes(64 * 1024 * 1024))
        else:
            raise ValueError(kind)
    return sink.getvalue()


def year_zip(year: int, flow: str, lines: list[str] | None = None, labels: dict[str, bytes] | None = None,
             data_name: str | None = None) -> bytes:
    """A zip laid out like DGDDI's annual regional zips."""
    word = "export" if flow == "E" else "import"
    folder = f"Regional-{year}-{word}"
    members = {f"{folder}/{data_name or f'Region_{year}_{word.capitalize()}.txt'}":
               text(lines if lines is not None else small_lines(year, flow))}
    for name in LABEL_FILES:
        members[f"{folder}/{name}"] = packaged_label(name)
    for name, data in (labels or {}).items():
        members[f"{folder}/{name}"] = data
    return zip_bytes(members)


def write_year_dir(folder: Path, year: int, export_lines: list[str] | None = None,
                   import_lines: list[str] | None = None) -> Path:
    """A source directory holding the two annual zips of a year (hand-written rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    for flow, lines in (("E", export_lines), ("I", import_lines)):
        word = "export" if flow == "E" else "import"
        (folder / f"{year + 1}02-Regional-{year}-{word}.zip").write_bytes(year_zip(year, flow, lines))
    return folder


Handler = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 whose routes are Python callables."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        routes, hits = self.routes, self.hits

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path.split("?")[0]
                hits[self.path] = hits.get(self.path, 0) + 1
                handler = routes.get(self.path) or routes.get(path)
                if handler is None:
                    self.send_error(404, "Not Found")
                    return
                handler(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def serve_bytes(self, path: str, data: bytes, content_type: str = "application/zip") -> None:
        self.routes[path] = bytes_answer(data, content_type, etag=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# Network faults: handlers for LocalServer routes -----------------------------------------------


def serve_then(server: LocalServer, path: str, failures: list[Handler], final: Handler) -> None:
    """Answer `path` with each failure in turn, then always with `final`."""
    answers = list(failures)
    server.routes[path] = lambda request: (answers.pop(0) if answers else final)(request)


def bytes_answer(data: bytes, content_type: str = "application/zip", etag: bool = False,
                 sent: int | None = None) -> Handler:
    """200 with `data` announced in full; only its first `sent` bytes are written, if given."""
    def answer(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        if etag:
            request.send_header("ETag", f'"{hash(data) & 0xFFFFFFFF:x}"')
        request.end_headers()
        request.wfile.write(data if sent is None else data[:sent])
        if sent is not None:
            request.close_connection = True
    return answer


def zip_answer(data: bytes) -> Handler:
    return bytes_answer(data)


def status_answer(code: int) -> Handler:
    return lambda request: request.send_error(code)


def slow_answer(data: bytes, seconds: float) -> Handler:
    def answer(request: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            zip_answer(data)(request)
        except OSError:  # the client gave up: that is the point
            request.close_connection = True
    return answer


def reset_answer(request: BaseHTTPRequestHandler) -> None:
    # SO_LINGER 0: close() sends a TCP RST, which the client sees as "connection reset by peer".
    request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    request.connection.close()
    request.close_connection = True


def truncated_answer(data: bytes) -> Handler:
    return bytes_answer(data, sent=len(data) // 3)


html_answer = bytes_answer(b"<!DOCTYPE html><html><body>Maintenance du site</body></html>", "text/html")


def listing_page(links: list[str]) -> bytes:
    """A page shaped like the kiosque « Bases complètes » listing."""
    items = "\n".join(f'<li><a href="{href}">{href.rsplit("/", 1)[-1]}</a></li>' for href in links)
    return (f"<html><head><title>Téléchargement - Bases complètes</title></head><body><h1>Bases complètes</h1>"
            f"<ul>{items}</ul></body></html>").encode()


# Hand-computed fixture of the marts and charts tests ----------------------------------------

# (year, quarter, flow, dept, region, a129, cpf4, country, value)
ROWS = [
    # Hérault 2024, exports 500 (energy 30), imports 460 (energy 300)
    (2024, 1, "E", "34", "12", "C11Z", "1102", "DE", 100), (2024, 2, "E", "34", "12", "C11Z", "1102", "DE", 50),
    (2024, 1, "E", "34", "12", "C11Z", "1102", "BE", 60), (2024, 1, "E", "34", "12", "C21Z", "2120", "US", 200),
    (2024, 3, "E", "34", "12", "C21Z", "2120", "DE", 40), (2024, 1, "E", "34", "12", "B06Z", "0620", "NO", 30),
    (2024, 4, "E", "34", "12", "C11Z", "1102", "EU", 20),
    (2024, 1, "I", "34", "12", "C19Z", "1920", "ES", 300), (2024, 1, "I", "34", "12", "A01Z", "0113", "MA", 100),
    (2024, 2, "I", "34", "12", "C26B", "2620", "CN", 50), (2024, 1, "I", "34", "12", "A01Z", "0113", "QU", 10),
    # the rest of Occitanie and of France
    (2024, 1, "E", "31", "12", "C30C", "3030", "CN", 1000), (2024, 1, "I", "31", "12", "C30C", "3030", "US", 400),
    (2024, 1, "E", "75", "03", "C20B", "2042", "US", 500), (2024, 1, "I", "75", "03", "D35A", "3511", "DE", 700),
    # Hérault 2023, exports only: 400
    (2023, 1, "E", "34", "12", "C11Z", "1102", "DE", 100), (2023, 1, "E", "34", "12", "C21Z", "2120", "US", 300),
]
KEYS = ["france-FR", "region-12", "region-03", "departement-34", "departement-31", "departement-75"]


def _labels(year: int) -> pd.DataFrame:
    reference = packaged_reference()
    return pd.concat([table.assign(year=year, nomenclature=kind, source="package")
                      for kind in ("pays", "cpf4", "a129") for table in [reference.table(kind)]])


def warehouse_with(rows) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    create_tables(connection)
    frame = pd.DataFrame(rows, columns=["year", "quarter", "flow", "department_code", "region_code", "a129_code",
                                        "cpf4_code", "country_code", "value_eur"]).assign(mass_kg=1)
    connection.register("fixture", frame)
    connection.execute("INSERT INTO trade_flows BY NAME SELECT * FROM fixture")
    for year in sorted(set(frame["year"])):
        connection.register("fixture_labels", _labels(year))
        connection.execute("INSERT INTO labels BY NAME SELECT * FROM fixture_labels")
        refresh_year_cells(connection, year)
    return connection




def territory_data(rows=None, keys=None, year: int = 2024):
    """TerritoryData (what a fiche shows) computed from hand-written rows through the real marts."""
    from trade_pipeline.aggregation.marts import MART_QUERIES, MartSettings, refresh
    from trade_pipeline.aggregation.reads import load

    keys = keys or KEYS
    connection = warehouse_with(rows or ROWS)
    for mart in MART_QUERIES.values():
        refresh(connection, mart, year, keys, MartSettings())
    data = load(connection, year, keys)
    connection.close()
    return data


def change_department_rows(archive: Path, department: str, delta: int) -> None:
    """Rewrite a DGDDI zip with `delta` € added to every export row of one département."""
    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist()}
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            if name.lower().endswith(".txt") and "export" in name.lower() and "libelle" not in name.lower():
                lines = []
                for line in data.decode("utf-8").splitlines():
                    fields = line.split(";")
                    if len(fields) == 10 and fields[3] == department:
                        fields[8] = str(int(fields[8]) + delta)
                    lines.append(";".join(fields))
                data = ("\n".join(lines) + "\n").encode("utf-8")
            target.writestr(name, data)
    archive.write_bytes(sink.getvalue())


# Whole builds in a subprocess, and what they leave (crash and concurrency tests) ----------------

#: The marts of the warehouse: compared between a crashed-and-rerun and a clean directory.
WAREHOUSE_TABLES = ("trade_flows", "labels", "year_cells", "mart_territory_totals", "mart_partner_balance",
                    "mart_product_breakdown", "mart_flow_links", "mart_exposure")
#: Columns that say when, not what: they differ between any two builds.
WHEN_COLUMNS = {name: "EXCLUDE (files, loaded_at)" for name in ("sources", "latest_sources", "latest_publications")}


def table_checksums(path: Path, tables: tuple[str, ...] | None = None) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every table's contents (metadata aside)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        names = tables or tuple(name for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name <> 'metadata'").fetchall())
        return {name: connection.execute(
            f"SELECT count(*), md5(coalesce(string_agg(md5(t::VARCHAR), '' ORDER BY md5(t::VARCHAR)), '')) "
            f"FROM (SELECT * {WHEN_COLUMNS.get(name, '')} FROM {name}) t").fetchone() for name in names}


_PUBLICATION_NAMED = re.compile(BUILD_SPECIFIC.encode())


def fiche_checksums(data: Path) -> dict[str, str]:
    folder = data / "fiches" / "2024"
    return {str(p.relative_to(folder)): hashlib.sha256(_PUBLICATION_NAMED.sub(b"", p.read_bytes())).hexdigest()
            for p in sorted(folder.rglob("*")) if p.suffix in (".html", ".csv", ".json")}


def state(data: Path) -> tuple:
    return (table_checksums(data / "published" / "trade.duckdb"),
            table_checksums(data / "warehouse" / "warehouse.duckdb", WAREHOUSE_TABLES), fiche_checksums(data))


def build_in_subprocess(data: Path, source: Path, failpoint: str | None = None, wait: bool = True,
                        lock_timeout: float | None = None, fiches: bool = True, departements: tuple[str, ...] = ()
                        ) -> subprocess.CompletedProcess | subprocess.Popen:
    """`trade-pipeline build --year 2024` in its own process (so that it can be killed or run
    beside another); finished (`wait`) or still running, with its output captured; `--no-fiches`
    unless `fiches`; `--departement` for each of `departements`.

    Without chart pictures (as on a machine without Chromium): these builds are for the tests
    of the warehouse and the store, where pictures would only cost minutes."""
    env = {**os.environ, "TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster"),
           "BROWSER_PATH": "/nonexistent/chromium"}
    env.pop("TRADE_PIPELINE_FAILPOINT", None)
    if failpoint:
        env["TRADE_PIPELINE_FAILPOINT"] = failpoint
    if lock_timeout is not None:
        env["TRADE_PIPELINE_LOCK_TIMEOUT"] = str(lock_timeout)
    command = [sys.executable, "-m", "trade_pipeline.cli", "build", "--year", "2024", "--source", str(source),
               *([] if fiches else ["--no-fiches"]), *(f"--departement={code}" for code in departements)]
    if wait:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


#: Partitions whose staleness is read after a build: the odd territories and a revised one's chain.
LOOKED_AT = ("departement-34", "region-12", "france-FR", "departement-75", "departement-20", "departement-9A",
             "departement-99", "region-24")


def unsynced(data: Path, year: int = 2024) -> dict[str, dict]:
    """What Dagster's UI would show « Unsynced » after the build, asset by asset (with why)."""
    from trade_pipeline.definitions import defs
    from trade_pipeline.orchestration.dagster_internals import stale_partitions

    graph = defs.resolve_asset_graph()
    shown = {}
    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        for key in graph.get_all_asset_keys():
            partitions = [f"{t}|{year}" for t in LOOKED_AT] if graph.get(key).is_partitioned else [None]
            if key.to_user_string() in ("raw_trade_files", "trade_flows"):
                partitions = [str(year)]
            if stale := stale_partitions(instance, graph, key, partitions):
                shown[key.to_user_string()] = stale
    return shown
