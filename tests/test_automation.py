"""Schedules and sensors: the run requests they make, and « nothing changed → no request »."""

import os
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from trade_pipeline.definitions import defs
from trade_pipeline.orchestration import dagster_internals, refresh, rounds
from trade_pipeline.orchestration.metadata import CLI_TAG, LAUNCHED_BY_TAG
from trade_pipeline.orchestration.resources import PipelineSettings
from trade_pipeline.orchestration.run_workers import process_started_by
from trade_pipeline.orchestration.sensors import new_vintage_sensor

from .support import LocalServer, bytes_answer, listing_page, write_year_dir, year_zip

PARIS = ZoneInfo("Europe/Paris")


def tick(context_cursor, instance):
    context = dg.build_sensor_context(cursor=context_cursor, instance=instance, repository_def=defs.get_repository_def(),
                                      resources={"settings": PipelineSettings()})
    return new_vintage_sensor.evaluate_tick(context)


def requested_years(result) -> list[str]:
    return [request.partition_key for request in result.run_requests or []]


def test_yearly_schedule_refreshes_the_latest_two_years_in_paris_time():
    yearly_refresh = defs.get_repository_def().get_schedule_def("yearly_refresh")
    assert yearly_refresh.execution_timezone == "Europe/Paris"
    assert yearly_refresh.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2027, 3, 15, 6, tzinfo=PARIS),
                                        repository_def=defs.get_repository_def())
    requests = list(yearly_refresh.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2025", "2026"]
    assert _targets(yearly_refresh) == {dg.AssetKey("raw_trade_files")}
    assert len({r.run_key for r in requests}) == 2


def test_automation_sensor_runs_by_default_on_the_whole_graph():
    automation = defs.get_repository_def().get_sensor_def("trade_automation")
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING
    assert new_vintage_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_automation_sensor_evaluates_a_round_only_once_its_runs_are_done(monkeypatch, tmp_path):
    """Like the CLI's rounds: while a run it requested is queued or running, it does not evaluate
    (it would see half of the changes and request the charts and fiches once per half)."""
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    automation = defs.get_repository_def().get_sensor_def("trade_automation")
    with dg.instance_for_test() as instance:
        queued = instance.add_run(dg.DagsterRun(job_name="territory_assets", run_id=str(uuid.uuid4()),
                                                status=dg.DagsterRunStatus.STARTED,
                                                tags={LAUNCHED_BY_TAG: "trade_automation"}))

        def evaluate() -> dg.SensorResult:
            return automation.evaluate_tick(dg.build_sensor_context(
                instance=instance, repository_def=defs.get_repository_def(), resources={"settings": PipelineSettings()}))
        waiting = evaluate()
        assert not waiting.run_requests and "1 run(s) of its previous evaluation not finished" in waiting.skip_message
        instance.report_run_failed(queued)  # ended (whatever the outcome): the next round is evaluated
        assert "not finished" not in (evaluate().skip_message or "")


def test_a_round_whose_runs_were_never_created_is_requested_again(monkeypatch, tmp_path):
    """The daemon can stop between the sensor's evaluation, which moves the shared cursor on, and
    its creating the runs (Dagster then skips the dangling tick): the next evaluation, the
    sensor's or a build's, finds the round's runs missing and requests their work again — not
    « nothing changed » with the work never done."""
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    repository = defs.get_repository_def()
    automation = repository.get_sensor_def("trade_automation")
    with dg.instance_for_test() as instance:
        def evaluate() -> dg.SensorResult:
            return automation.evaluate_tick(dg.build_sensor_context(
                instance=instance, repository_def=repository, resources={"settings": PipelineSettings()}))

        def create_runs(result: dg.SensorResult) -> None:  # what the daemon does with the requests
            for request in result.run_requests:
                instance.add_run(dg.DagsterRun(job_name=request.job_name, run_id=str(uuid.uuid4()),
                                               status=dg.DagsterRunStatus.SUCCESS, tags=request.tags))

        def requested(result: dg.SensorResult) -> list[tuple]:
            return [(tuple(request.asset_selection), request.partition_key) for request in result.run_requests]

        refresh.prime(repository, instance)
        new_rows = dg.AssetMaterialization("raw_trade_files", partition="2024", tags={"dagster/data_version": "v1"})
        instance.report_runless_asset_event(new_rows)
        first = evaluate()
        assert requested(first) == [((dg.AssetKey("trade_flows"),), "2024")]
        # The daemon stopped before creating the run. `trade-pipeline plan`, reading only, already
        # counts its work; then the next tick requests it again.
        planned, lost = rounds.evaluate_pending(repository, instance)
        assert lost is not None and "lost 1 of its 1 run(s) (1 never created" in lost.words()
        assert planned.requested == {dg.AssetKey("trade_flows"): {"2024"}}
        assert rounds.lost_round(instance) == lost and not refresh.evaluate(repository, instance).requested
        again = evaluate()
        assert requested(again) == requested(first)
        assert {r.tags[rounds.ROUND_TAG] for r in again.run_requests} != {r.tags[rounds.ROUND_TAG]
                                                                          for r in first.run_requests}
        # Its runs created (and ended), the round is confirmed: nothing is requested twice.
        create_runs(again)
        assert not evaluate().run_requests
        # Lost again, and a build comes first: the build finds the round and puts its work back.
        instance.report_runless_asset_event(new_rows._replace(tags={"dagster/data_version": "v2"}))
        assert requested(evaluate()) == requested(first)
        assert "lost 1 of its 1 run(s) (1 never created: the daemon stopped first)" in rounds.recover_lost_round(
            instance)
        assert rounds.recover_lost_round(instance) is None  # once
        assert requested(evaluate()) == requested(first)


def test_a_run_whose_worker_process_is_gone_is_failed_and_its_round_requested_again(monkeypatch, tmp_path):
    """A code server stopped or killed with its runs leaves them « started » for ever (Dagster's
    run monitoring has no check for its default launcher), and the sensor waits for its runs: it
    marks failed those whose worker process is gone — not a run whose worker lives, not a
    command-line run (the next build's business) —, and once its round's other runs ended, it
    requests that round's work again."""
    monkeypatch.setenv("TRADE_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    ended = subprocess.Popen(["true"])
    ended.wait()
    workers: dict[str, tuple[int, float]] = {}
    monkeypatch.setattr(dagster_internals, "run_worker_pid", lambda instance, run_id: workers.get(run_id))
    repository = defs.get_repository_def()
    automation = repository.get_sensor_def("trade_automation")
    with dg.instance_for_test() as instance:
        def started(pid: int | None, tags: dict[str, str]) -> str:
            run = instance.add_run(dg.DagsterRun(job_name="territory_assets", run_id=str(uuid.uuid4()),
                                                 status=dg.DagsterRunStatus.STARTED, tags=tags))
            if pid is not None:
                workers[run.run_id] = (pid, time.time())
            return run.run_id

        def evaluate() -> dg.SensorResult:
            return automation.evaluate_tick(dg.build_sensor_context(
                instance=instance, repository_def=repository, resources={"settings": PipelineSettings()}))

        def requested(result: dg.SensorResult) -> list[tuple]:
            return [(tuple(request.asset_selection), request.partition_key) for request in result.run_requests]

        refresh.prime(repository, instance)
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "raw_trade_files", partition="2024", tags={"dagster/data_version": "v1"}))
        round_ = evaluate()
        assert requested(round_) == [((dg.AssetKey("trade_flows"),), "2024")]
        # The daemon created the round's run; the code server was killed with it.
        orphan = started(ended.pid, round_.run_requests[0].tags)
        by_sensor = {LAUNCHED_BY_TAG: "trade_automation"}
        living, not_yet, from_cli = started(os.getpid(), by_sensor), started(None, by_sensor), started(ended.pid, CLI_TAG)

        assert f"1 run(s) whose worker process is gone (the code server was stopped with them) marked as failed: " \
               f"{orphan}" == evaluate().skip_message

        def status(run_id: str) -> dg.DagsterRunStatus:
            return instance.get_run_by_id(run_id).status
        assert [status(r) for r in (orphan, living, not_yet, from_cli)] == [
            dg.DagsterRunStatus.FAILURE, *[dg.DagsterRunStatus.STARTED] * 3]
        failure = instance.all_logs(orphan, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
        assert f"its worker process (pid {ended.pid}) is gone" in failure.message
        assert "2 run(s) of its previous evaluation not finished yet" in evaluate().skip_message
        for run_id in (living, not_yet):
            instance.report_run_failed(instance.get_run_by_id(run_id))
        # The round's other runs ended: its work is requested again, once.
        assert "lost 1 of its 1 run(s) (1 whose process was lost with the code server)" in rounds.recover_lost_round(
            instance)
        again = evaluate()
        assert requested(again) == requested(round_)
        for request in again.run_requests:
            instance.add_run(dg.DagsterRun(job_name=request.job_name, run_id=str(uuid.uuid4()),
                                           status=dg.DagsterRunStatus.SUCCESS, tags=request.tags))
        assert "nothing changed" in evaluate().skip_message


def test_a_process_is_alive_only_if_it_started_before_the_moment_and_is_not_a_zombie():
    now = time.time()
    assert process_started_by(os.getpid(), now)
    assert not process_started_by(os.getpid(), now - 3600 * 24 * 365 * 60)  # the number reused since
    ended = subprocess.Popen(["true"])
    ended.wait()
    assert not process_started_by(ended.pid, now)
    zombie = subprocess.Popen(["true"])  # ended, not yet reaped
    deadline = time.time() + 10
    while (Path("/proc") / str(zombie.pid) / "stat").read_text().split(") ")[1][0] != "Z" and time.time() < deadline:
        time.sleep(0.05)
    assert not process_started_by(zombie.pid, time.time())
    zombie.wait()


def test_the_sample_never_changes(monkeypatch):
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", "sample")
    with dg.instance_for_test() as instance:
        first = tick(None, instance)
        assert first.run_requests == [] or first.run_requests is None
        assert "baseline" in first.skip_message
        second = tick(first.cursor, instance)
        assert not second.run_requests and "nothing new" in second.skip_message


def test_a_directory_source_new_year_and_changed_file(monkeypatch, tmp_path):
    source = write_year_dir(tmp_path / "dgddi", 2023)
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", str(source))
    with dg.instance_for_test() as instance:
        baseline = tick(None, instance)
        assert not baseline.run_requests
        unchanged = tick(baseline.cursor, instance)
        assert not unchanged.run_requests and "nothing new" in unchanged.skip_message
        write_year_dir(source, 2024)  # a new year appears
        new_year = tick(unchanged.cursor, instance)
        assert requested_years(new_year) == ["2024"]
        assert _targets(new_vintage_sensor) == {dg.AssetKey("raw_trade_files")}
        (source / "202402-Regional-2023-export.zip").write_bytes(year_zip(2023, "E", ["E;1;2023;34;12;C11Z;1102;DE;5;1"]))
        revised = tick(new_year.cursor, instance)
        assert requested_years(revised) == ["2023"]
        assert not tick(revised.cursor, instance).run_requests


def test_the_dgddi_listing_new_year_or_reissued_vintage(monkeypatch):
    links = ["/f/202402-Regional-2023-export.zip", "/f/202402-Regional-2023-import.zip"]
    with LocalServer() as server, dg.instance_for_test() as instance:
        # The page is drawn at each request: the test adds links as DGDDI would publish them.
        server.routes["/listing"] = lambda request: bytes_answer(listing_page(links), "text/html; charset=utf-8")(request)
        monkeypatch.setenv("TRADE_PIPELINE_SOURCE", "dgddi")
        monkeypatch.setenv("TRADE_PIPELINE_LISTING_URL", server.url + "/listing")
        baseline = tick(None, instance)
        assert not tick(baseline.cursor, instance).run_requests
        links += ["/f/202502-Regional-2024-export.zip", "/f/202502-Regional-2024-import.zip"]
        assert requested_years(tick(baseline.cursor, instance)) == ["2024"]
        links.append("/f/202410-Regional-2023-import.zip")  # DGDDI re-issued 2023
        assert requested_years(tick(baseline.cursor, instance)) == ["2023", "2024"]


def test_an_unreachable_source_skips_the_tick(monkeypatch):
    monkeypatch.setenv("TRADE_PIPELINE_SOURCE", "dgddi")
    monkeypatch.setenv("TRADE_PIPELINE_LISTING_URL", "http://127.0.0.1:9/listing")  # nothing listens there
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_ATTEMPTS", "1")
    with dg.instance_for_test() as instance:
        result = tick('{"2024": "x"}', instance)
        assert not result.run_requests and "could not poll" in result.skip_message
        assert result.cursor == '{"2024": "x"}' or result.cursor is None


def _targets(definition) -> set[dg.AssetKey]:
    """The assets a schedule or sensor launches (its `target=`)."""
    targets = definition.targets if hasattr(definition, "targets") else [definition.target]
    return {key for target in targets for key in target.resolvable_to_job.selection.selected_keys}


@pytest.fixture(autouse=True)
def _fast_http(monkeypatch):
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("TRADE_PIPELINE_HTTP_TIMEOUT", "5")
