"""cnn.jobs: the server-wide limit on concurrent training, queue places, abandoned jobs."""
import threading
import time

from cnn import jobs
from cnn.training import TrainConfig, TrainingError


def fake_runner(record, hold_s=0.3):
    lock = threading.Lock()

    def run(config, dataset, on_progress=None, should_stop=None):
        with lock:
            record["now"] += 1
            record["max"] = max(record["max"], record["now"])
        t0 = time.monotonic()
        while time.monotonic() - t0 < hold_s and not (should_stop and should_stop()):
            time.sleep(0.01)
        with lock:
            record["now"] -= 1
        record["stopped"] = bool(should_stop and should_stop())
        return "result"

    return run


def test_limit_holds_with_many_concurrent_requests():
    record = {"now": 0, "max": 0}
    queue = jobs.JobQueue(limit=2)
    started = [jobs.TrainingJob(TrainConfig(), queue=queue, runner=fake_runner(record)).start() for _ in range(6)]
    time.sleep(0.1)
    places = sorted(j.snapshot()[2] for j in started)
    assert places == [0, 0, 1, 2, 3, 4]  # two running, four waiting in order
    for j in started:
        j.join(10)
    assert record["max"] == 2 and all(j.state == "done" for j in started)
    assert queue.running == 0 and queue.waiting == 0


def test_abandoned_job_stops_and_frees_its_slot():
    record = {"now": 0, "max": 0}
    queue = jobs.JobQueue(limit=1)
    job = jobs.TrainingJob(TrainConfig(), queue=queue, runner=fake_runner(record, hold_s=30),
                           heartbeat_timeout=0.2).start()
    job.join(5)
    assert job.state == "done" and record["stopped"] and queue.running == 0


def test_stop_ends_a_running_job():
    record = {"now": 0, "max": 0}
    job = jobs.TrainingJob(TrainConfig(), queue=jobs.JobQueue(1), runner=fake_runner(record, hold_s=30)).start()
    time.sleep(0.05)
    job.stop()
    job.join(5)
    assert job.finished and record["stopped"]


def test_errors_become_messages_and_free_the_slot():
    queue = jobs.JobQueue(1)

    def bad(*a, **k):
        raise TrainingError("Batch size 10 is larger than the 5 training images")

    def crash(*a, **k):
        raise RuntimeError("boom")

    j1 = jobs.TrainingJob(TrainConfig(), queue=queue, runner=bad).start()
    j1.join(5)
    j2 = jobs.TrainingJob(TrainConfig(), queue=queue, runner=crash).start()
    j2.join(5)
    assert j1.state == "error" and "larger than" in j1.error
    assert j2.state == "error" and "boom" in j2.error and queue.running == 0


def test_default_limit_is_cpu_count(monkeypatch):
    monkeypatch.setenv("CNN_MAX_JOBS", "3")
    assert jobs.max_jobs_default() == 3
    monkeypatch.setenv("CNN_MAX_JOBS", "nonsense")
    assert jobs.max_jobs_default() >= 1
