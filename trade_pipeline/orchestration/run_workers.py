"""Runs whose worker process is gone: marked failed, so that what waits for them goes on.

Dagster's default run launcher starts each run of the daemon or the UI in a process of the
code server, and while that server lives it marks a run failed when the process dies. A code
server stopped or killed together with its runs (a restart, an upgrade, an out-of-memory kill)
leaves them « started » for ever: Dagster's run monitoring has no health check for this
launcher. The automation sensor waits for its runs to end (orchestration/sensors.py), so it
would wait for ever, and the warehouse pool's slot would stay taken.

Command-line runs are the build's business (`build.fail_abandoned_runs`): they live in the
process that holds the pipeline lock.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from trade_pipeline.orchestration import dagster_internals
from trade_pipeline.orchestration.metadata import CLI_TAG, LAUNCHED_BY_TAG

#: The tag of a run marked failed here: its work was not done, nor failed of itself (refresh.py
#: `rounds.recover_lost_round` requests it again).
WORKER_LOST_TAG = {"trade_pipeline/worker_lost": "true"}

#: How much later than the run's pid event a process may have started and still be its worker:
#: the event is written just after the start, and a clock stepped forward since (NTP) moves the
#: start computed from /proc; a pid reused that soon after its worker died is not seen.
START_SLACK_S = 60.0


def process_started_by(pid: int, moment: float) -> bool:
    """Whether process `pid` is alive and started no later than `moment` (a Unix time): a pid
    found alive but started later is another process that reuses the number; a zombie (ended,
    not yet reaped by its parent) is not alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The fields after the command name (in parentheses, which may hold spaces) start with the
    # state (the line's 3rd field); the start time in clock ticks after boot is the 22nd.
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return False
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK") <= moment + START_SLACK_S


def fail_runs_without_worker(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the started runs (not the command line's) whose worker process is gone, give
    back their pool slots, and return their ids. Runs on this machine only: the code server that
    starts them runs the sensor that calls this."""
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if run.tags.get(LAUNCHED_BY_TAG) == CLI_TAG[LAUNCHED_BY_TAG]:
            continue
        worker = dagster_internals.run_worker_pid(instance, run.run_id)
        if worker is None or process_started_by(*worker):
            continue
        instance.add_run_tags(run.run_id, WORKER_LOST_TAG)
        instance.report_run_failed(run, f"its worker process (pid {worker[0]}) is gone: the code server that "
                                        "started it was stopped or killed with it")
        dagster_internals.free_pool_slots(instance, run.run_id)
        failed.append(run.run_id)
    return failed
