"""What every engine shares: the reaper sleeps until something is due, waiting pages wake at once, no engine polls."""
from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

from cnn import run_config, run_results
from cnn.jobs import JobRequest

from conftest import tiny_dataset
from paper_engine import PaperEngine

JOBS = Path(__file__).resolve().parents[3] / "cnn" / "jobs"


def request(label: str = "fast-mnist") -> JobRequest:
    config = run_config.TrainConfig(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.0)
    return JobRequest(config, tiny_dataset(n_train=32, n_test=8), label=label, owner="ana-id", owner_name="Ana")


def result() -> run_results.TrainResult:
    return run_results.TrainResult(model=object(), config=request().config, history={}, batch_history=[],
                                   test_loss=0.1, test_accuracy=0.9, seconds=1.0, epochs_done=1)


def test_the_reaper_sleeps_until_the_next_thing_is_due_and_does_it_then():
    engine = PaperEngine(heartbeat_timeout=600)
    try:
        assert 599 < engine._reap_due() <= 601  # nothing listed: a new job is due no sooner than a timeout
        polled = engine.submit(request())
        polled.last_seen = time.monotonic() - 590  # its page last asked 590 s ago: 10 s left
        assert 9 < engine._reap_due() < 11 and polled.stop_reason is None

        done = engine.submit(request())
        engine.finish(done, result=result())
        done.ended = time.time() - engine.keep_model_s + 4  # its model is dropped in 4 s
        assert 3 < engine._reap_due() < 5 and done.result.model is not None

        polled.last_seen = time.monotonic() - 601
        done.ended = time.time() - engine.keep_model_s - 1
        wait = engine._reap_due()
        assert polled.stop_reason == "abandoned" and polled.state == "cancelled"  # it was still queued
        assert done.result.model is None
        # asked to stop and model gone: neither is due again; the finished run is listed until history_s
        assert wait > 500

        done.ended = time.time() - engine.history_s - 1
        engine._reap_due()
        assert engine.get(done.id) is None and engine.get(polled.id) is polled
    finally:
        engine.shutdown()


def test_shutdown_wakes_the_reaper_at_once():
    engine = PaperEngine(heartbeat_timeout=3600)
    engine.shutdown()
    engine._reaper.join(timeout=5)
    assert not engine._reaper.is_alive()


def test_a_page_waiting_for_the_first_batch_wakes_when_the_run_ends_not_at_its_next_poll():
    engine = PaperEngine()
    try:
        job = engine.submit(request())
        answered: list[bool] = []
        waiter = threading.Thread(target=lambda: answered.append(job.wait_for_progress(3600)))
        waiter.start()
        engine.finish(job, error="no data")
        waiter.join(timeout=10)
        assert answered == [True]
    finally:
        engine.shutdown()


def test_no_engine_sleeps_in_a_loop():
    """Engines wait on events, conditions and Ray's futures; a time.sleep in cnn/jobs is a poll in disguise."""
    found = []
    for path in sorted(JOBS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sleep":
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"sleeping loops: {found}"
