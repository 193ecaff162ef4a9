"""Benchmark: raw files → published marts for all territories of a full-scale synthetic year.

Side by side, in the same run:

1. **Dagster** — `trade-pipeline build --year 2024 --source DIR` in a fresh data directory:
   raw store, pandera contract, Great Expectations checks, warehouse, territory slices, marts,
   atomic publication — everything the pipeline does, through Dagster's event log.
2. **Plain SQL** — the same marts (the SQL text is rendered from `trade_pipeline.aggregation.marts`)
   computed by one DuckDB script from the same zips: unzip, `read_csv`, marts, no validation,
   no orchestration.

Each side runs in its own process; wall time and peak RSS (the process tree's largest resident
set) are measured from outside. The marts of both sides are compared row for row.

    .venv/bin/python benchmarks/marts_benchmark.py [--scale 14] [--out benchmarks/results/marts.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from trade_pipeline.aggregation.marts import MARTS, MartSettings, territory_cells_sql  # noqa: E402
from trade_pipeline.tables import FILE_COLUMNS, TRADE_FLOWS  # noqa: E402
from trade_pipeline.territories import parse_territory_key, territory_keys  # noqa: E402

YEAR = 2024
PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("trade-pipeline"))


def timed(command: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> tuple[float, float]:
    """Run a command; wall seconds and peak RSS (MiB) of that process (wait4 reports it alone)."""
    output = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    start = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if log:
        output.close()
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed (exit {process.returncode}); see {log}")
    return seconds, usage.ru_maxrss / 1024


def plain_sql_script(data_files: dict[str, Path], label_files: dict[str, Path], database: Path) -> str:
    """One DuckDB script computing the same marts from the text files, no validation."""
    columns = ", ".join(f"'{name}': '{TRADE_FLOWS.column(name).type}'" for name in FILE_COLUMNS)
    files = ", ".join(f"'{path}'" for path in data_files.values())
    label_sql = []
    for kind, path in label_files.items():
        label_sql.append(f"""
            SELECT {YEAR} AS year, '{kind}' AS nomenclature, trim(column0, ' \ufeff') AS code, trim(column1) AS label,
                   column2::INTEGER AS valid_from, column3::INTEGER AS valid_to, 'plain' AS source
            FROM read_csv('{path}', delim = ';', header = false, quote = '"', all_varchar = true)""")
    keys = ", ".join("('{}', '{}')".format(*parse_territory_key(key)) for key in territory_keys())
    settings = MartSettings()
    marts = "\n".join(
        f"CREATE TABLE {mart.name} AS {mart.sql(settings).replace('$year', str(YEAR))};" for mart in MARTS.values())
    return f"""
        SET threads = 2;
        SET enable_progress_bar = false;
        CREATE TABLE trade_flows AS SELECT * FROM read_csv([{files}], delim = ';', header = false, quote = '',
            auto_detect = false, columns = {{{columns}}});
        CREATE TABLE labels AS {' UNION ALL '.join(label_sql)};
        CREATE TABLE year_cells AS
            SELECT year, department_code, region_code, flow, a129_code, cpf4_code, country_code,
                   sum(value_eur)::BIGINT AS value_eur, sum(mass_kg)::BIGINT AS mass_kg
            FROM trade_flows GROUP BY ALL;
        CREATE TEMP TABLE scope AS SELECT * FROM (VALUES {keys}) t(level, territory_code);
        CREATE TEMP VIEW cells AS {territory_cells_sql(YEAR)};
        CREATE TEMP VIEW previous_cells AS {territory_cells_sql(YEAR - 1)};
        CREATE TEMP VIEW labels_of_year AS
            SELECT nomenclature, code, arg_max(label, valid_from) AS label FROM labels
            WHERE valid_from <= {YEAR * 100 + 12} AND valid_to >= {YEAR * 100 + 1} GROUP BY nomenclature, code;
        {marts}
        CHECKPOINT;
        """


PLAIN_RUNNER = """
import sys, zipfile, pathlib, duckdb
work, database, script = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]).read_text()
for archive in sorted(work.glob('*.zip')):
    with zipfile.ZipFile(archive) as z:
        z.extractall(work / 'unzipped')
for labels in (work / 'unzipped').rglob('Libelle_CPF4*.txt'):  # Windows-1252 → UTF-8 for read_csv
    labels.write_text(labels.read_bytes().decode('cp1252'), encoding='utf-8')
with duckdb.connect(database) as connection:
    connection.execute(script)
"""


def compare(dagster_store: Path, plain_store: Path) -> dict[str, bool]:
    """Are the marts of both sides identical (as sets of rows)?

    Names are left out (the plain script reads the label files without our normalisation) and
    so are floating-point shares (summation order); codes, values, ranks and flags must match.
    """
    same = {}
    with duckdb.connect(str(plain_store), read_only=True) as connection:
        connection.execute(f"ATTACH '{dagster_store}' AS dagster (READ_ONLY)")
        for name in ("partner_balance", "product_breakdown", "flow_links", "exposure"):
            columns = [c for c, in connection.execute(
                f"SELECT column_name FROM information_schema.columns WHERE table_catalog = 'dagster' "
                f"AND table_name = '{name}' AND data_type NOT IN ('DOUBLE') AND column_name NOT LIKE '%_name'").fetchall()]
            listed = ", ".join(columns)
            differing = connection.execute(f"""
                SELECT count(*) FROM ((SELECT {listed} FROM dagster.main.{name} EXCEPT SELECT {listed} FROM main.{name})
                UNION ALL (SELECT {listed} FROM main.{name} EXCEPT SELECT {listed} FROM dagster.main.{name}))""").fetchall()[0][0]
            same[name] = differing == 0
        totals = connection.execute("""
            SELECT count(*) FROM dagster.main.territory_totals d JOIN main.territory_totals p USING (level, territory_code)
            WHERE d.exports_eur <> p.exports_eur OR d.imports_eur <> p.imports_eur""").fetchall()[0][0]
        same["territory_totals"] = totals == 0
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=14.0, help="sample scale (14 ≈ 2.05 M rows per flow)")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "marts.json")
    args = parser.parse_args()

    work = args.work
    source = work / f"source-{args.scale:g}"
    if not source.exists():
        print(f"generating the sample (scale {args.scale:g}) in {source} …", flush=True)
        subprocess.run([CLI, "sample", "--out", str(source), "--year", str(YEAR), "--scale", str(args.scale)],
                       check=True, capture_output=True)
    rows = _rows(source)

    dagster_dir = work / "dagster-side"
    shutil.rmtree(dagster_dir, ignore_errors=True)
    print("Dagster side: trade-pipeline build …", flush=True)
    dagster_seconds, dagster_rss = timed(
        [CLI, "build", "--year", str(YEAR), "--source", str(source)],
        env={"TRADE_PIPELINE_DATA_DIR": str(dagster_dir), "DAGSTER_HOME": str(dagster_dir / "dagster")},
        log=work / "dagster-side.log")
    steps = _step_durations(dagster_dir / "dagster")

    plain_dir = work / "plain-side"
    shutil.rmtree(plain_dir, ignore_errors=True)
    plain_dir.mkdir(parents=True)
    for archive in source.glob("*.zip"):
        shutil.copy(archive, plain_dir / archive.name)
    unzipped = plain_dir / "unzipped"
    data = {"E": unzipped / f"Regional-{YEAR}-export" / f"Region_{YEAR}_Export.txt",
            "I": unzipped / f"Regional-{YEAR}-import" / f"Region_{YEAR}_Import.txt"}
    labels = {"pays": unzipped / f"Regional-{YEAR}-export" / "Libelle_PAYS.txt",
              "a129": unzipped / f"Regional-{YEAR}-export" / "Libelle_A129.txt",
              "cpf4": unzipped / f"Regional-{YEAR}-export" / "Libelle_CPF4_rev2.1.txt"}
    script = plain_dir / "marts.sql"
    script.write_text(plain_sql_script(data, labels, plain_dir / "marts.duckdb"), encoding="utf-8")
    print("plain side: one DuckDB script …", flush=True)
    plain_seconds, plain_rss = timed([PYTHON, "-c", PLAIN_RUNNER, str(plain_dir), str(plain_dir / "marts.duckdb"),
                                      str(script)], log=work / "plain-side.log")
    same = compare(dagster_dir / "published" / "trade.duckdb", plain_dir / "marts.duckdb")

    result = {
        "benchmark": "raw → published marts, all 116 territories of one year",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "scale": args.scale, "rows_per_flow": rows,
        "dagster_seconds": round(dagster_seconds, 1), "plain_sql_seconds": round(plain_seconds, 1),
        "ratio": round(dagster_seconds / plain_seconds, 2),
        "dagster_peak_rss_mib": round(dagster_rss), "plain_sql_peak_rss_mib": round(plain_rss),
        "same_marts": same, "dagster_steps_seconds": steps,
        "targets": {"ratio": 1.5, "peak_rss_mib": 2048},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


def _rows(source: Path) -> dict[str, int]:
    import zipfile

    counts = {}
    for archive in sorted(source.glob("*.zip")):
        with zipfile.ZipFile(archive) as z:
            member = next(m for m in z.namelist() if m.endswith((f"{YEAR}_Export.txt", f"{YEAR}_Import.txt")))
            with z.open(member) as handle:
                counts["E" if "Export" in member else "I"] = sum(1 for _ in handle)
    return counts


def _step_durations(dagster_home: Path) -> dict[str, float]:
    """Seconds per step of the build's runs, and per stage of trade_flows, from the event log."""
    import dagster as dg

    durations: dict[str, float] = {}
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    latest = instance.fetch_materializations(dg.AssetKey("trade_flows"), limit=1).records
    if latest:
        for key, value in latest[0].asset_materialization.metadata.items():
            if key.startswith("seconds_"):
                durations[f"trade_flows: {key.removeprefix('seconds_')}"] = value.value
    for run in instance.get_runs():
        stats = instance.get_run_step_stats(run.run_id)
        for step in stats:
            if step.start_time and step.end_time:
                durations[step.step_key] = round(durations.get(step.step_key, 0) + step.end_time - step.start_time, 1)
        run_stats = instance.get_run_stats(run.run_id)
        if run_stats.start_time and run_stats.end_time:
            durations["runs (start to end, all steps)"] = round(
                durations.get("runs (start to end, all steps)", 0) + run_stats.end_time - run_stats.start_time, 1)
    return durations


if __name__ == "__main__":
    main()
