"""The cluster engine: Ray's driver in a supervised process; bounded connects, fallback, reconnect, token auth.

A real Ray head is started by the test on a loopback port, in a process group of its own, and only that group is
stopped (never ``ray stop``, which would stop every Ray process on the machine). Every wait is bounded.
"""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from cnn import run_config
from cnn.jobs import JobRequest
from cnn.jobs.cluster import ClusterEngine
from cnn.jobs.local import LocalEngine

from conftest import tiny_dataset
from needs import need
from ray_head import Head, free_port

pytestmark = pytest.mark.heavy

RAY_INTERNALS = re.compile(r"Ray|rpc|GCS|Actor|Error|Exception|Traceback")


def config(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0, seed=1)
    return run_config.TrainConfig(**{**base, **kw})


def request(epochs=1, n_train=512, label="run"):
    return JobRequest(config(epochs=epochs), tiny_dataset(n_train=n_train), label=label)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def local():
    e = LocalEngine(limit=1, heartbeat_timeout=600, prestart=False)
    yield e
    e.shutdown()


def test_an_address_where_nothing_listens_falls_back_at_once_and_trains_locally(local):
    port = free_port()
    t0 = time.monotonic()
    engine = ClusterEngine(f"127.0.0.1:{port}", heartbeat_timeout=600, local=local, connect_timeout_s=8, retry_s=600)
    try:
        assert time.monotonic() - t0 < 2  # the page that made the engine never waits for Ray
        assert engine.state == "connecting" and "Connecting to the training cluster" in engine.notice
        job = engine.submit(request())
        assert job.wait(180) and job.state == "done", job.message
        assert job.where.startswith("this server (training process")
        wait_until(lambda: engine.state == "unavailable", 60, "the connect to give up")
        assert "could not be reached" in engine.reason or "did not answer" in engine.reason
        assert "unavailable since" in engine.notice and not RAY_INTERNALS.search(engine.notice.replace(
            "training cluster", ""))
    finally:
        engine.shutdown()


ray = need("ray", "Ray is not installed (pip install -r requirements-cluster.txt)")


@pytest.fixture
def head():
    h = Head(free_port())
    h.start()
    yield h
    h.stop()


def test_a_lost_cluster_ends_its_runs_plainly_new_runs_train_here_and_the_cluster_is_used_again(head, local):
    engine = ClusterEngine(f"127.0.0.1:{head.port}", heartbeat_timeout=600, local=local, retry_s=3,
                           connect_timeout_s=40)
    try:
        wait_until(lambda: engine.state == "connected", 60, f"the cluster ({engine.reason} {engine.details})")
        on_ray = engine.submit(request(epochs=200, n_train=2048, label="long"))
        wait_until(lambda: on_ray.latest() is not None, 120, "a batch on the cluster")
        assert on_ray.where.startswith("Ray node")
        head.stop()  # the school's IT restarts the head
        assert on_ray.wait(90), "the run on the lost cluster never ended"
        assert on_ray.state == "error"
        assert on_ray.message.startswith("The training cluster stopped answering at epoch ")
        assert "your curves so far are kept" in on_ray.message and not RAY_INTERNALS.search(
            on_ray.message.replace("training cluster", ""))
        assert on_ray.progress(), "its curves are kept"
        assert engine.state in ("unavailable", "connecting")
        here = engine.submit(request(label="meanwhile"))
        assert here.wait(180) and here.state == "done", here.message
        assert here.where.startswith("this server (training process")
        head.start()
        wait_until(lambda: engine.state == "connected", 120, "the cluster to be used again")
        back = engine.submit(request(label="back"))
        assert back.wait(180) and back.state == "done", back.message
        assert back.where.startswith("Ray node")
    finally:
        engine.shutdown()


def test_a_killed_driver_is_restarted_and_its_runs_end_plainly(head, local):
    engine = ClusterEngine(f"127.0.0.1:{head.port}", heartbeat_timeout=600, local=local, retry_s=1,
                           connect_timeout_s=40)
    try:
        wait_until(lambda: engine.state == "connected", 60, "the cluster")
        job = engine.submit(request(epochs=200, n_train=2048, label="long"))
        wait_until(lambda: job.latest() is not None, 120, "a batch on the cluster")
        first = engine.driver_pid()
        os.kill(first, signal.SIGKILL)
        assert job.wait(30) and job.state == "error"
        assert job.message.startswith("The training cluster stopped answering")
        wait_until(lambda: engine.state == "connected" and engine.driver_pid() not in (None, first), 90,
                   "a new driver")
        again = engine.submit(request(label="again"))
        assert again.wait(180) and again.state == "done" and again.where.startswith("Ray node"), again.message
    finally:
        engine.shutdown()


def test_a_head_with_token_authentication_trains_with_the_token_and_says_why_without(local, monkeypatch):
    token = "a" * 32
    h = Head(free_port(), env={"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
    h.start()
    try:
        monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
        monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
        without = ClusterEngine(f"127.0.0.1:{h.port}", heartbeat_timeout=600, local=local, retry_s=600,
                                connect_timeout_s=8)  # Ray logs the refusal at once, then retries for 20 s
        try:
            wait_until(lambda: without.state == "unavailable", 60, "the refusal")
            assert "authentication failed" in without.reason, (without.reason, without.details)
        finally:
            without.shutdown()
        monkeypatch.setenv("RAY_AUTH_MODE", "token")
        monkeypatch.setenv("RAY_AUTH_TOKEN", token)
        other = LocalEngine(limit=1, heartbeat_timeout=600, prestart=False)
        with_token = ClusterEngine(f"127.0.0.1:{h.port}", heartbeat_timeout=600, local=other, connect_timeout_s=40)
        try:
            wait_until(lambda: with_token.state == "connected", 60, f"the cluster ({with_token.details})")
            job = with_token.submit(request())
            assert job.wait(180) and job.state == "done" and job.where.startswith("Ray node"), job.message
        finally:
            with_token.shutdown()
    finally:
        h.stop()
