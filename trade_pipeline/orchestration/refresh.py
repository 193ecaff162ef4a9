"""What is recomputed, and in which runs — decided here for `trade-pipeline build` and for the
daemon's `trade_automation` sensor alike.

The decision is Dagster's declarative automation: each asset's condition (conditions.py) says
when it must be recomputed — a parent's *data version* changed. `evaluate` evaluates them from
one cursor, kept in the Dagster instance, so that the CLI and the daemon agree on « since the
last evaluation »; `plan` turns what they request into runs, in dependency order, a year of
territories per run. Whoever evaluates holds the pipeline lock (a CLI build for its whole
duration, the sensor for its tick — skipped while a build holds it): one evaluation at a time,
and what one requested, the other finds handled or in progress. Nothing is requested twice.

    trade-pipeline build ─┐                         ┌─ runs in process (CLI)
                          ├─ lock ─ evaluate ─ plan ┤
    trade_automation ─────┘   (one cursor)          └─ RunRequests → run queue (daemon)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from trade_pipeline.orchestration import dagster_internals
from trade_pipeline.orchestration.partitions import (
    parse_partition_key,
    partition_key,
    territory_partitions,
    year_partitions,
    years_of,
)

if TYPE_CHECKING:
    from trade_pipeline.orchestration.dagster_internals import AssetDaemonCursor, AssetGraph, AssetJob

#: Where the cursor lives in the Dagster instance (its key-value store).
CURSOR_KEY = "trade_pipeline/automation_cursor"

#: The tags that say what a run covers, in the runs list of the UI.
RUN_ASSETS_TAG, RUN_YEAR_TAG, RUN_TERRITORIES_TAG = "assets", "year", "territories"

#: One job per partitioning of the graph (a Dagster job has one): the runs go through them.
JOB_NAMES = {"year": "yearly_assets", "year_territory": "territory_assets", None: "unpartitioned_assets"}


def job_name(partitions_def: dg.PartitionsDefinition | None) -> str:
    if partitions_def is None:
        return JOB_NAMES[None]
    return JOB_NAMES["year" if partitions_def == year_partitions else "year_territory"]


def jobs_for(assets: Sequence[dg.AssetsDefinition]) -> list[AssetJob]:
    """The graph's jobs, one per partitioning, each selecting the assets partitioned that way."""
    by_job: dict[str, list[dg.AssetKey]] = {}
    for definition in assets:
        by_job.setdefault(job_name(definition.partitions_def), []).extend(definition.keys)
    return [dg.define_asset_job(name, selection=dg.AssetSelection.assets(*keys),
                                description="The runs that trade-pipeline build and the trade_automation sensor plan "
                                            "(orchestration/refresh.py).")
            for name, keys in by_job.items()]

Requested = dict[dg.AssetKey, set[str | None]]


@dataclass(frozen=True)
class Run:
    """Assets over one partition (a year, or a territory and year), one contiguous range of a
    year's territories, or no partition (the store and the index)."""

    assets: tuple[dg.AssetKey, ...]
    year: int | None = None
    territories: tuple[str, ...] = ()  # consecutive territory keys (partition order)

    @property
    def job_name(self) -> str:
        if self.territories:
            return JOB_NAMES["year_territory"]
        return JOB_NAMES["year"] if self.year is not None else JOB_NAMES[None]

    @property
    def partition_key(self) -> str | None:
        if self.territories:
            return str(partition_key(self.year, self.territories[0])) if len(self.territories) == 1 else None
        return str(self.year) if self.year is not None else None

    @property
    def tags(self) -> dict[str, str]:
        """What the run covers, in words the runs list of the UI shows (assets, year, territories),
        and the range tags Dagster gives a run over several partitions (single-run backfills)."""
        readable = {RUN_ASSETS_TAG: ", ".join(key.to_user_string() for key in self.assets)}
        if self.year is not None:
            readable[RUN_YEAR_TAG] = str(self.year)
        if self.territories:
            readable[RUN_TERRITORIES_TAG] = (self.territories[0] if len(self.territories) == 1 else
                                             f"{self.territories[0]} … {self.territories[-1]} ({len(self.territories)})")
        if len(self.territories) > 1:
            return {**readable, **dagster_internals.partition_range_tags(
                str(partition_key(self.year, self.territories[0])), str(partition_key(self.year, self.territories[-1])))}
        return readable

    @property
    def partitions(self) -> set[str | None]:
        if self.territories:
            return {str(partition_key(self.year, t)) for t in self.territories}
        return {self.partition_key}

    @property
    def label(self) -> str:
        assets = ", ".join(key.to_user_string() for key in self.assets)
        if len(self.territories) > 1:
            return f"{self.year}: {assets} — {self.territories[0]} … {self.territories[-1]}"
        if self.territories:
            return f"{self.year}: {assets} — {self.territories[0]}"
        return f"{self.year}: {assets}" if self.year is not None else assets

    def run_request(self, tags: Mapping[str, str]) -> dg.RunRequest:
        return dg.RunRequest(job_name=self.job_name, asset_selection=list(self.assets),
                             partition_key=self.partition_key, tags={**self.tags, **tags})


@dataclass(frozen=True)
class Evaluation:
    """What the conditions request now, and the cursor that records this evaluation."""

    requested: Requested
    cursor: AssetDaemonCursor
    previous: AssetDaemonCursor | None


def load_cursor(instance: dg.DagsterInstance) -> AssetDaemonCursor | None:
    return dagster_internals.load_cursor(instance, CURSOR_KEY)


def save_cursor(instance: dg.DagsterInstance, cursor: AssetDaemonCursor) -> None:
    dagster_internals.save_cursor(instance, CURSOR_KEY, cursor)


@contextmanager
def _quiet_dagster() -> Iterator[None]:
    """The evaluation logs internals (timestamp fallbacks…) at INFO."""
    logger = logging.getLogger("dagster")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def evaluate(repository: dg.RepositoryDefinition, instance: dg.DagsterInstance,
             only: Set[dg.AssetKey] | None = None, from_cursor: str | None = None) -> Evaluation:
    """Evaluate the automation conditions from the instance's cursor (without saving it).

    `only` evaluates the sub-graph of these assets (it must hold their parents): the others'
    cursors are carried forward unchanged, so what they would request stays to do.
    `from_cursor` evaluates from another cursor, as stored ("" for none): `rounds.evaluate_pending`.
    """
    previous = load_cursor(instance) if from_cursor is None else dagster_internals.parse_cursor(from_cursor)
    assets = list({id(a): a for a in repository.assets_defs_by_key.values()}.values())
    if only is not None:
        assets = [a for a in assets if a.keys <= only]
    with _quiet_dagster():
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=previous)
    requested: Requested = {}
    for item in result.results:
        if isinstance(item.key, dg.AssetKey) and item.true_subset.size:
            requested[item.key] = {p.partition_key for p in item.true_subset.expensively_compute_asset_partitions()}
    return Evaluation(requested, result.cursor, previous)


def prime(repository: dg.RepositoryDefinition, instance: dg.DagsterInstance) -> bool:
    """Record a first evaluation if there is none: the baseline « since » is then now.

    A first evaluation requests nothing (Dagster: nothing has changed *since* a previous one);
    the CLI primes before it fetches, so the fetched files are a change.
    """
    if load_cursor(instance) is not None:
        return False
    save_cursor(instance, evaluate(repository, instance).cursor)
    return True


#: The charts and fiches: made for the years a build is asked for, or the daemon's `automated_years`.
PICTURE_ASSETS = frozenset({dg.AssetKey("territory_charts"), dg.AssetKey("fiches")})


def automated_years(spec: str, stored: Iterable[int], built: Iterable[int]) -> set[int]:
    """The years whose charts and fiches the daemon keeps current (TRADE_PIPELINE_FICHE_YEARS):
    `built` — those with fiches already (a `--no-fiches` year stays so until a build asks for
    it) —, `latest` (the latest year stored: a new year gets its fiches by itself), both
    (`built+latest`, the default), `all`, or the years listed."""
    stored, built = set(stored), set(built)
    if spec == "all":
        return stored
    if spec in ("built", "latest", "built+latest"):
        years = built if "built" in spec else set()
        return years | ({max(stored)} if "latest" in spec and stored else set())
    return {int(part) for part in spec.split(",")}


def years_built(fiches_dir: Path) -> set[int]:
    """The years with at least one fiche written."""
    if not fiches_dir.is_dir():
        return set()
    return {int(folder.name) for folder in fiches_dir.iterdir() if folder.name.isdigit() and folder.is_dir()
            and any(page.stem != "index" for page in folder.glob("[!.]*.html"))}


def stored_years(instance: dg.DagsterInstance) -> set[int]:
    """The years whose rows are in the warehouse (trade_flows materialized): from the instance,
    without opening the warehouse a run may be writing."""
    return {int(year) for year in instance.get_materialized_partitions(dg.AssetKey("trade_flows"))}


def upstream_of(asset_graph: AssetGraph, keys: Set[dg.AssetKey]) -> set[dg.AssetKey]:
    """These assets and all their ancestors."""
    result, todo = set(), list(keys)
    while todo:
        key = todo.pop()
        if key not in result:
            result.add(key)
            todo += list(asset_graph.get(key).parent_keys)
    return result


@dataclass(frozen=True)
class Plan:
    """The runs of one round, in dependency order; what `scope` or `years` left out (for a later
    build or the daemon); and what waits for the next round (`held_back`)."""

    runs: list[Run]
    left_out: Requested
    held_back: Requested

    @property
    def not_run(self) -> Requested:
        """Everything requested that this round does not run: not recorded as requested."""
        merged: Requested = {key: set(keys) for key, keys in self.left_out.items()}
        for key, keys in self.held_back.items():
            merged.setdefault(key, set()).update(keys)
        return merged


def plan(requested: Requested, asset_graph: AssetGraph, scope: Set[str] | None = None,
         years: Set[int] | None = None, years_restrict: Set[dg.AssetKey] = frozenset()) -> Plan:
    """Runs for the requested partitions, in dependency order.

    A year-level asset runs once per year; a territory asset once per year and contiguous range
    of territories (one run for all of them), alone in its run (orchestration/partition_versions.py); an
    unpartitioned asset in its place in the graph (the fiches name the publication made before
    them), with the unpartitioned assets next to it. `scope` restricts the territories (`--departement`);
    `years` restricts the partitions of the assets `years_restrict` (a build makes the charts and
    fiches of the years asked for; the others stay requested for the next build or the daemon).

    An asset is held back to the next round when an asset upstream of it runs in this round and
    something between the two does not (`_held_back`): what that run changes there is only known
    after it — the store would otherwise publish new rows beside the marts they are about to change.
    """
    left_out: Requested = {}
    running: Requested = {}
    for key, keys in requested.items():
        partitions_def = asset_graph.get(key).partitions_def
        for partition in keys:
            if partitions_def is not None and partitions_def != year_partitions:
                year, territory = parse_partition_key(partition)
                if (scope is not None and territory not in scope) or (
                        years is not None and key in years_restrict and year not in years):
                    left_out.setdefault(key, set()).add(partition)
                    continue
            running.setdefault(key, set()).add(partition)
    held = _held_back(set(running), asset_graph)
    held_back = {key: running.pop(key) for key in held}
    runs: list[Run] = []
    order = {key: position for position, key in enumerate(territory_partitions.get_partition_keys())}
    for key in asset_graph.toposorted_asset_keys:
        keys = running.get(key)
        if not keys:
            continue
        partitions_def = asset_graph.get(key).partitions_def
        if partitions_def is None:
            if runs and runs[-1].year is None:  # the previous run is of unpartitioned assets too
                runs[-1] = Run((*runs[-1].assets, key))
            else:
                runs.append(Run((key,)))
        elif partitions_def == year_partitions:
            runs += [Run((key,), int(year)) for year in sorted(keys)]
        else:
            for year, territories in sorted(years_of(keys).items()):
                runs += [Run((key,), year, span) for span in _contiguous(sorted(territories, key=order.__getitem__), order)]
    return Plan(runs, left_out, held_back)


def _held_back(running: set[dg.AssetKey], asset_graph: AssetGraph) -> set[dg.AssetKey]:
    """The running assets to hold back: those with a running ancestor one of whose children on
    the way to them does not run (it may be triggered by that ancestor's run, next round)."""
    held: set[dg.AssetKey] = set()
    changed = True
    while changed:  # holding one back may leave its own descendants waiting on it
        changed = False
        for key in running - held:
            above = upstream_of(asset_graph, {key}) - {key}
            for ancestor in (running - held) & above:
                if any(child in above | {key} and (child not in running or child in held)
                       for child in asset_graph.get(ancestor).child_keys):
                    held.add(key)
                    changed = True
                    break
    return held


def _contiguous(territories: list[str], order: Mapping[str, int]) -> list[tuple[str, ...]]:
    spans: list[list[str]] = []
    for territory in territories:
        if spans and order[territory] == order[spans[-1][-1]] + 1:
            spans[-1].append(territory)
        else:
            spans.append([territory])
    return [tuple(span) for span in spans]


def advance(evaluation: Evaluation, not_run: Requested) -> AssetDaemonCursor:
    """The cursor to save once the planned runs succeeded, with the partitions this round did
    not run (`Plan.not_run`: left out by `--departement` or `--year`, or held back) not recorded
    as requested: the next evaluation finds them still triggered and not handled, and requests
    them again.

    Everything else moves on with the evaluation. (Keeping such an asset's whole previous cursor
    instead made its next evaluations compare with an old one: the partitions it did run looked
    newly updated, which reset the trigger of a later revision — their charts were not redrawn.)
    """
    if not not_run:
        return evaluation.cursor
    kept = {}
    for key, dropped in not_run.items():
        recorded = dagster_internals.requested_partitions(evaluation.cursor, key)
        if recorded is not None:
            kept[key] = recorded - set(dropped)
    return dagster_internals.with_requested_partitions(evaluation.cursor, kept)
