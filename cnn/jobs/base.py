"""What every engine shares: the request, the job handle, the registry, heartbeats and endings.

A :class:`Job` is plain data that the engine's threads update and pages read: state, progress
events, place in queue, result or error. How the job ends is decided here, once for every
engine: a stop asked for by the student, by the teacher or by a heartbeat that stopped coming
(the tab was closed) each gets its own message.
"""
from __future__ import annotations

import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from cnn import settings
from cnn.data import Dataset
from cnn.errors import LabError
from cnn.i18n import M_
from cnn.jobs.endings import FAILED, cancel_message, stop_message
from cnn.run_config import TrainConfig
from cnn.run_results import Progress, RunHistory, TrainResult

ACTIVE = ("queued", "running")
FINISHED = ("done", "error", "cancelled")
STOP_REASONS = ("user", "teacher", "abandoned", "shutdown")


def max_jobs_default() -> int:
    """``$CNN_MAX_JOBS`` or the number of CPU cores."""
    return settings.value("CNN_MAX_JOBS")


def heartbeat_timeout_default() -> float:
    """``$CNN_HEARTBEAT_S`` (seconds without any page of the session polling), default 60."""
    return settings.value("CNN_HEARTBEAT_S")


class EngineError(LabError, RuntimeError):
    """An engine could not be started or reached; the message says why."""


@dataclass
class JobRequest:
    """What to train and for whom. Everything in it travels to the worker (pickled)."""

    config: TrainConfig
    dataset: Dataset
    label: str = ""
    owner: str = ""  # the browser session's owner id
    owner_name: str = ""  # the student's display name, if any
    initial_model: bytes | None = None  # a .keras file to start from (transfer learning)
    evaluate: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # plain facts for listings (e.g. the lesson)
    dataset_key: str = ""  # the dataset's fingerprint, set by an engine that sends each dataset to a worker once




class Job:
    """One training run as pages see it: plain data, updated in place by the engine."""

    def __init__(self, request: JobRequest, engine: Engine):
        cfg = request.config
        self.id = uuid.uuid4().hex[:12]
        self.label = request.label or f"{cfg.arch}-{cfg.dataset}"
        self.owner, self.owner_name = request.owner, request.owner_name
        self.dataset, self.arch, self.epochs = cfg.dataset, cfg.arch, cfg.epochs
        self.extra = dict(request.extra)
        self.state = "queued"  # queued | running | done | error | cancelled
        self.history = RunHistory()  # its progress, bounded however long it runs
        self.result: TrainResult | None = None
        self.error = ""
        self.message = ""  # how it ended, in words
        self.stop_reason: str | None = None
        self.where = ""  # which worker or machine runs it
        self.note = ""  # what a queued job waits for, when not for a place in the queue ("starting a worker…")
        self.worker_pid: int | None = None
        self.prepare_key = ""  # which prepared model it could start from (cnn.training.prepare_key), if any
        self.submitted = time.time()
        self.started: float | None = None
        self.ended: float | None = None
        self.last_seen = time.monotonic()
        self._engine = engine
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)  # a new progress event
        self._done = threading.Event()

    # ------------------------------------------------------------ read by pages

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def place(self) -> int:
        """0 while running or finished, else the 1-based place in the queue."""
        return self._engine.place(self) if self.state == "queued" else 0

    def progress(self, seen: int = 0) -> list[Progress]:
        """The progress events after the first ``seen`` (the newest thousand at most: see RunHistory)."""
        with self._lock:
            return self.history.since(seen)

    def event_count(self) -> int:
        with self._lock:
            return self.history.count

    def curves(self) -> tuple[dict[str, list[float]], list[dict[str, float]]]:
        """(epoch history, batch points) so far: what the live chart draws and the class database keeps."""
        with self._lock:
            return self.history.curves()

    def epoch_events(self) -> list[Progress]:
        with self._lock:
            return list(self.history.epochs)

    def latest(self) -> Progress | None:
        """The newest batch or epoch event, if any."""
        with self._lock:
            return self.latest_locked()

    def accuracy(self) -> float | None:
        """Accuracy so far: test accuracy when done, else the latest running training accuracy."""
        if self.result is not None and not math.isnan(self.result.test_accuracy):
            return self.result.test_accuracy
        last = self.latest()
        return last.logs.get("accuracy") if last else None

    def wait_seconds(self) -> float:
        """How long it waited for a slot (so far, when still queued)."""
        end = self.started or (time.time() if self.state == "queued" else self.ended or time.time())
        return max(0.0, end - self.submitted)

    # ------------------------------------------------------------ called by pages

    def touch(self) -> None:
        """A heartbeat: some page of the owning session is open."""
        self.last_seen = time.monotonic()

    def stop(self, reason: str = "user") -> None:
        """End the run after its current batch (keeping the model so far), or drop it from the queue."""
        self._engine.stop(self, reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (tests, command line); True if it has."""
        return self._done.wait(timeout)

    def wait_for_progress(self, timeout: float) -> bool:
        """Block until the run has shown a batch or an epoch, or has ended, at most ``timeout`` seconds: a page
        drawing a run that just started shows its first batch the moment it comes, not at its next poll. True if
        there is something to show."""
        deadline = time.monotonic() + timeout
        with self._news:
            while self.latest_locked() is None and not self.finished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._news.wait(left)  # woken by each event and by the run's end
        return True

    def latest_locked(self) -> Progress | None:
        return self.history.last

    def release_model(self) -> None:
        """Drop the engine's reference to the trained model once its owner has taken it."""
        if self.result is not None:
            self.result.model = None

    # ------------------------------------------------------------ called by engines

    def add_event(self, event: Progress) -> None:
        with self._news:
            self.history.add(event)
            self._news.notify_all()


def _log_finished(job: Job) -> None:
    """With ``$CNN_JOBS_LOG`` set, one JSON line per finished job (for a server's records and benchmarks)."""
    path = settings.value("CNN_JOBS_LOG")
    if not path:
        return
    started, ended = job.started or job.ended, job.ended or time.time()
    line = {"id": job.id, "label": job.label, "owner_name": job.owner_name, "dataset": job.dataset,
            "arch": job.arch, "state": job.state, "stop_reason": job.stop_reason, "where": job.where,
            "wait_s": round(job.wait_seconds(), 3), "run_s": round(max(0.0, ended - started), 3),
            "submitted": job.submitted, "message": job.message}
    try:
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")
    except OSError:
        pass  # a log that cannot be written never stops a class


class JobListener(Protocol):
    """Told of every job of an engine as it starts and ends (:class:`cnn.jobs.records.Recorder` keeps them in
    the class database): the engine knows only this, not who listens."""

    server: str  # the server's id among the class's servers

    def attach(self, engine: Engine) -> None: ...

    def submitted(self, job: Job, request: JobRequest) -> None:
        """Before the job is queued; may change ``job.label`` (labels are unique in the class)."""

    def finished(self, job: Job) -> None: ...

    def close(self, restarting: bool = True) -> None: ...


class Engine:
    """The shared part of every engine: the registry of jobs, heartbeats, and how jobs end.

    Subclasses implement ``_enqueue`` (start or queue a job), ``_cancel_queued`` (drop a job that has
    not started; True if it was still waiting), ``_interrupt`` (ask a running job to stop), ``place``,
    ``capacity`` and ``shutdown``.
    """

    name = "engine"
    history_s = 6 * 3600.0  # finished jobs stay listed (Class page) this long
    keep_model_s = 600.0  # ... but the engine drops their models after this long

    def __init__(self, heartbeat_timeout: float | None = None):
        self.heartbeat_timeout = heartbeat_timeout or heartbeat_timeout_default()
        self.notice = ""  # something the pages should tell (e.g. a cluster that could not be reached)
        self.closed = False
        self.recorder: JobListener | None = None  # keeps the jobs in the class database (see record_to)
        self.owner: Engine | None = None  # the engine this one trains for (see report_to)
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._closing = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="jobs-heartbeat", daemon=True)
        self._reaper.start()

    # ------------------------------------------------------------ the interface

    def record_to(self, recorder: JobListener) -> Engine:
        """Keep every job of this engine in the class database from now on (:mod:`cnn.jobs.records`)."""
        self.recorder = recorder
        recorder.attach(self)
        return self

    def report_to(self, owner: Engine) -> Engine:
        """Train for ``owner`` from now on: the jobs it hands over (:meth:`enqueue`) start and end as its own, with
        its records and messages (a cluster engine's local fallback)."""
        self.owner = owner
        return self

    def enqueue(self, job: Job, request: JobRequest) -> None:
        """Start or queue a job another engine owns (see report_to)."""
        self._enqueue(job, request)

    def cancel_queued(self, job: Job) -> bool:
        """Drop a handed-over job that has not started; True if it was still waiting."""
        return self._cancel_queued(job)

    def interrupt(self, job: Job) -> None:
        """Ask a handed-over running job to stop after its current batch."""
        self._interrupt(job)

    def submit(self, request: JobRequest) -> Job:
        """Queue a training run; returns its handle at once."""
        if self.closed:
            raise EngineError("The training engine has been shut down.")
        job = Job(request, self)
        if self.recorder is not None:
            self.recorder.submitted(job, request)  # the label becomes unique in the class
        with self._jobs_lock:
            self._jobs[job.id] = job
        self._enqueue(job, request)
        return job

    def prepare(self, config: TrainConfig, dataset: Dataset) -> None:
        """A hint from the Train page: the run it shows may start soon. An engine with idle workers can take its
        dataset and build, compile and trace its model now (:func:`cnn.training.prepare`); the default does
        nothing."""

    def wait_warm(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until a first worker is ready to train: the web server puts off its own
        import of TensorFlow till then, so that they do not share the CPUs (True when ready; the default has no
        workers of its own to wait for)."""
        return True

    def jobs(self) -> list[Job]:
        """Every job of this server still listed, oldest first."""
        with self._jobs_lock:
            return sorted(self._jobs.values(), key=lambda j: j.submitted)

    def get(self, job_id: str) -> Job | None:
        with self._jobs_lock:
            return self._jobs.get(job_id)

    def stop(self, job: Job, reason: str = "user") -> None:
        """Stop a job: drop it from the queue, or interrupt it after its current batch."""
        if reason not in STOP_REASONS:
            raise ValueError(f"unknown stop reason {reason!r}")
        if job.finished:
            return
        if job.stop_reason is None:
            job.stop_reason = reason
        if job.state == "queued" and self._cancel_queued(job):
            self.finish(job, cancelled=True)
        else:
            self._interrupt(job)

    def place(self, job: Job) -> int:
        raise NotImplementedError

    def capacity(self) -> dict[str, Any]:
        """{"limit", "running", "waiting", "where"}: the queue as the Class page shows it."""
        raise NotImplementedError

    def shutdown(self) -> None:
        self.closed = True
        self._closing.set()
        if self.recorder is not None:
            self.recorder.close(restarting=True)

    # ------------------------------------------------------------ for subclasses

    def _enqueue(self, job: Job, request: JobRequest) -> None:
        raise NotImplementedError

    def _cancel_queued(self, job: Job) -> bool:
        raise NotImplementedError

    def _interrupt(self, job: Job) -> None:
        raise NotImplementedError

    def mark_running(self, job: Job, where: str, pid: int | None = None) -> None:
        if self.owner is not None:
            self.owner.mark_running(job, where, pid)
            return
        job.where, job.worker_pid = where, pid
        job.started = job.started or time.time()
        job.state = "running"

    def finish(self, job: Job, result: TrainResult | None = None, error: str = "", cancelled: bool = False) -> None:
        """Record how a job ended (exactly once) and wake anyone waiting on it."""
        if self.owner is not None:
            self.owner.finish(job, result, error, cancelled)
            return
        with job._lock:
            if job.finished:
                return
            job.ended = time.time()
            if cancelled:
                job.state = "cancelled"
                job.message = cancel_message(job.stop_reason, self.heartbeat_timeout)
            elif result is not None:
                if result.status == "stopped":
                    result.message = stop_message(job.stop_reason, result.stopped_at, self.heartbeat_timeout)
                job.result, job.message, job.state = result, result.message, "done"
            else:
                job.error = job.message = error or M_(FAILED)
                job.state = "error"
            job._news.notify_all()  # whoever waits for progress sees the ending at once
        if self.recorder is not None:
            self.recorder.finished(job)
        job._done.set()
        _log_finished(job)

    def _reap(self) -> None:
        """Stop jobs whose session stopped polling; forget old finished jobs and their models. Sleeps until the
        next of these is due (or shutdown), never longer than a heartbeat timeout: a new job is due no sooner."""
        while not self.closed:
            self._closing.wait(self._reap_due())

    def _reap_due(self) -> float:
        """Do what is due now; return the seconds until the next thing is."""
        now, wall = time.monotonic(), time.time()
        due = [self.heartbeat_timeout]
        for job in self.jobs():
            if not job.finished:
                if job.stop_reason is None:  # not yet asked to stop
                    left = job.last_seen + self.heartbeat_timeout - now
                    if left < 0:
                        self.stop(job, "abandoned")
                    else:
                        due.append(left)
            elif job.ended is not None:
                if job.result is not None and job.result.model is not None:
                    left = job.ended + self.keep_model_s - wall
                    if left < 0:
                        job.release_model()
                    else:
                        due.append(left)
                left = job.ended + self.history_s - wall
                if left < 0:
                    with self._jobs_lock:
                        self._jobs.pop(job.id, None)
                else:
                    due.append(left)
        return max(0.05, min(due) + 0.01)
