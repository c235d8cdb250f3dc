"""Runs as records: unique labels, live snapshots, how runs end, stop requests from another server, restarts."""
from __future__ import annotations

import time

import pytest

from cnn import run_config, run_results
from cnn.jobs import JobRequest, records
from cnn.jobs.base import Job
from cnn.jobs.local import LocalEngine

from conftest import tiny_dataset
from paper_engine import PaperEngine


def config(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0, seed=1)
    return run_config.TrainConfig(**{**base, **kw})


def progress(epoch, batch, acc):
    return run_results.Progress("batch", epoch, 3, batch, 10, 1.0, 100.0, {"loss": 1.0, "accuracy": acc})


def request(label="fast-mnist-204037", owner="ana-id", name="Ana"):
    return JobRequest(config(), tiny_dataset(n_train=32, n_test=8), label=label, owner=owner, owner_name=name,
                      extra={"group": "train"})


def test_labels_are_unique_in_the_class_and_records_follow_a_run(database):
    engine = PaperEngine().record_to(records.Recorder(database, "server-a", tick_s=3600))
    try:
        ana = engine.submit(request())
        ben = engine.submit(request(owner="ben-id", name="Ben"))  # the same second, the same label
        assert ana.label == "fast-mnist-204037" and ben.label == "fast-mnist-204037-2"
        engine.mark_running(ana, "this server (training process 1)", 1)
        ana.add_event(progress(1, 4, 0.5))
        engine.recorder.tick()
        rec = records.get(database, ana.id)
        assert rec.state == "running" and rec.latest().batch == 4 and rec.worker == "this server (training process 1)"
        assert rec.owner == "ana-id" and rec.owner_name == "Ana" and rec.group_key == "train"
        assert rec.config["arch"] == "fast"
        ana.add_event(run_results.Progress("epoch", 1, 3, 10, 10, 2.0, 100.0, {"loss": 0.5, "accuracy": 0.8}))
        engine.stop(ana, "teacher")
        assert engine.interrupted == [ana.id]
        result = run_results.TrainResult(None, config(), {"loss": [0.5], "accuracy": [0.8]}, [{"loss": 1.0}], 0.4, 0.87,
                                      2.0, 1, status="stopped", stopped_at=(2, 1))
        engine.finish(ana, result=result)
        rec = records.get(database, ana.id)
        assert rec.finished and rec.stop_reason == "teacher" and rec.message.startswith("Stopped by your teacher")
        assert rec.history == {"loss": [0.5], "accuracy": [0.8]} and rec.test_accuracy == pytest.approx(0.87)
        assert [r.label for r in records.runs_of(database, "ana-id")] == ["fast-mnist-204037"]
        listed = records.recent_runs(database, time.time() - 60)
        assert [r.label for r in listed] == ["fast-mnist-204037-2", "fast-mnist-204037"]  # unfinished first
    finally:
        engine.shutdown()


def test_a_stop_asked_on_another_server_reaches_the_run(database):
    engine = PaperEngine().record_to(records.Recorder(database, "server-a", tick_s=3600))
    try:
        job = engine.submit(request())
        engine.mark_running(job, "w", 1)
        assert records.request_stop(database, job.id, "teacher")  # server B's Class page
        engine.recorder.tick()  # server A's recorder, once a second
        assert job.stop_reason == "teacher" and engine.interrupted == [job.id]
    finally:
        engine.shutdown()


def test_runs_of_a_server_that_went_away_end_as_interrupted_by_a_restart(database):
    first = PaperEngine().record_to(records.Recorder(database, "host:8501", tick_s=3600))
    job = first.submit(request())
    first.mark_running(job, "w", 1)
    job.add_event(run_results.Progress("epoch", 4, 10, 10, 10, 2.0, 100.0, {"loss": 0.5, "accuracy": 0.8}))
    first.recorder.tick()
    first.recorder._stop.set()  # the process dies: nothing more is written
    # The server starts again on the same port: its own unfinished runs are known at once.
    second = PaperEngine().record_to(records.Recorder(database, "host:8501", tick_s=3600))
    try:
        rec = records.get(database, job.id)
        assert rec.state == "error" and rec.stop_reason == "restart"
        assert rec.message.startswith("Interrupted by a server restart at epoch 4")
        assert rec.history["accuracy"] == [0.8]  # the curves so far are kept
        first.finish(job, error="late")  # a late word from the old process changes nothing
        assert records.get(database, job.id).message.startswith("Interrupted")
    finally:
        second.shutdown()


def test_runs_of_a_server_that_stopped_beating_are_interrupted_by_the_others(database):
    gone = PaperEngine().record_to(records.Recorder(database, "other:8502", tick_s=3600))
    job = gone.submit(request())
    gone.recorder._stop.set()
    database.execute("UPDATE servers SET beat = ? WHERE id = 'other:8502'", (time.time() - 3600,))
    alive = PaperEngine().record_to(records.Recorder(database, "this:8501", tick_s=3600, judge_after_s=0))
    try:
        alive.recorder.tick()
        assert records.get(database, job.id).stop_reason == "lost"
        assert [s["id"] for s in records.servers(database)] == ["this:8501"]
    finally:
        alive.shutdown()


def test_a_server_that_shuts_down_marks_its_unfinished_runs(database):
    engine = PaperEngine().record_to(records.Recorder(database, "s", tick_s=3600))
    job = engine.submit(request())
    engine.shutdown()
    assert records.get(database, job.id).message.startswith("Interrupted by a server restart")


@pytest.mark.heavy
def test_a_real_run_reaches_the_database_about_once_a_second(tmp_path):
    from cnn import db

    database = db.Database(f"sqlite:///{tmp_path / 'class.db'}")
    engine = LocalEngine(limit=1, heartbeat_timeout=600).record_to(records.Recorder(database, "s", tick_s=0.25))
    try:
        job: Job = engine.submit(JobRequest(config(epochs=6), tiny_dataset(n_train=4096), label="live"))
        seen = set()
        deadline = time.monotonic() + 180
        while not job.finished and time.monotonic() < deadline:
            rec = records.get(database, job.id)
            if rec.latest() is not None:
                seen.add((rec.latest().epoch, rec.latest().batch))
            time.sleep(0.2)
        assert job.wait(60) and job.state == "done", job.message
        rec = records.get(database, job.id)
        assert rec.state == "done" and len(rec.history["loss"]) == 6 and rec.test_accuracy is not None
        assert rec.points and rec.result["epochs_done"] == 6
        assert len(seen) >= 2, seen  # the record moved while it trained
    finally:
        engine.shutdown()
        database.close()


def test_what_a_preset_took_here_is_the_median_of_its_completed_runs_on_every_image(database):
    engine = PaperEngine().record_to(records.Recorder(database, "server-a", tick_s=3600))
    try:
        assert records.measured_here(database, "fast", "mnist", 1) is None
        for i, (seconds, acc, status) in enumerate([(5.0, 0.99, "finished"), (7.0, 0.98, "finished"),
                                                     (6.0, 0.97, "finished"), (1.0, 0.5, "stopped")]):
            job = engine.submit(request(label=f"run-{i}"))
            engine.mark_running(job, "w", 1)
            engine.finish(job, result=run_results.TrainResult(None, config(), {}, [], 0.1, acc, seconds, 1,
                                                              status=status))
        limited = engine.submit(JobRequest(config(train_limit=100), tiny_dataset(n_train=32, n_test=8), label="few"))
        engine.mark_running(limited, "w", 1)
        engine.finish(limited, result=run_results.TrainResult(None, config(), {}, [], 0.1, 0.2, 0.5, 1))
        here = records.measured_here(database, "fast", "mnist", 1)
        assert (here.runs, here.seconds, here.test_accuracy) == (3, 6.0, pytest.approx(0.98))  # stopped, few: out
        assert records.measured_here(database, "fast", "mnist", 2) is None  # other settings, other figures
        assert records.last_run_time(database, "fast", "mnist") == (1, 6.0)  # the last finished on every image
        assert records.last_run_time(database, "fast", "cifar10") is None
    finally:
        engine.shutdown()


@pytest.mark.parametrize("skew_s", [60.0, -60.0])
def test_servers_whose_clocks_disagree_by_a_minute_interrupt_nothing(database, monkeypatch, skew_s):
    """Server A beats by its clock; server B's clock is a minute off. Beats and their ages are the database's
    clock, so B takes none of A's live runs for lost."""
    a = PaperEngine().record_to(records.Recorder(database, "a:8501", tick_s=3600))
    job = a.submit(request())
    a.mark_running(job, "w", 1)
    a.recorder.tick()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + skew_s)  # from here on, this process's clock is B's
    b = PaperEngine().record_to(records.Recorder(database, "b:8501", tick_s=3600, judge_after_s=0))
    try:
        b.recorder.tick()
        assert records.get(database, job.id).state == "running"
        assert {s["id"] for s in records.servers(database)} == {"a:8501", "b:8501"}
    finally:
        b.shutdown()
        a.shutdown()


class AwayDatabase:
    """The class database, reachable or not (``away``): what a page or a recorder sees during an outage."""

    def __init__(self, real):
        self.real, self.away = real, False

    def __getattr__(self, name):
        from cnn import db

        attr = getattr(self.real, name)
        if self.away and name in ("query", "execute", "transaction", "now"):
            def refuse(*args, **kw):
                raise db.DatabaseError("Cannot connect to the class database: connection refused")
            return refuse
        return attr


def test_runs_that_end_while_the_database_is_away_are_recorded_as_they_ended(database):
    """A run finishes during an outage and another server took its server for gone: when the database is back,
    the run reads finished (with its result), and a run still training reads running again."""
    flaky = AwayDatabase(database)
    a = PaperEngine().record_to(records.Recorder(flaky, "a:8501", tick_s=3600))
    b = PaperEngine().record_to(records.Recorder(database, "b:8501", tick_s=3600, judge_after_s=0))
    try:
        done, going = a.submit(request(label="done")), a.submit(request(label="going"))
        for job in (done, going):
            a.mark_running(job, "w", 1)
            job.add_event(progress(1, 3, 0.5))
        a.recorder.tick()
        flaky.away = True
        a.finish(done, result=run_results.TrainResult(None, config(), {"loss": [0.3]}, [], 0.3, 0.91, 2.0, 1))
        going.add_event(progress(2, 3, 0.7))
        a.recorder.tick()  # cannot write: nothing is lost, nothing is judged
        assert a.recorder.error
        database.execute("UPDATE servers SET beat = beat - 3600 WHERE id = 'a:8501'")  # A was away a long while
        b.recorder.tick()  # B is back first and takes A's runs for lost
        assert records.get(database, done.id).stop_reason == "lost"
        flaky.away = False
        a.recorder.tick()
        rec = records.get(database, done.id)
        assert (rec.state, rec.stop_reason, rec.test_accuracy) == ("done", None, pytest.approx(0.91))
        rec = records.get(database, going.id)
        assert (rec.state, rec.stop_reason, rec.ended, rec.latest().epoch) == ("running", None, None, 2)
        assert a.recorder.error == ""
    finally:
        b.shutdown()
        a.shutdown()
