"""Command line: `trade-pipeline build | sample | dev | instance | publications | export`.

Exit codes: 0 done; 1 a run failed (the message says which file, line, column or check); 2 the
command or a setting is not usable (one `error:` line naming it and what is allowed); 3 another
build holds the data directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from trade_pipeline.settings import (
    SAMPLE_LATEST_VINTAGES,
    SAMPLE_YEARS,
    SettingsError,
    check_years,
    get_settings,
    prepare_data_dir,
)

USAGE_ERROR = 2
BUSY = 3


def _years(values: list[int] | None, default: list[int]) -> list[int]:
    return sorted(set(values)) if values else default


def cmd_build(args: argparse.Namespace) -> int:
    from trade_pipeline.ingestion.sources import YearNotInSource, check_year_in_source
    from trade_pipeline.lib.territories import department_scope
    from trade_pipeline.lib.warehouse import PipelineBusy
    from trade_pipeline.orchestration.build import BuildFailed, build

    settings = get_settings()
    if args.source is not None:
        settings = settings.with_source(args.source, name="--source")
    years = check_years(_years(args.year, [max(SAMPLE_YEARS)] if settings.is_sample else []))
    if not years:
        raise SettingsError(f"--year: give at least one year for the source {settings.source}")
    if args.departments:
        try:
            department_scope(args.departments)
        except ValueError as error:
            raise SettingsError(f"--departement: {error}") from None
    for year in years:  # a year the source does not have: one line now, not a run that fetches nothing
        try:
            check_year_in_source(settings, year)
        except YearNotInSource as absent:
            raise SettingsError(f"--year {year}: {absent}") from None
    prepare_data_dir(settings.data_dir)
    try:
        build(years, settings, departments=args.departments, fiches=not args.no_fiches, accept=args.accept_change,
              verbose=args.verbose)
    except BuildFailed as failure:
        print(f"\nerror: the build failed — {failure}", file=sys.stderr)
        if failure.published is not None:
            print(f"The store was published before the failure: {failure.published.label()}, now current in "
                  f"{settings.published_dir} (consumers read it).", file=sys.stderr)
        else:
            print("Nothing already published was changed.", file=sys.stderr)
        if failure.not_made:
            print(f"Not made by this build: {', '.join(failure.not_made)} — the fiches still show what their last "
                  "build drew. Fix the cause, then build again: it does what is left.", file=sys.stderr)
        print(f"Details: trade-pipeline build --verbose, or the run logs in the UI (trade-pipeline dev; instance "
              f"{settings.dagster_home})", file=sys.stderr)
        return 1
    except PipelineBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return BUSY
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from trade_pipeline.ingestion.sample import write_latest_sample, write_sample
    from trade_pipeline.lib.provenance import SYNTHETIC_LABEL

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SettingsError(f"--out {out}: is a file, not a directory")
    written = []
    for year in _years(args.year, [] if args.latest else list(SAMPLE_YEARS)):
        written += write_sample(out, year, scale=args.scale, as_text=args.txt)
    for vintage in args.latest or []:
        written += write_latest_sample(out, vintage, scale=args.scale)
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(f"{SYNTHETIC_LABEL}: synthetic rows in the exact DGDDI format")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from trade_pipeline.orchestration.instance import prepare_dagster_home

    settings = get_settings()
    prepare_data_dir(settings.data_dir)
    home = prepare_dagster_home(settings)
    root = Path(__file__).resolve().parent.parent
    workspace = root / "workspace.yaml"
    # `python -m dagster`, with this interpreter: works without the virtualenv on PATH.
    command = [sys.executable, "-m", "dagster", "dev", "-h", args.host, "-p", str(args.port)]
    command += ["-w", str(workspace)] if workspace.exists() else ["-m", "trade_pipeline.definitions"]
    print(f"DAGSTER_HOME={home}  →  http://{args.host}:{args.port}")
    # The environment of the Dagster processes this command becomes: the instance, the data directory.
    environment = {**os.environ, "DAGSTER_HOME": str(home), "TRADE_PIPELINE_DATA_DIR": str(settings.data_dir),
                   "DAGSTER_DISABLE_TELEMETRY": os.environ.get("DAGSTER_DISABLE_TELEMETRY", "1")}
    # From the instance's own folder: Dagster warns at every start that a dagster.yaml in the
    # current folder (the repository's, for `dagster dev` by hand) « will not be used ».
    os.chdir(home)
    os.execve(sys.executable, command, environment)
    return 0  # not reached


def cmd_instance(args: argparse.Namespace) -> int:
    """Write the data directory's Dagster instance (SQLite, or PostgreSQL when
    TRADE_PIPELINE_DAGSTER_PG_URL is set) for services started on their own (docs/production.md)."""
    from trade_pipeline.orchestration.instance import open_instance, prepare_dagster_home

    settings = get_settings()
    prepare_data_dir(settings.data_dir)
    home = prepare_dagster_home(settings)
    open_instance(settings).dispose()  # PostgreSQL reachable, its tables created
    storage = "PostgreSQL ($TRADE_PIPELINE_DAGSTER_PG_URL)" if settings.dagster_pg_url else f"SQLite under {home}"
    print(f"wrote {home / 'dagster.yaml'}: runs, events and schedules in {storage}", file=sys.stderr)
    print(f"export DAGSTER_HOME={home}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """What the daemon would recompute now, without running it (nor recording anything)."""
    from trade_pipeline.definitions import defs
    from trade_pipeline.orchestration import refresh, rounds
    from trade_pipeline.orchestration.instance import open_instance, prepare_dagster_home
    from trade_pipeline.orchestration.sensors import daemon_plan, left_out_words

    settings = get_settings()
    prepare_data_dir(settings.data_dir)
    prepare_dagster_home(settings)
    repository = defs.get_repository_def()
    with open_instance(settings) as instance:
        if refresh.load_cursor(instance) is None:
            print("Nothing to recompute: no build nor daemon has evaluated this data directory yet "
                  "(`trade-pipeline build` fetches and builds).")
            return 0
        evaluation, lost = rounds.evaluate_pending(repository, instance)
        planned = daemon_plan(evaluation, repository, instance, settings)
        years = refresh.automated_years(settings.fiche_years, refresh.stored_years(instance),
                                        refresh.years_built(settings.fiches_dir))
    if lost is not None:
        words = lost.words()
        print(f"{words[:1].upper()}{words[1:]}: the sensor's next tick (or a build) requests its work again, "
              "counted below.")
    print(f"Charts and fiches kept current by the daemon for: {', '.join(map(str, sorted(years))) or 'no year'} "
          f"(TRADE_PIPELINE_FICHE_YEARS={settings.fiche_years}).")
    if not planned.runs:
        print("Nothing to recompute now" + left_out_words(planned.left_out) + ".")
        return 0
    print(f"The daemon (or a build) would run now, in this order ({len(planned.runs)} run(s)):")
    for run in planned.runs:
        print(f"  {run.label}")
    if planned.held_back:
        print("then, once those are done: " + ", ".join(key.to_user_string() for key in planned.held_back))
    if planned.left_out:
        words = left_out_words(planned.left_out).removeprefix("; ")
        print(words[:1].upper() + words[1:] + ".")
    return 0


def cmd_publications(args: argparse.Namespace) -> int:
    from trade_pipeline.lib.provenance import cited_publications
    from trade_pipeline.publication.history import current_publication, publications

    settings = get_settings()
    kept = publications(settings.published_dir)
    if not kept:
        print(f"no publication in {settings.published_dir} yet (trade-pipeline build publishes)")
        return 0
    current = current_publication(settings.published_dir)
    cited = cited_publications(settings.fiches_dir)
    print(f"{len(kept)} publication(s) in {settings.published_dir / 'history'} (kept: {settings.publications_kept}, "
          "TRADE_PIPELINE_PUBLICATIONS_KEPT, and those the fiches cite), the newest first:")
    print(f"  {'publication':<24} {'published at (UTC)':<30} {'checksum':<13} {'years':<12} raw versions")
    for publication in kept:
        years = f"{min(publication.years)}–{max(publication.years)}" if publication.years else "none"
        raw = ", ".join(f"{y}:{v[:10]}" for y, v in sorted(publication.raw_versions.items()))
        marks = (["current"] if current and publication.id == current.id else []) + (
            ["cited by the fiches"] if publication.id in cited else []) + (
            [f"same content as {publication.same_content_as}"] if publication.same_content_as else [])
        print(f"  {publication.id:<24} {publication.published_at:<30} {publication.checksum[:12]:<13} "
              f"{years:<12} {raw}{'  ← ' + '; '.join(marks) if marks else ''}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from trade_pipeline.publication.export import default_name, export_table, export_target
    from trade_pipeline.publication.history import find_publication

    settings = get_settings()
    publication = find_publication(settings.published_dir, args.publication)
    years = sorted(set(args.year or []))
    out = export_target(args.out, default_name(args.table, years, args.format), settings.data_dir)
    exported = export_table(publication, args.table, years, args.format, out)
    print(f"wrote {exported.path}: {exported.rows:,} rows of {args.table} from publication {publication.id}")
    return 0


def _scale(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{text}: a factor > 0 and ≤ 100 is expected")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="trade-pipeline", description="French territorial foreign-trade statistics (DGDDI).")
    commands = main.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="fetch some years, then recompute what changed, through Dagster")
    build.add_argument("--year", type=int, action="append", help="year to build (repeatable; default: latest sample year)")
    build.add_argument("--departement", action="append", dest="departments", metavar="CODE",
                       help="restrict territory outputs to these DGDDI département codes")
    build.add_argument("--source", help="sample | dgddi | a directory or zip | an http(s) URL of a zip "
                                        "(default: TRADE_PIPELINE_SOURCE)")
    build.add_argument("--no-fiches", action="store_true", help="stop at the published store: no charts, no fiches")
    build.add_argument("--accept-change", action="store_true",
                       help="accept a year whose totals differ widely from the stored vintage or the year before")
    build.add_argument("--verbose", action="store_true", help="print Dagster's own log, stack traces included")
    build.set_defaults(handler=cmd_build)

    sample = commands.add_parser("sample", help="write the synthetic sample (DGDDI format) to a directory")
    sample.add_argument("--out", required=True, help="output directory")
    sample.add_argument("--year", type=int, action="append", choices=SAMPLE_YEARS,
                        help="year (repeatable; default: all — none when --latest is given)")
    sample.add_argument("--scale", type=_scale, default=1.0,
                        help="rows multiplier (1 ≈ 147 000 rows per flow; 14 ≈ 2 million)")
    sample.add_argument("--txt", action="store_true", help="write the .txt files and labels instead of zips")
    sample.add_argument("--latest", action="append", choices=SAMPLE_LATEST_VINTAGES,
                        help="also write this synthetic latest publication (« dernière publication », repeatable): "
                             "its two zips, named with its month")
    sample.set_defaults(handler=cmd_sample)

    dev = commands.add_parser("dev", help="start the Dagster UI and daemon on this data directory")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=cmd_dev)

    instance = commands.add_parser("instance", help="write the Dagster instance of the data directory and print "
                                                    "its DAGSTER_HOME (for the production services)")
    instance.set_defaults(handler=cmd_instance)

    plan = commands.add_parser("plan", help="print what the daemon would recompute now (charts and fiches of "
                                            "TRADE_PIPELINE_FICHE_YEARS), without running it")
    plan.set_defaults(handler=cmd_plan)

    listing = commands.add_parser("publications", help="list the kept publications (published/history/)")
    listing.set_defaults(handler=cmd_publications)

    export = commands.add_parser("export", help="write a table of a publication (some years of it) as CSV, "
                                                "Parquet or XLSX")
    export.add_argument("--table", required=True, help="a published table: trade_flows, territory_totals, …")
    export.add_argument("--year", type=int, action="append", help="only this year (repeatable; default: all)")
    export.add_argument("--format", required=True, choices=("csv", "parquet", "xlsx"))
    export.add_argument("--publication", help="a publication id from `trade-pipeline publications` (default: current)")
    export.add_argument("--out", help="output file, or directory (an existing one, or a path ending in /) to write "
                                      "<table>-<years>.<format> in (default: here); never inside the data directory")
    export.set_defaults(handler=cmd_export)
    return main


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    from dagster import BetaWarning, PreviewWarning

    # Beta APIs we rely on on purpose (partition mappings, backfill policies, data versions).
    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
