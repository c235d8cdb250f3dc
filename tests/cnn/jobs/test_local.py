"""cnn.jobs with the default engine: worker processes, one queue, stop, heartbeats, dead workers."""
import os
import signal
import time

import numpy as np
import pytest

from cnn import jobs, run_config, settings, training
from cnn.jobs import JobRequest
from cnn.jobs.channel import Prepare, Run
from cnn.jobs.local import LocalEngine

from conftest import process_env, tiny_dataset

pytestmark = pytest.mark.heavy


def config(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0, seed=1)
    return run_config.TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def engine():
    e = LocalEngine(limit=2, heartbeat_timeout=600)
    yield e
    e.shutdown()


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(n_train=512)


def wait_for_batches(job, n=1, timeout=120):
    deadline = time.monotonic() + timeout
    while sum(e.kind == "batch" for e in job.progress()) < n:
        assert time.monotonic() < deadline, f"{job.label}: no progress ({job.state}: {job.message})"
        assert not job.finished, job.message
        time.sleep(0.05)


def test_a_run_trains_outside_this_process_and_returns_its_model(engine, data):
    job = engine.submit(JobRequest(config(epochs=2), data, label="outside"))
    assert job.wait(180) and job.state == "done", job.message
    assert job.worker_pid not in (None, os.getpid()) and job.worker_pid in engine.worker_pids()
    result = job.result
    assert result.status == "finished" and result.epochs_done == 2 and result.test_accuracy > 0.5
    assert result.class_names == data.class_names and result.image_shape == (28, 28, 1)  # the run's own facts
    kinds = [e.kind for e in job.progress()]
    assert kinds.count("epoch") == 2 and kinds[-1] == "end"
    here = training.train(config(epochs=2), data, evaluate=False).model  # same seed, in this process
    np.testing.assert_allclose(result.model.predict_on_batch(data.x_test[:16]),
                               here.predict_on_batch(data.x_test[:16]), atol=2e-2)


def test_a_worker_gets_each_dataset_once_and_a_prepared_run_trains_the_same(data):
    """The Train page's hint sends the dataset and has the idle worker trace the model; the run then goes without
    its dataset, and trains as it would have anyway."""
    from cnn.jobs import local

    sent = []
    real = local._Worker.send
    e = LocalEngine(limit=1, heartbeat_timeout=600)
    try:
        while not e.worker_pids():
            time.sleep(0.1)
        worker = e._slots[0].worker
        worker.send = lambda msg: sent.append(msg) or real(worker, msg)
        e.prepare(config(epochs=2), data)
        deadline = time.monotonic() + 60
        while not sent:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert isinstance(sent[0], Prepare) and sent[0].dataset is data, "the hint carries the dataset it lacks"
        jobs_ = [e.submit(JobRequest(config(epochs=2), data, label=f"warm{i}")) for i in range(2)]
        for job in jobs_:
            assert job.wait(180) and job.state == "done", job.message
        runs = [m for m in sent if isinstance(m, Run)]
        assert [m.request.dataset for m in runs] == [None, None] and runs[0].request.dataset_key == sent[0].key
        here = training.train(config(epochs=2), data, evaluate=False)
        assert jobs_[0].result.history == here.history, "the prepared run trained as a fresh one"
        other = tiny_dataset(n_train=300, seed=5)
        assert e.submit(JobRequest(config(), other)).wait(180)
        assert [m for m in sent if isinstance(m, Run)][-1].request.dataset is other, "a new dataset travels once"
    finally:
        e.shutdown()


def test_one_idle_worker_prepares_a_hint_and_its_run_goes_to_that_worker(engine, data):
    """Two idle workers: one builds and traces the hinted model (not both: a class changing settings would keep both
    cores busy), and the run it was made for is trained by that worker."""
    engine.prepare(config(epochs=1, seed=7), data)
    deadline = time.monotonic() + 60
    while not any(s.prepared for s in engine._slots):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ready = [s for s in engine._slots if s.prepared]
    assert len(ready) == 1
    pid = ready[0].worker.pid
    job = engine.submit(JobRequest(config(epochs=1, seed=7), data, label="routed"))
    assert job.wait(180) and job.state == "done", job.message
    assert job.worker_pid == pid
    # the page still shows these settings: a worker prepares them again, so the next press finds one ready
    deadline = time.monotonic() + 60
    while sum(bool(s.prepared) for s in engine._slots) != 1:
        assert time.monotonic() < deadline, "prepared again after the run"
        time.sleep(0.05)
    again = engine.submit(JobRequest(config(epochs=1, seed=7), data, label="again"))
    assert again.wait(180) and again.state == "done", again.message


def test_two_pages_with_the_same_settings_each_find_a_prepared_worker(engine, data):
    """Two students (or two tabs) show the same settings: the second page's hint goes to the worker that does not
    hold that model yet, not again to the one that does, so two presses at once both start on a prepared worker."""
    settings_ = config(epochs=1, seed=11)
    key = training.prepare_key(settings_, data.image_shape, data.num_classes, len(data.train_images))
    for _page in range(2):
        engine.prepare(settings_, data)
        deadline = time.monotonic() + 60
        while sum(s.prepared == key for s in engine._slots) < _page + 1:
            assert time.monotonic() < deadline, f"page {_page + 1}'s hint prepared"
            time.sleep(0.05)
    time.sleep(0.5)
    assert [s.prepared for s in engine._slots] == [key, key]
    pids = {s.worker.pid for s in engine._slots}
    both = [engine.submit(JobRequest(settings_, data, label=f"same{i}")) for i in range(2)]
    for job in both:
        assert job.wait(180) and job.state == "done", job.message
    assert {job.worker_pid for job in both} == pids, "each run on its own prepared worker"


def test_a_fresh_servers_workers_start_one_after_the_other_and_the_server_can_wait_for_the_first(data):
    """Two workers importing TensorFlow at once on 2 cores each took as long as both in a row: the second starts when
    the first is ready, and the web server puts off its own import till then (Engine.wait_warm), and till the first
    page's dataset has gone to that worker."""
    e = LocalEngine(limit=2, heartbeat_timeout=600)
    try:
        e.prepare(config(), data)  # the first Train page, drawn while the first worker imports TensorFlow
        assert e.wait_warm(120)
        assert e._first_fed.is_set(), "the server's import waited for the hint's dataset to be sent"
        first, second = e._slots
        deadline = time.monotonic() + 120
        while second.worker is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert second.worker.spawned >= first.worker.ready
    finally:
        e.shutdown()


def test_a_worker_always_holds_the_datasets_its_engine_counts_on():
    """Whatever order of hints and runs, with or without their datasets, the engine's bookkeeping and the worker's
    store agree (the engine sends a fingerprint alone only for a dataset the worker holds)."""
    import random

    from cnn.jobs import local
    from cnn.jobs.worker import Datasets, DatasetsSent

    sets = [tiny_dataset(n_train=64, seed=i) for i in range(4)]
    engine_side = object.__new__(local._Worker)
    engine_side.datasets = DatasetsSent()  # the Ray driver's channel keeps the same books (cnn.jobs.cluster)
    worker_side = Datasets()
    rnd = random.Random(0)
    for _ in range(300):
        ds = rnd.choice(sets)
        if rnd.random() < 0.5:  # a hint
            hint = engine_side.prepare_message((config(), ds))
            worker_side.take(hint.key, hint.dataset)
        else:
            job = jobs.Job.__new__(jobs.Job)
            job.id = "j"
            request = engine_side.run_message(job, JobRequest(config(), ds)).request
            assert worker_side.take(request.dataset_key, request.dataset) is ds


def test_limit_and_first_come_first_served(engine, data):
    submitted = [engine.submit(JobRequest(config(epochs=3), data, label=f"q{i}")) for i in range(5)]
    places = [j.place for j in submitted]
    assert places[2:] == sorted(places[2:]) and places[-1] >= 3  # the last ones wait, in order
    for j in submitted:
        assert j.wait(300) and j.state == "done", j.message
    starts = [j.started for j in submitted]
    assert starts == sorted(starts), "jobs start in the order they were submitted"
    for j in submitted:  # never more than `limit` at once: count the runs overlapping each start
        overlapping = sum(o.started <= j.started < o.ended for o in submitted)
        assert overlapping <= engine.limit
    assert engine.capacity()["running"] == 0 and engine.capacity()["waiting"] == 0


def test_stop_running_and_queued_jobs_say_who_stopped_them(engine, data):
    a = engine.submit(JobRequest(config(epochs=300), data, label="a"))
    b = engine.submit(JobRequest(config(epochs=300), data, label="b"))
    c = engine.submit(JobRequest(config(epochs=300), data, label="c"))  # waits: the limit is 2
    wait_for_batches(a)
    assert c.state == "queued" and c.place == 1
    c.stop("user")
    assert c.wait(10) and c.state == "cancelled" and "You removed this run from the queue" in c.message
    a.stop("user")
    b.stop("teacher")
    assert a.wait(60) and b.wait(60)
    assert a.state == "done" and a.result.status == "stopped" and a.message.startswith("Stopped by you at epoch")
    assert b.message.startswith("Stopped by your teacher")
    assert a.result.model is not None and a.result.epochs_done < 300  # the model so far is kept


def test_a_finished_run_no_longer_counts_as_running_when_its_waiter_wakes(data, monkeypatch):
    """The slot's own bookkeeping after a run (the next hint) may come later: capacity() already says it is free."""
    done = LocalEngine._done
    monkeypatch.setattr(LocalEngine, "_done", lambda self, job: time.sleep(1.0) or done(self, job))
    e = LocalEngine(limit=1)
    try:
        job = e.submit(JobRequest(config(epochs=1), data, label="quick"))
        assert job.wait(120) and job.state == "done"
        assert e.capacity()["running"] == 0
    finally:
        e.shutdown()


def test_a_job_nobody_polls_is_stopped_and_says_the_tab_was_closed(data):
    e = LocalEngine(limit=1, heartbeat_timeout=3)
    try:
        job = e.submit(JobRequest(config(epochs=300), data, label="abandoned"))
        deadline = time.monotonic() + 120
        while job.state == "queued" and time.monotonic() < deadline:
            job.touch()  # alive while the worker starts
            time.sleep(0.2)
        assert job.wait(60), "the heartbeat timeout stops it"
        assert job.result.status == "stopped" and "browser tab was closed" in job.message
        assert e.capacity()["running"] == 0
    finally:
        e.shutdown()


def test_killed_worker_is_an_error_frees_its_slot_and_others_continue(engine, data):
    victim = engine.submit(JobRequest(config(epochs=300), data, label="victim"))
    other = engine.submit(JobRequest(config(epochs=4), data, label="other"))
    wait_for_batches(victim, 3)
    os.kill(victim.worker_pid, signal.SIGKILL)
    t0 = time.monotonic()
    assert victim.wait(10) and time.monotonic() - t0 < 5
    assert victim.state == "error" and "ended unexpectedly" in victim.message
    assert other.wait(180) and other.state == "done", "another student's run goes on"
    after = engine.submit(JobRequest(config(), data, label="after"))
    assert after.wait(180) and after.state == "done", "the slot works again with a fresh worker"


def test_errors_inside_training_become_messages_and_the_worker_lives_on(engine, data):
    too_big = engine.submit(JobRequest(config(batch_size=5000), data, label="too big"))
    assert too_big.wait(60) and too_big.state == "error" and "larger than" in too_big.message
    pid = too_big.worker_pid
    fine = engine.submit(JobRequest(config(), data, label="fine"))
    assert fine.wait(120) and fine.state == "done"
    assert pid in engine.worker_pids()


def test_transfer_learning_starts_from_the_model_it_is_given(engine, data):
    from cnn import architectures, keras_files, transfer

    base = architectures.build_model(architectures.preset("fast"), (28, 28, 1))
    start = transfer.transfer_model(base, 10, freeze=True)
    job = engine.submit(JobRequest(config(), data, label="transfer", initial_model=keras_files.model_to_bytes(start)))
    assert job.wait(120) and job.state == "done", job.message
    model = job.result.model
    assert model.name == "transfer" and not model.get_layer("base").trainable
    frozen = model.get_layer("base").get_weights()  # the base up to its Flatten: its first weights
    assert frozen
    for got, want in zip(frozen, base.get_weights()[:len(frozen)], strict=True):
        np.testing.assert_array_equal(got, want)  # frozen layers did not move


def test_default_limit_is_cpu_count(monkeypatch):
    monkeypatch.setenv("CNN_MAX_JOBS", "3")
    assert jobs.max_jobs_default() == 3
    monkeypatch.delenv("CNN_MAX_JOBS")
    assert jobs.max_jobs_default() == (os.cpu_count() or 1)


def test_a_worker_gets_the_allow_listed_settings_and_never_a_secret(monkeypatch):
    monkeypatch.setenv("CNN_TEACHER_PASSWORD", "hunter2")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "t0k3n")
    monkeypatch.setenv("CNN_JOB_MEMORY_GB", "3")
    e = LocalEngine(limit=1, heartbeat_timeout=600)
    try:
        deadline = time.monotonic() + 120
        while not e.worker_pids():  # the worker starts in the background
            assert time.monotonic() < deadline, "a worker started"
            time.sleep(0.1)
        env = process_env(e.worker_pids()[0])
    finally:
        e.shutdown()
    assert env["CNN_JOB_MEMORY_GB"] == "3" and "CNN_WORKER_FD" in env
    assert not {"CNN_TEACHER_PASSWORD", "CNN_DATABASE_URL", "RAY_AUTH_TOKEN"} & set(env)
    allowed = {k for k in settings.worker_env() if k.startswith("CNN_")}
    assert {k for k in env if k.startswith("CNN_")} == {"CNN_WORKER_FD", *allowed}


def test_a_clean_shutdown_stops_running_runs_with_their_curves_and_says_why(data):
    e = LocalEngine(limit=1, heartbeat_timeout=600)
    job = e.submit(JobRequest(config(epochs=300), data, label="long"))
    queued = e.submit(JobRequest(config(), data, label="queued"))
    wait_for_batches(job)
    pid = e.worker_pids()[0]
    e.shutdown()
    assert job.finished and queued.finished
    assert job.state == "done" and job.result.status == "stopped", job.message
    assert "the CNN Lab server was shut down" in job.message and "killed" not in job.message
    assert queued.state == "cancelled" and "shut down before this run started" in queued.message
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker is gone
