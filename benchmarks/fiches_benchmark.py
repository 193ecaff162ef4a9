"""Benchmark: all the fiches of a year — every territory (France, 14 régions, 101 départements),
HTML + PDF + the SVG, PNG and CSV of every chart — through `trade-pipeline build`.

Reports the time of the two steps that make the fiches (`territory_charts`, `fiches`) with
their stages, the cost per fiche, and the whole build's wall time, from a fresh data directory.

    .venv/bin/python benchmarks/fiches_benchmark.py [--year 2024] [--out benchmarks/results/fiches.json]
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
CLI = str(Path(sys.executable).with_name("trade-pipeline"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fiches")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fiches.json")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    environment = {**os.environ, "TRADE_PIPELINE_DATA_DIR": str(args.work), "DAGSTER_HOME": str(args.work / "dagster"),
                   "TRADE_PIPELINE_SOURCE": "sample"}
    start = time.perf_counter()
    with open(HERE / "work" / "fiches-build.log", "w") as log:
        subprocess.run([CLI, "build", "--year", str(args.year)], env=environment, stdout=log, stderr=subprocess.STDOUT,
                       check=True)
    build_seconds = time.perf_counter() - start

    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(args.work / "dagster"))
    steps, stages = {}, {}
    for run in instance.get_runs():
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                steps[step.step_key] = round(steps.get(step.step_key, 0) + step.end_time - step.start_time, 1)
    for asset in ("territory_charts", "fiches"):
        record = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records[0]
        stages[asset] = {key.removeprefix("seconds_"): value.value
                         for key, value in record.asset_materialization.metadata.items() if key.startswith("seconds_")}
    year_dir = args.work / "fiches" / str(args.year)
    fiches = sorted(year_dir.glob("*.pdf"))
    files = [p for p in year_dir.rglob("*") if p.is_file()]
    fiche_seconds = steps.get("territory_charts", 0) + steps.get("fiches", 0) + steps.get("fiche_index", 0)
    result = {
        "benchmark": "all fiches of a year: HTML + PDF + SVG/PNG/CSV of every chart",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "year": args.year, "fiches": len(fiches), "files": len(files),
        "pictures": len([p for p in files if p.suffix in (".svg", ".png")]),
        "fiches_seconds": round(fiche_seconds, 1), "per_fiche_seconds": round(fiche_seconds / max(len(fiches), 1), 2),
        "whole_build_seconds": round(build_seconds, 1), "steps_seconds": steps, "stages_seconds": stages,
        "target_seconds": 300,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
