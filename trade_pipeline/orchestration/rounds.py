"""The daemon's rounds: the runs one evaluation of the automation sensor requests, kept track
of until they exist, so that a round lost on the way is requested again.

The sensor moves the shared cursor on (refresh.py) when it returns its run requests; Dagster
creates the runs afterwards, in the daemon, and runs them in processes of the code server. Two
ways a round's work can be lost there — the daemon stopped before it created the runs, or a run's
worker process killed with the code server (run_workers.py) — and how it is found and requested
again: docs/refresh.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

from trade_pipeline.orchestration import dagster_internals, refresh
from trade_pipeline.orchestration.run_workers import WORKER_LOST_TAG

if TYPE_CHECKING:
    from trade_pipeline.orchestration.dagster_internals import AssetDaemonCursor

#: The daemon's round whose runs are not yet known to exist: its id, the evaluation it came from,
#: its runs' count and the cursor from before it (`save_cursor_for_round`).
UNCONFIRMED_ROUND_KEY = "trade_pipeline/automation_round_unconfirmed"

#: The tag on each run of a daemon's round; its value is the round's random id (`save_cursor_for_round`).
ROUND_TAG = "trade_pipeline/automation_round"


def save_cursor_for_round(instance: dg.DagsterInstance, cursor: AssetDaemonCursor, runs: int) -> str:
    """The sensor's save, when its round requests `runs` runs; returns the tag value of the round.

    The sensor moves the cursor on when it returns its run requests, but Dagster creates the
    runs afterwards, in the daemon: a daemon stopped in between leaves the tick dangling (Dagster
    then skips it) and the runs never exist, while the cursor says their work was requested. So
    the cursor from before the round is kept until the next evaluation finds the round's runs
    (`recover_lost_round`). Written before the cursor: a stop between the two loses nothing.
    """
    # Not the evaluation's number: a round requested again after a loss evaluates to the same one.
    round_id = uuid.uuid4().hex[:12]
    record = {"round": round_id, "evaluation": cursor.evaluation_id, "runs": runs,
              "previous": dagster_internals.stored_text(instance, refresh.CURSOR_KEY) or ""}
    dagster_internals.store_text(instance, UNCONFIRMED_ROUND_KEY, json.dumps(record))
    refresh.save_cursor(instance, cursor)
    return round_id


@dataclass(frozen=True)
class LostRound:
    """A daemon's round some of whose runs were lost, and the cursor from before it."""

    round_id: str
    lost: int
    runs: int
    how: str
    previous_cursor: str  # as stored; "" when there was none

    def words(self) -> str:
        return f"the daemon's round {self.round_id} lost {self.lost} of its {self.runs} run(s) ({self.how})"


def lost_round(instance: dg.DagsterInstance) -> LostRound | None:
    """The daemon's last round, if runs of it were lost — never created (the daemon stopped
    before it created them) or their worker process gone with the code server
    (`run_workers.WORKER_LOST_TAG`) — and nothing evaluated since. Reads only."""
    text = dagster_internals.stored_text(instance, UNCONFIRMED_ROUND_KEY)
    return None if text is None else _lost(instance, json.loads(text))


def _lost(instance: dg.DagsterInstance, record: dict) -> LostRound | None:
    """`lost_round` for the round record already read."""
    created = instance.get_runs_count(dg.RunsFilter(tags={ROUND_TAG: record["round"]}))
    worker_lost = instance.get_runs_count(dg.RunsFilter(tags={ROUND_TAG: record["round"], **WORKER_LOST_TAG}))
    current = refresh.load_cursor(instance)
    # Once a later evaluation moved on (a build), the round is its business: it is not undone.
    if not (created - worker_lost < record["runs"] and current is not None
            and current.evaluation_id == record["evaluation"]):
        return None
    never_created = max(record["runs"] - created, 0)
    how = [f"{never_created} never created: the daemon stopped first" if never_created else "",
           f"{worker_lost} whose process was lost with the code server" if worker_lost else ""]
    return LostRound(record["round"], never_created + worker_lost, record["runs"], "; ".join(filter(None, how)),
                     record["previous"])


def recover_lost_round(instance: dg.DagsterInstance) -> str | None:
    """Before an evaluation: if the daemon's last round lost runs (`lost_round`), put back the
    cursor from before it, so that its work is requested again; then close the round's record.
    Returns what was done, in words, or None when nothing was lost."""
    text = dagster_internals.stored_text(instance, UNCONFIRMED_ROUND_KEY)
    if text is None:
        return None
    lost = _lost(instance, json.loads(text))
    if lost is not None:  # the cursor first: a stop before the record is cleared finds the round moved on
        dagster_internals.store_text(instance, refresh.CURSOR_KEY, lost.previous_cursor)
    dagster_internals.store_text(instance, UNCONFIRMED_ROUND_KEY, "")
    return None if lost is None else f"{lost.words()}: its work is requested again"


def evaluate_pending(repository: dg.RepositoryDefinition, instance: dg.DagsterInstance
                     ) -> tuple[refresh.Evaluation, LostRound | None]:
    """What the next evaluation would request, reading only (`trade-pipeline plan`): from the
    cursor before a lost round when one waits to be recovered, as the sensor's next tick or a
    build will after `recover_lost_round`."""
    lost = lost_round(instance)
    return refresh.evaluate(repository, instance, from_cursor=None if lost is None else lost.previous_cursor), lost
