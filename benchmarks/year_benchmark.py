"""Benchmark: a whole full-scale synthetic year, raw files to 116 printed fiches, measured side by
side with its anchors in one run (the machines are noisy: ratios, not seconds, are the goals).

On one sample at DGDDI scale (`--scale 14` ≈ 2 million rows per flow; generated once, cached):

1. **plain DuckDB** — the anchor of the marts: one script, the same marts (anchors.py), run
   before and after the marts build (the mean of both);
2. **marts** — `trade-pipeline build --no-fiches` from an empty data directory (raw store,
   pandera contract, Great Expectations checks, warehouse, slices, marts, publication);
3. **full** — `trade-pipeline build` from an empty data directory: the above, then every
   chart (SVG + PNG + CSV) and every fiche (HTML + PDF);
4. **plotly.js** — the anchor of the pictures: plotly.js drawing the year's figures (SVG + PNG)
   in two open tabs (anchors.py), fed from the full build's chart folders;
5. **identical** — the full build again on the same files (nothing may be recomputed);
6. **one département** — the export zip re-issued with Hérault's rows revised.

Each command runs in its own process, its wall time measured from outside, with the peak
memory of its whole process tree (Python and Chromium: the sum of their proportional set sizes,
sampled every 0.2 s). Step times come from the Dagster instance's step statistics.

    .venv/bin/python benchmarks/year_benchmark.py [--scale 14] [--out benchmarks/results/year.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.anchors import PLAIN_RUNNER, YEAR, compare, plain_sql_script, rows  # noqa: E402
from tests.support import change_department_rows  # noqa: E402  (the tests' own revision helper)

PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("trade-pipeline"))
GOALS = {"marts_over_plain_duckdb": 2.0, "territory_charts_seconds": 60, "fiches_seconds": 20,
         "full_build_seconds": 120, "fiche_part_over_plotly_js": 1.5, "one_department_over_full": 0.20,
         "peak_memory_gib": 2.0}


def _tree(root: int) -> list[int]:
    """The process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def _memory_kib(pid: int) -> int:
    """Proportional set size (shared pages split between the processes that share them)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run a command: wall seconds, and the peak memory of its process tree (MiB)."""
    with open(log, "w") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=output,
                                   stderr=subprocess.STDOUT)
        peak = [0]

        def sample() -> None:
            while process.poll() is None:
                peak[0] = max(peak[0], sum(_memory_kib(pid) for pid in _tree(process.pid)))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - start
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed (exit {process.returncode}); see {log}")
    return {"wall_seconds": round(seconds, 1), "peak_memory_mib": round(peak[0] / 1024)}


def steps_since(dagster_home: Path, since: float) -> dict[str, float]:
    """Seconds per Dagster step (an asset), summed over the runs started after `since`."""
    import dagster as dg

    steps: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for record in instance.get_run_records():
            if (record.start_time or 0) < since:
                continue
            for step in instance.get_run_step_stats(record.dagster_run.run_id):
                if step.start_time and step.end_time:
                    steps[step.step_key] = round(steps.get(step.step_key, 0) + step.end_time - step.start_time, 1)
    return steps


def build(name: str, source: Path, data: Path, work: Path, *extra: str) -> dict:
    since = time.time()
    environment = {"TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    result = timed([CLI, "build", "--year", str(YEAR), "--source", str(source), *extra], work / f"{name}.log",
                   environment)
    result["steps_seconds"] = steps_since(data / "dagster", since)
    print(f"{name}: {result['wall_seconds']} s", flush=True)
    return result


def plain_duckdb(source: Path, work: Path, years: Sequence[int] = (YEAR,), name: str = "plain-duckdb") -> dict:
    """The plain DuckDB script over `years` of `source`'s zips (unzipping included)."""
    plain = work / name
    shutil.rmtree(plain, ignore_errors=True)
    plain.mkdir(parents=True)
    for year in years:
        for archive in source.glob(f"*-Regional-{year}-*.zip"):
            shutil.copy(archive, plain / archive.name)
    script = plain / "marts.sql"
    script.write_text(plain_sql_script(plain / "unzipped", plain / "marts.duckdb", years), encoding="utf-8")
    result = timed([PYTHON, "-c", PLAIN_RUNNER, str(plain), str(plain / "marts.duckdb"), str(script)],
                   work / f"{name}.log")
    print(f"plain DuckDB ({len(years)} year(s)): {result['wall_seconds']} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=14.0, help="sample scale (14 ≈ 2.05 M rows per flow)")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "year.json")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)

    sample = work / f"source-{args.scale:g}"
    if not sample.exists():
        print(f"generating the sample (scale {args.scale:g}) in {sample} …", flush=True)
        subprocess.run([CLI, "sample", "--out", str(sample), "--year", str(YEAR), "--scale", str(args.scale)],
                       check=True, capture_output=True)
    source = work / "source"  # a copy: the revision below rewrites it
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(sample, source)

    # The plain script runs before and after the marts build, and the ratio takes the mean of
    # both: this machine's speed drifts within minutes (the script alone: 3.9–7.7 s in one day).
    plain_before = plain_duckdb(source, work)
    marts_dir, full_dir = work / "marts-build", work / "full-build"
    for directory in (marts_dir, full_dir):
        shutil.rmtree(directory, ignore_errors=True)
    marts = build("marts (--no-fiches)", source, marts_dir, work, "--no-fiches")
    plain_after = plain_duckdb(source, work)
    plain = {"wall_seconds": round((plain_before["wall_seconds"] + plain_after["wall_seconds"]) / 2, 2),
             "peak_memory_mib": max(plain_before["peak_memory_mib"], plain_after["peak_memory_mib"]),
             "before_and_after_seconds": [plain_before["wall_seconds"], plain_after["wall_seconds"]]}
    same_marts = compare(marts_dir / "published" / "trade.duckdb", work / "plain-duckdb" / "marts.duckdb")
    full = build("full", source, full_dir, work)

    anchor_out = work / "plotly-js"
    shutil.rmtree(anchor_out, ignore_errors=True)
    anchor = timed([PYTHON, str(HERE / "anchors.py"), "plotly", str(full_dir / "fiches" / str(YEAR)), str(anchor_out)],
                   work / "plotly-js.log")
    anchor.update(json.loads((work / "plotly-js.log").read_text().strip().splitlines()[-1]))
    print(f"plotly.js: {anchor['drawing_seconds']} s drawing ({anchor['wall_seconds']} s with start-up)", flush=True)

    identical = build("identical", source, full_dir, work)
    change_department_rows(next(source.glob(f"*-Regional-{YEAR}-export.zip")), "34", 1_000_000)
    one_department = build("one département", source, full_dir, work)

    fiche_part = full["wall_seconds"] - marts["wall_seconds"]
    measured = {
        "marts_over_plain_duckdb": round(marts["wall_seconds"] / plain["wall_seconds"], 2),
        "territory_charts_seconds": full["steps_seconds"].get("territory_charts"),
        "fiches_seconds": full["steps_seconds"].get("fiches"),
        "full_build_seconds": full["wall_seconds"],
        "fiche_part_over_plotly_js": round(fiche_part / anchor["drawing_seconds"], 2),
        "one_department_over_full": round(one_department["wall_seconds"] / full["wall_seconds"], 3),
        "peak_memory_gib": round(max(r["peak_memory_mib"] for r in (marts, full, identical, one_department)) / 1024, 2),
    }
    result = {
        "benchmark": "a whole full-scale synthetic year: raw files → 116 printed fiches, with its anchors",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "year": YEAR, "scale": args.scale, "rows_per_flow": rows(source),
        "measured": measured, "goals": GOALS,
        "met": {key: measured[key] is not None and measured[key] <= goal for key, goal in GOALS.items()},
        "fiche_part_seconds": round(fiche_part, 1),
        "runs": {"plain_duckdb": plain, "marts_no_fiches": marts, "full": full, "plotly_js": anchor,
                 "identical": identical, "one_department": one_department},
        "same_marts_as_plain_duckdb": same_marts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("measured", "goals", "met")}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
