"""cnn.jobs on a real Ray cluster, started by the test on loopback (2 CPUs) and stopped afterwards, through the
app's cluster engine (Ray's driver in a process of its own).

Skipped, saying why, where Ray is not installed or cannot start; every wait is bounded.
"""
import os
import signal
import time

import numpy as np
import pytest

from cnn import run_config, training
from cnn.jobs import JobRequest

from conftest import process_env, tiny_dataset
from needs import need
from ray_head import Head, free_port

pytestmark = pytest.mark.heavy

ray = need("ray", "Ray is not installed (pip install -r requirements-cluster.txt)")


@pytest.fixture(scope="module")
def cluster():
    """The app's cluster engine (Ray's driver in its own process) on a head started here."""
    from cnn.jobs.cluster import ClusterEngine
    from cnn.jobs.local import LocalEngine

    head = Head(free_port())
    head.start()
    patch = pytest.MonkeyPatch()  # what the web server has: a worker setting and a secret
    patch.setenv("CNN_JOB_MEMORY_GB", "3")
    patch.setenv("CNN_TEACHER_PASSWORD", "hunter2")
    engine = ClusterEngine(f"127.0.0.1:{head.port}", heartbeat_timeout=600, connect_timeout_s=60,
                           local=LocalEngine(limit=1, heartbeat_timeout=600, prestart=False))
    deadline = time.monotonic() + 90
    while engine.state != "connected":
        if time.monotonic() > deadline:
            engine.shutdown()
            head.stop()
            pytest.fail(f"the cluster engine did not connect: {engine.reason} {engine.details}")
        time.sleep(0.2)
    yield engine
    patch.undo()
    engine.shutdown()
    head.stop()


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(n_train=512)


def config(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0, seed=3)
    return run_config.TrainConfig(**{**base, **kw})


def test_a_run_on_ray_reports_progress_and_returns_the_same_model_as_a_local_run(cluster, data):
    job = cluster.submit(JobRequest(config(epochs=2), data, label="on ray"))
    assert job.wait(300), "finishes"
    assert job.state == "done", job.message
    assert job.where.startswith("Ray node") and job.worker_pid != os.getpid()
    kinds = [e.kind for e in job.progress()]
    assert kinds.count("batch") >= 2 and kinds.count("epoch") == 2 and kinds[-1] == "end"
    local = training.train(config(epochs=2), data, evaluate=False).model
    x = data.x_test[:32]
    ray_probs, local_probs = job.result.model.predict_on_batch(x), local.predict_on_batch(x)
    np.testing.assert_allclose(ray_probs, local_probs, atol=2e-2)
    assert (ray_probs.argmax(1) == local_probs.argmax(1)).mean() >= 0.95


def test_stop_and_queue_place_on_the_cluster(cluster, data):
    first = cluster.submit(JobRequest(config(epochs=300), data, label="long"))
    second = cluster.submit(JobRequest(config(epochs=300), data, label="waits"))  # 2 CPUs: one job at a time
    deadline = time.monotonic() + 180
    while first.latest() is None:
        assert time.monotonic() < deadline and not first.finished, first.message
        time.sleep(0.1)
    assert second.state == "queued" and second.place == 1
    second.stop("user")
    assert second.wait(60) and second.state == "cancelled"
    t0 = time.monotonic()
    first.stop("user")
    assert first.wait(60) and time.monotonic() - t0 < 10
    assert first.result.status == "stopped" and first.message.startswith("Stopped by you at epoch")


def test_a_killed_ray_worker_is_an_error_and_frees_its_place(cluster, data):
    victim = cluster.submit(JobRequest(config(epochs=300), data, label="victim"))
    deadline = time.monotonic() + 180
    while victim.latest() is None:
        assert time.monotonic() < deadline and not victim.finished, victim.message
        time.sleep(0.1)
    waiting = cluster.submit(JobRequest(config(), data, label="next"))
    env = process_env(victim.worker_pid)  # a Ray task gets what a local worker gets
    assert env.get("CNN_JOB_MEMORY_GB") == "3" and "CNN_TEACHER_PASSWORD" not in env
    os.kill(victim.worker_pid, signal.SIGKILL)
    assert victim.wait(60) and victim.state == "error" and "ended unexpectedly" in victim.message
    assert waiting.wait(300) and waiting.state == "done", waiting.message
