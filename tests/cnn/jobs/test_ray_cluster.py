"""cnn.jobs on a real Ray cluster, started by the test on loopback (2 CPUs) and stopped afterwards.

Skipped, saying why, where Ray is not installed or cannot start; every wait is bounded.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cnn import training
from cnn.jobs import JobRequest

from conftest import tiny_dataset

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-cluster.txt)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_cli() -> list[str]:
    exe = shutil.which("ray") or os.path.join(os.path.dirname(sys.executable), "ray")
    return [exe]


@pytest.fixture(scope="module")
def cluster():
    port = free_port()
    start = [*ray_cli(), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
             "--include-dashboard", "false", "--disable-usage-stats"]
    try:
        proc = subprocess.run(start, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"Ray could not start a local cluster here: {e}")
    if proc.returncode != 0:
        subprocess.run([*ray_cli(), "stop", "--force"], capture_output=True, timeout=60)
        pytest.skip(f"Ray could not start a local cluster here: {proc.stderr.strip()[-300:]}")
    from cnn.jobs.ray_cluster import RayEngine

    engine = RayEngine(f"127.0.0.1:{port}", heartbeat_timeout=600)
    yield engine
    engine.shutdown()
    ray.shutdown()
    subprocess.run([*ray_cli(), "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(n_train=512)


def config(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0, seed=3)
    return training.TrainConfig(**{**base, **kw})


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
    os.kill(victim.worker_pid, signal.SIGKILL)
    assert victim.wait(60) and victim.state == "error" and "ended unexpectedly" in victim.message
    assert waiting.wait(300) and waiting.state == "done", waiting.message
