"""Benchmark: refreshing a full-scale synthetic year after a revision of one département, against
the full refresh of that year — everything, through `trade-pipeline build`, pictures and PDFs on.

From a fresh data directory, on a synthetic year at DGDDI scale (`--scale 14` ≈ 2 million rows
per flow):

1. **full** — the first build of the year: every step, every territory, every fiche;
2. **identical** — the same files again: nothing downstream may be recomputed;
3. **one département** — the export file re-issued with Hérault's (34) rows revised: the marts
   and charts of Hérault, Occitanie and France, and the fiches that show changed figures.

Each build's wall time is measured from outside; the time of each Dagster step comes from the
instance's step statistics and the stages of the charts and fiches from their metadata.

    .venv/bin/python benchmarks/refresh_benchmark.py [--scale 14] [--out benchmarks/results/refresh.json]
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CLI = str(Path(sys.executable).with_name("trade-pipeline"))

from tests.support import change_department_rows  # noqa: E402  (the tests' own revision helper)

STAGED_ASSETS = ("territory_charts", "fiches")


def build(year: int, source: Path, environment: dict, log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as handle:
        subprocess.run([CLI, "build", "--year", str(year), "--source", str(source)], env=environment,
                       stdout=handle, stderr=subprocess.STDOUT, check=True)
    return round(time.perf_counter() - start, 1)


def steps_since(instance, since: float) -> dict:
    """Seconds per Dagster step, partitions recomputed and stages, for the runs started after `since`."""
    import dagster as dg

    steps: dict[str, float] = {}
    for run in instance.get_runs():
        if (instance.get_run_record_by_id(run.run_id).start_time or 0) < since:
            continue
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                steps[step.step_key] = round(steps.get(step.step_key, 0) + step.end_time - step.start_time, 1)
    stages, partitions = {}, {}
    for asset in ("territory_flows", "territory_marts", "territory_charts", "fiches"):
        records = [r for r in instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records
                   if r.timestamp >= since]
        partitions[asset] = len({r.partition_key for r in records})
        if asset in STAGED_ASSETS and records:
            latest = max(records, key=lambda r: r.storage_id).asset_materialization.metadata
            stages[asset] = {k.removeprefix("seconds_"): v.value for k, v in latest.items() if k.startswith("seconds_")}
            stages[asset].update({k: v.value for k, v in latest.items()
                                  if k in ("charts_rendered", "html_written", "pdf_printed")})
    return {"steps_seconds": steps, "partitions_recomputed": partitions, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--scale", type=float, default=14)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "refresh")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "refresh.json")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    source, data = args.work / "source", args.work / "data"
    environment = {**os.environ, "TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    subprocess.run([CLI, "sample", "--out", str(source), "--year", str(args.year), "--scale", str(args.scale)],
                   env=environment, check=True, stdout=subprocess.DEVNULL)

    import dagster as dg

    results = {}
    for name in ("full", "identical", "one_department"):
        if name == "one_department":
            change_department_rows(next(source.glob(f"*-Regional-{args.year}-export.zip")), "34", 1_000_000)
        since = time.time()
        seconds = build(args.year, source, environment, args.work / f"{name}.log")
        instance = dg.DagsterInstance.from_config(str(data / "dagster"))
        results[name] = {"wall_seconds": seconds, **steps_since(instance, since)}
        print(f"{name}: {seconds} s", flush=True)

    ratio = results["one_department"]["wall_seconds"] / results["full"]["wall_seconds"]
    result = {
        "benchmark": "refresh of a year after one département's revision vs the full refresh",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "year": args.year, "scale": args.scale, **results,
        "one_department_over_full": round(ratio, 3), "target_ratio": 0.25,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
