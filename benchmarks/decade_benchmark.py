"""Benchmark: a real user's first build — ten years at DGDDI scale, raw files to the published
store and then every year's fiches — side by side with its anchors in one run.

On the sample at `--scale 14` (≈ 2 million rows per flow and year) for 2015–2024, generated once
and cached:

1. **plain DuckDB** over the ten years (anchors.py: unzip, read, the same marts for each year),
   run before and after the builds below (the ratio takes the mean of both);
2. **growth**: `build --no-fiches` from an empty data directory of the last 1, 5 and 10 years
   (with the plain script over the same years), each with its peak memory and publication size;
3. **Parquet alone**: the ten-year store's tables written as Parquet only (one file per table
   and year, like the publication's parts), the anchor of the publication step;
4. **a new year**: the nine years before the last built from empty, then the last year's zips
   added and built: which partitions it materialized (the build's own record);
5. **every year's fiches**: `build` of the ten years on the ten-year store (charts with their
   pictures, 116 fiches a year, the index), against plotly.js drawing the last year's figures in
   open tabs (the year benchmark's anchor), scaled to the decade's number of figures;
6. **a one-year revision**: Hérault's exports of the last year re-issued and built: the disk
   the second publication adds beside the first (unchanged parts are hard links).

Each command runs in its own process; its wall time is measured from outside with the peak
memory of its whole process tree (year_benchmark.timed) and the machine's load before and after.
Results: `benchmarks/results/decade.json`, and the table between the `decade-benchmark` markers
of README.md.

    .venv/bin/python benchmarks/decade_benchmark.py [--scale 14] [--first 2015] [--last 2024]
        [--fiches-from benchmarks/results/decade.json]

`--fiches-from` takes phase 5 (every year's fiches and its plotly.js anchor, half the run's
time) from an earlier results file, named with its date in the results and the README, and
builds the revision of phase 6 with `--no-fiches` (the disk it measures is the publication's):
for a run after a change that touches neither the charts nor the fiches.
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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.anchors import compare, rows, year_figures  # noqa: E402
from benchmarks.year_benchmark import CLI, PYTHON, plain_duckdb, steps_since, timed  # noqa: E402
from tests.support import change_department_rows  # noqa: E402  (the tests' own revision helper)

GOALS = {"decade_over_plain_duckdb": 3.0, "peak_memory_gib": 2.5, "publication_gb": 1.0,
         "publication_over_parquet_alone": 3.0, "fiche_part_over_plotly_js": 1.3}
README_MARKERS = ("<!-- decade-benchmark -->", "<!-- /decade-benchmark -->")

#: Writes the tables of a publication's DuckDB file as Parquet only, one file per table and year.
PARQUET_ALONE = """
import sys, pathlib, duckdb
store, out = sys.argv[1], pathlib.Path(sys.argv[2])
with duckdb.connect(store, read_only=True) as connection:
    connection.execute("SET threads = 2")
    for (table,) in connection.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall():
        columns = [c for (c,) in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()]
        years = [None]
        if "year" in columns:
            years = [y for (y,) in connection.execute(f'SELECT DISTINCT year FROM "{table}"').fetchall()]
        for year in years:
            where = f"WHERE year = {year}" if year is not None else ""
            target = out / table / f"{year}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            connection.execute(f'COPY (SELECT * FROM "{table}" {where}) TO \\'{target}\\' (FORMAT parquet)')
"""


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measured_run(name: str, command: list[str], work: Path, environment: dict[str, str] | None = None) -> dict:
    before = load()
    result = timed(command, work / f"{name}.log", environment)
    result["load_before_after"] = [before, load()]
    return result


def build(name: str, source: Path, data: Path, work: Path, years: Sequence[int], *extra: str) -> dict:
    """`trade-pipeline build` of `years` on the data directory `data`."""
    since = time.time()
    environment = {"TRADE_PIPELINE_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    arguments = [argument for year in years for argument in ("--year", str(year))]
    result = measured_run(name, [CLI, "build", *arguments, "--source", str(source), *extra], work, environment)
    result["steps_seconds"] = steps_since(data / "dagster", since)
    result["materialized_by_year"] = materialized_by_year(data / "dagster", since)
    print(f"{name}: {result['wall_seconds']} s, {result['peak_memory_mib']} MiB", flush=True)
    return result


def materialized_by_year(dagster_home: Path, since: float) -> dict[str, dict[str, int]]:
    """Per asset, how many partitions of each year the runs started after `since` recomputed
    (a materialization whose metadata says `recomputed: false` only re-recorded its version)."""
    import dagster as dg

    from trade_pipeline.orchestration.partitions import parse_partition_key

    counts: dict[str, dict[str, int]] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for record in instance.get_run_records():
            if (record.start_time or 0) < since:
                continue
            for event in instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                materialization = event.asset_materialization
                recomputed = materialization.metadata.get("recomputed")
                if recomputed is not None and not recomputed.value:
                    continue
                partition = materialization.partition
                year = ("unpartitioned" if partition is None else partition if "|" not in partition
                        else str(parse_partition_key(partition)[0]))
                per_year = counts.setdefault(materialization.asset_key.to_user_string(), {})
                per_year[year] = per_year.get(year, 0) + 1
    return counts


def disk_bytes(*folders: Path) -> int:
    """Bytes allocated to the files under `folders`, each inode once (hard links shared)."""
    seen, total = set(), 0
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.is_dir() else [folder]:
            status = path.lstat()
            if path.is_file() and not path.is_symlink() and status.st_ino not in seen:
                seen.add(status.st_ino)
                total += status.st_blocks * 512
    return total


def publication_disk(data: Path) -> dict:
    """The current publication's size on disk, whole and by format (bytes)."""
    snapshot = (data / "published" / "current").resolve()
    return {"total": disk_bytes(snapshot), "duckdb": disk_bytes(snapshot / "trade.duckdb"),
            "parquet": disk_bytes(snapshot / "parquet"), "csv_gz": disk_bytes(snapshot / "csv")}


def gib(mib: float) -> float:
    return round(mib / 1024, 2)


def sample(work: Path, scale: float, years: Sequence[int]) -> Path:
    folder = work / f"decade-source-{scale:g}-{years[0]}-{years[-1]}"
    done = folder.with_name(folder.name + ".done")
    if not done.exists():
        print(f"generating the sample (scale {scale:g}, {years[0]}–{years[-1]}) in {folder} …", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        arguments = [argument for year in years for argument in ("--year", str(year))]
        subprocess.run([CLI, "sample", "--out", str(folder), *arguments, "--scale", str(scale)], check=True,
                       capture_output=True)
        done.touch()
    return folder


def linked_source(sample_dir: Path, target: Path, years: Sequence[int]) -> Path:
    """A source folder holding `years`' zips of the sample (links: nothing is copied)."""
    target.mkdir(parents=True, exist_ok=True)
    for year in years:
        for archive in sample_dir.glob(f"*-Regional-{year}-*.zip"):
            if not (target / archive.name).exists():
                (target / archive.name).symlink_to(archive)
    return target


def readme_table(result: dict) -> str:
    m, runs = result["measured"], result["runs"]
    lines = [f"Decade benchmark of {result['date'][:16].replace('T', ' ')} UTC (`benchmarks/decade_benchmark.py`, "
             f"sample `--scale {result['scale']:g}`, {result['machine']}; load average "
             f"{result['load_range'][0]}–{result['load_range'][1]} during the run):", "",
             "| years | rows (both flows) | `build --no-fiches` | plain DuckDB | ratio | peak memory | one publication |",
             "|---|---|---|---|---|---|---|"]
    for growth in result["growth"]:
        lines.append(f"| {growth['years']} | {growth['rows'] / 1e6:.1f} M | {growth['build_seconds']:.0f} s | "
                     f"{growth['plain_duckdb_seconds']:.0f} s | {growth['ratio']:.1f}× | {growth['peak_memory_gib']} GiB | "
                     f"{growth['publication_gb']} GB |")
    lines += ["", "| goal | measured | met? |", "|---|---|---|"]
    labels = {"decade_over_plain_duckdb": "ten years raw → published store ÷ plain DuckDB ≤ 3",
              "peak_memory_gib": "peak memory of the process tree ≤ 2.5 GiB (every run)",
              "publication_gb": "one publication of ten years ≤ 1 GB",
              "publication_over_parquet_alone": "publication step ÷ the same tables as Parquet alone ≤ 3",
              "fiche_part_over_plotly_js": f"{m['fiches']} fiches of the decade ÷ plotly.js (scaled) ≤ 1.3"
                                           + (f" (the fiche phase of the run of {result['fiches_measured_on'][:10]}, "
                                              f"peak {result['fiches_peak_memory_gib']} GiB)"
                                              if result.get("fiches_measured_on") else "")}
    for key, label in labels.items():
        lines.append(f"| {label} | {m[key]} | {'yes' if result['met'][key] else 'no'} |")
    new_year = result["new_year"]
    lines += ["", f"A new year on the store of the nine before: {runs['new_year']['wall_seconds']:.0f} s; it recomputed "
              f"partitions of {', '.join(new_year['years_recomputed']) or 'no year'} only"
              f"{'' if new_year['only_that_year'] else ' — and of other years'}. A one-year revision adds "
              f"{result['second_publication_adds_gb']} GB beside the first publication."]
    return "\n".join(lines)


def write_readme(readme: Path, table: str) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = README_MARKERS
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: the markers {start} … {end} are missing")
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{table}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=14.0, help="sample scale (14 ≈ 2.05 M rows per flow and year)")
    parser.add_argument("--first", type=int, default=2015)
    parser.add_argument("--last", type=int, default=2024)
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "decade.json")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose table is rewritten")
    parser.add_argument("--fiches-from", type=Path, help="an earlier results JSON whose fiche phase is reused")
    args = parser.parse_args()
    earlier = json.loads(args.fiches_from.read_text(encoding="utf-8")) if args.fiches_from else None
    work, years = args.work, list(range(args.first, args.last + 1))
    work.mkdir(parents=True, exist_ok=True)
    sample_dir = sample(work, args.scale, years)
    source = work / "decade-source"  # a copy: the revision at the end rewrites the last year's export zip
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(sample_dir, source)
    for folder in [*work.glob("build-*"), *work.glob("plain-*"), work / "source-9", work / "parquet-alone"]:
        shutil.rmtree(folder, ignore_errors=True)

    plain_before = plain_duckdb(source, work, years, "plain-10")
    growth, builds = [], {}
    for count in (1, 5, len(years)):
        span = years[-count:]
        plain = plain_duckdb(source, work, span, f"plain-{count}") if count != len(years) else plain_before
        builds[count] = build(f"build --no-fiches, {count} year(s)", source, work / f"build-{count}", work, span,
                              "--no-fiches")
        builds[count]["publication_bytes"] = publication_disk(work / f"build-{count}")
        growth.append({"years": count, "rows": sum(sum(rows(source, year).values()) for year in span),
                       "build_seconds": builds[count]["wall_seconds"], "plain_duckdb_seconds": plain["wall_seconds"],
                       "ratio": round(builds[count]["wall_seconds"] / plain["wall_seconds"], 2),
                       "peak_memory_gib": gib(builds[count]["peak_memory_mib"]),
                       "publication_gb": round(builds[count]["publication_bytes"]["total"] / 1e9, 2)})
    plain_after = plain_duckdb(source, work, years, "plain-10")
    decade_dir, decade = work / f"build-{len(years)}", builds[len(years)]
    plain_seconds = (plain_before["wall_seconds"] + plain_after["wall_seconds"]) / 2
    growth[-1]["plain_duckdb_seconds"] = round(plain_seconds, 1)
    growth[-1]["ratio"] = round(decade["wall_seconds"] / plain_seconds, 2)
    same_marts = compare(decade_dir / "published" / "trade.duckdb", work / "plain-10" / "marts.duckdb")

    parquet = measured_run("parquet alone", [PYTHON, "-c", PARQUET_ALONE,
                                             str(decade_dir / "published" / "current" / "trade.duckdb"),
                                             str(work / "parquet-alone")], work)
    publication_step = decade["steps_seconds"].get("published_store", 0.0)

    nine = linked_source(sample_dir, work / "source-9", years[:-1])
    builds["nine"] = build("build --no-fiches, the nine years before", nine, work / "build-9", work, years[:-1],
                           "--no-fiches")
    linked_source(sample_dir, nine, years[-1:])
    builds["new_year"] = build("a new year on the nine", nine, work / "build-9", work, years[-1:], "--no-fiches")
    recomputed_years = sorted({year for per_year in builds["new_year"]["materialized_by_year"].values()
                               for year in per_year if year.isdigit()})

    if earlier is None:
        builds["fiches"] = build("every year's fiches", source, decade_dir, work, years)
        fiches = sum(1 for year in years for _ in (decade_dir / "fiches" / str(year)).glob("*.pdf"))
        figures = {year: len(year_figures(decade_dir / "fiches" / str(year))) for year in years}
        anchor_out = work / "plotly-js"
        shutil.rmtree(anchor_out, ignore_errors=True)
        anchor = measured_run("plotly.js", [PYTHON, str(HERE / "anchors.py"), "plotly",
                                            str(decade_dir / "fiches" / str(years[-1])), str(anchor_out)], work)
        anchor.update(json.loads((work / "plotly.js.log").read_text().strip().splitlines()[-1]))
        anchor["scaled_to_the_decade_seconds"] = round(anchor["drawing_seconds"] * sum(figures.values())
                                                       / figures[years[-1]], 1)
        print(f"plotly.js: {anchor['drawing_seconds']} s for {anchor['figures']} figures", flush=True)
        fiches_measured_on = None
    else:  # the earlier run's fiche phase, said so
        builds["fiches"], anchor = earlier["runs"]["fiches"], earlier["runs"]["plotly_js"]
        fiches, figures = earlier["measured"]["fiches"], {int(y): n for y, n in earlier["figures_per_year"].items()}
        fiches_measured_on = earlier.get("fiches_measured_on") or earlier["date"]  # where it was measured

    history = decade_dir / "published" / "history"
    before_revision = disk_bytes(history)
    change_department_rows(next(source.glob(f"*-Regional-{years[-1]}-export.zip")), "34", 1_000_000)
    builds["revision"] = build("a one-year revision", source, decade_dir, work, years[-1:],
                               *(["--no-fiches"] if earlier is not None else []))
    second_adds = disk_bytes(history) - before_revision

    runs = {"plain_duckdb_before": plain_before, "plain_duckdb_after": plain_after, "parquet_alone": parquet,
            "plotly_js": anchor, **{(f"build_{key}_years" if isinstance(key, int) else key): value
                                    for key, value in builds.items()}}
    measured = {
        "decade_over_plain_duckdb": growth[-1]["ratio"],
        "peak_memory_gib": gib(max(run["peak_memory_mib"] for key, run in builds.items()
                                   if key != "fiches" or earlier is None)),
        "publication_gb": round(decade["publication_bytes"]["total"] / 1e9, 2),
        "publication_over_parquet_alone": round(publication_step / parquet["wall_seconds"], 2),
        "fiche_part_over_plotly_js": round(builds["fiches"]["wall_seconds"] / anchor["scaled_to_the_decade_seconds"], 2),
        "fiches": fiches,
    }
    loads = [value for name, run in runs.items() if earlier is None or name not in ("fiches", "plotly_js")
             for value in run.get("load_before_after", [])]
    result = {
        "benchmark": "ten years at DGDDI scale: raw files → published store → every year's fiches, with its anchors",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "years": [years[0], years[-1]], "scale": args.scale,
        "measured": measured, "goals": GOALS,
        "met": {key: measured[key] <= goal for key, goal in GOALS.items()},
        "growth": growth,
        "new_year": {"years_recomputed": recomputed_years, "only_that_year": recomputed_years == [str(years[-1])],
                     "materialized_by_year": builds["new_year"]["materialized_by_year"]},
        "publication_step_seconds": publication_step,
        "figures_per_year": figures,
        "fiches_measured_on": fiches_measured_on,
        "fiches_peak_memory_gib": gib(builds["fiches"]["peak_memory_mib"]),
        "second_publication_adds_gb": round(second_adds / 1e9, 3),
        "load_range": [min(loads), max(loads)],
        "same_marts_as_plain_duckdb": same_marts,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_readme(args.readme, readme_table(result))
    print(json.dumps({k: result[k] for k in ("measured", "goals", "met", "growth")}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
