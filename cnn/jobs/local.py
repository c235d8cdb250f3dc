"""The default engine: worker processes on this machine, fed by one first-come queue.

Nothing to install or start. At most ``limit`` jobs (``CNN_MAX_JOBS``, default the number of
cores) train at once, each in its own process (``python -m cnn.jobs.worker``), so training never
competes with the app's script threads for Python's GIL. A worker that dies (killed, out of
memory) turns its job into a clear error, and a fresh worker takes its slot for the next job.
"""
from __future__ import annotations

import collections
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cnn import settings
from cnn.data import Dataset
from cnn.i18n import M_, N_, n_
from cnn.jobs.base import Engine, EngineError, Job, JobRequest, max_jobs_default
from cnn.jobs.channel import (
    Channel,
    ChannelError,
    Envelope,
    Exit,
    Failed,
    Finished,
    Prepare,
    Ready,
    Reported,
    Run,
    Started,
    Stop,
)
from cnn.jobs.endings import DIED, ON_LOCAL_WORKER
from cnn.jobs.worker import DatasetsSent, unpack
from cnn.run_config import TrainConfig
from cnn.training import prepare_key

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0  # importing TensorFlow in a new process on a busy machine
FIRST_WORKER_S = 60.0  # a fresh server's other workers start once the first is ready, or after this long
FIRST_FED_S = 3.0  # ... and the server's own TensorFlow import waits this long more for the first worker's dataset
SHUTDOWN_GRACE_S = 10.0  # how long running jobs get to stop after their current batch when the server stops
SHUT_DOWN = N_("The CNN Lab server is shutting down, so this run was stopped before it finished.")
NOT_RECEIVED = N_("The trained model could not be received: {error}")


def worker_env(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment for a process this server starts: its own without any ``CNN_*`` variable or secret, the
    settings a worker needs (:func:`cnn.settings.worker_env`, as a Ray task gets them), the variables in ``keep``,
    and the project on PYTHONPATH."""
    env = settings.worker_env(dict(os.environ))
    env.update({k: os.environ[k] for k in keep if k in os.environ})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class _Worker:
    """One worker process and the channel to it."""

    command = (sys.executable, "-m", "cnn.jobs.worker")

    def __init__(self) -> None:
        mine, theirs = socket.socketpair()
        env = {**worker_env(), "CNN_WORKER_FD": str(theirs.fileno())}
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(list(self.command), cwd=ROOT, env=env, pass_fds=[theirs.fileno()],
                                     stdin=subprocess.DEVNULL)
        theirs.close()
        self.channel = Channel(Connection(mine.detach()), "a training worker")
        self.datasets = DatasetsSent()  # what it holds
        if not self.channel.poll(START_TIMEOUT_S):
            self.kill()
            raise EngineError("A training worker did not start within two minutes.")
        try:
            ready = self.channel.expect(Ready)
        except (EOFError, OSError):
            self.kill()
            raise EngineError("A training worker failed to start (see the server log).") from None
        except ChannelError:
            self.kill()
            raise
        self.pid, self.device = ready.pid, ready.device
        self.ready = time.monotonic()

    def send(self, message: Envelope) -> None:
        self.channel.send(message)

    def run_message(self, job: Job, request: JobRequest) -> Run:
        """The Run message: with its dataset the first time, then with only the dataset's fingerprint."""
        return Run(job.id, self.datasets.request(request))

    def prepare_message(self, hint: tuple) -> Prepare:
        """The Prepare message: the run's config and shapes, and its dataset if the worker does not hold it."""
        config, dataset = hint
        key, held = self.datasets.sending(dataset)
        shapes = (config, tuple(dataset.image_shape), int(dataset.num_classes), len(dataset.train_images))
        return Prepare(shapes, None if held else dataset, key)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(OSError):
            self.channel.close()


class LocalEngine(Engine):
    """Worker processes on this machine; see the module docstring."""

    name = "local worker processes"

    def __init__(self, limit: int | None = None, heartbeat_timeout: float | None = None, prestart: bool = True):
        super().__init__(heartbeat_timeout)
        self.limit = limit or max_jobs_default()
        self._cond = threading.Condition()
        self._waiting: collections.deque[tuple[Job, JobRequest]] = collections.deque()
        self._running: dict[str, _Slot] = {}
        self._hint: tuple | None = None  # the newest run a Train page shows ready (see prepare)
        self._hint_key = ""  # its prepare_key
        self._hint_seq = 0
        self._hint_taken = 0  # the newest hint one idle slot took (one worker prepares each hint)
        # A fresh server's workers start one after the other: the first is ready sooner (on 2 cores, two importing
        # TensorFlow at once each took as long as the two in a row), and a student's first Train waits for one.
        self._first_ready = threading.Event()
        self._first_fed = threading.Event()  # ... and has been sent its first dataset (a page's hint or a run)
        self._slots = [_Slot(self, i, prestart) for i in range(self.limit)]
        for slot in self._slots:
            slot.start()

    def wait_warm(self, timeout: float) -> bool:
        if not self._first_ready.wait(timeout):
            return False
        # The first Train page's hint sends that worker its dataset (55 MB for MNIST) right away: pickled here while
        # the server imported TensorFlow, it reached the worker 0.9 s after the worker was ready
        self._first_fed.wait(FIRST_FED_S)
        return True

    def _enqueue(self, job: Job, request: JobRequest) -> None:
        if request.dataset is not None and not request.initial_model:  # which prepared model it could use
            job.prepare_key = prepare_key(request.config, request.dataset.image_shape, request.dataset.num_classes,
                                          len(request.dataset.train_images))
        with self._cond:
            self._waiting.append((job, request))
            self._cond.notify_all()

    def prepare(self, config: TrainConfig, dataset: Dataset) -> None:
        """One idle worker takes this run's dataset and builds, compiles and traces its model now (only the newest
        hint counts); the run goes to that worker when it is free."""
        key = prepare_key(config, dataset.image_shape, dataset.num_classes, len(dataset.train_images))
        with self._cond:
            self._hint, self._hint_key = (config, dataset), key
            self._hint_seq += 1
            self._cond.notify_all()

    def _next(self, slot: _Slot) -> tuple[Job, JobRequest] | tuple[str, tuple] | None:
        """Block until a job is waiting (first come, first served; a job another idle slot's worker has prepared is
        left to that slot), or a hint no slot has taken yet to prepare for while idle; None on shutdown."""
        with self._cond:
            slot.idle = True
            try:
                while not self.closed:
                    if self._waiting:
                        key = self._waiting[0][0].prepare_key
                        if key and slot.prepared != key and any(
                                s.idle and s.prepared == key for s in self._slots if s is not slot):
                            self._cond.wait(1.0)  # the slot whose worker has this model ready takes it (woken with us)
                            continue
                        job, request = self._waiting.popleft()
                        job.started = time.time()  # left the queue: its wait ends here, in arrival order
                        self._running[job.id] = slot
                        return job, request
                    if self._hint_taken < self._hint_seq and slot.prepared != self._hint_key:
                        # a slot holding this model ready already leaves the hint to another: a second page with
                        # the same settings (a second tab, a neighbour) then finds a worker ready too
                        self._hint_taken = self._hint_seq
                        return ("prepare", self._hint)
                    self._cond.wait(1.0)
                return None
            finally:
                slot.idle = False

    def finish(self, job: Job, result=None, error: str = "", cancelled: bool = False) -> None:
        """A run ended: its slot counts as free before anyone waiting on the run wakes (capacity() said "1 running"
        for a moment after a run ended, until its slot thread went on)."""
        with self._cond:
            self._running.pop(job.id, None)
        super().finish(job, result, error, cancelled)

    def _done(self, job: Job) -> None:
        """A run ended: its slot is free, and the page's settings are prepared again for the next press (a second
        try, a new seed after Stop) unless a worker holds them ready already."""
        with self._cond:
            self._running.pop(job.id, None)
            if self._hint is not None and not any(s.prepared == self._hint_key for s in self._slots):
                self._hint_taken = min(self._hint_taken, self._hint_seq - 1)
                self._cond.notify_all()

    def _cancel_queued(self, job: Job) -> bool:
        with self._cond:
            for item in self._waiting:
                if item[0] is job:
                    self._waiting.remove(item)
                    return True
        return False

    def _interrupt(self, job: Job) -> None:
        with self._cond:
            slot = self._running.get(job.id)
        if slot is not None:
            slot.interrupt()

    def place(self, job: Job) -> int:
        with self._cond:
            for i, (waiting, _) in enumerate(self._waiting):
                if waiting is job:
                    return i + 1
        return 0

    def capacity(self) -> dict[str, Any]:
        with self._cond:
            return {"limit": self.limit, "running": len(self._running), "waiting": len(self._waiting),
                    "where": n_("{n} worker process on this machine", "{n} worker processes on this machine",
                                self.limit)}

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and the benchmark)."""
        return [s.worker.pid for s in self._slots if s.worker is not None and s.worker.alive()]

    def shutdown(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Stop cleanly: queued runs are cancelled, running ones asked to stop (they end with "the server was shut
        down" and their curves), then each worker is told to exit, waited for, and only then killed."""
        super().shutdown()
        with self._cond:
            waiting = list(self._waiting)
            self._waiting.clear()
            self._cond.notify_all()
            running = [slot._job for slot in self._slots if slot._job is not None and not slot._job.finished]
        for job, _request in waiting:
            job.stop_reason = job.stop_reason or "shutdown"
            self.finish(job, cancelled=True)
        for job in running:
            job.stop_reason = job.stop_reason or "shutdown"
            self._interrupt(job)
        deadline = time.monotonic() + grace_s
        for job in running:
            job.wait(max(0.0, deadline - time.monotonic()))
        for slot in self._slots:
            slot.close(max(0.5, deadline - time.monotonic()))
        for slot in self._slots:
            if slot is not threading.current_thread():
                slot.join(timeout=2.0)


class _Slot(threading.Thread):
    """One place to train: takes the next job, hands it to its worker, relays what comes back."""

    def __init__(self, engine: LocalEngine, index: int, prestart: bool):
        super().__init__(name=f"jobs-slot-{index}", daemon=True)
        self.engine, self.index = engine, index
        self.worker: _Worker | None = None
        self.prestart = prestart
        self._job: Job | None = None
        self.idle = False  # waiting in the engine's _next
        self.prepared = ""  # the key of the model its worker was last asked to prepare (cnn.training.prepare_key)

    def _ensure_worker(self) -> _Worker:
        if self.worker is None or not self.worker.alive():
            if self.worker is not None:
                self.worker.kill()
            self.worker = None
            self.worker = _Worker()
        return self.worker

    def interrupt(self) -> None:
        worker = self.worker
        if worker is not None:
            with contextlib.suppress(OSError):  # the worker is gone: run() reports it
                worker.send(Stop())

    def close(self, timeout: float = 2.0) -> None:
        """Tell the worker to exit, wait for it a moment, then kill it."""
        worker = self.worker
        if worker is None:
            return
        with contextlib.suppress(OSError):
            worker.send(Exit())
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            worker.proc.wait(timeout)
        worker.kill()

    def run(self) -> None:
        if self.prestart:
            if self.index:  # after the first slot's worker (see LocalEngine.__init__)
                self.engine._first_ready.wait(FIRST_WORKER_S)
            with contextlib.suppress(EngineError):  # tried again, with a message, when a job needs it
                self._ensure_worker()
        self.engine._first_ready.set()  # (without prestart: nothing to wait for)
        while not self.engine.closed:
            item = self.engine._next(self)
            if item is None:
                return
            if item[0] == "prepare":
                with contextlib.suppress(EngineError, OSError):  # a hint only: the run itself reports problems
                    worker = self._ensure_worker()
                    message = worker.prepare_message(item[1])
                    worker.send(message)
                    self.engine._first_fed.set()
                    self.prepared = prepare_key(*message.shapes)
                continue
            job, request = item
            self._job = job
            try:
                self._train(job, request)
            finally:
                self._job = None
                self.engine._done(job)

    def _train(self, job: Job, request: JobRequest) -> None:
        try:
            worker = self._ensure_worker()
        except EngineError as e:
            self.engine.finish(job, error=str(e))
            return
        try:
            worker.send(worker.run_message(job, request))
            self.engine._first_fed.set()
            self.prepared = ""  # a worker's prepared model serves one run, or none
            if job.stop_reason:  # stopped while being handed over
                worker.send(Stop())
            while True:
                message = worker.channel.expect(Started, Reported, Finished, Failed)
                if isinstance(message, Started):
                    self.engine.mark_running(job, M_(ON_LOCAL_WORKER, pid=worker.pid), worker.pid)
                elif isinstance(message, Reported):
                    job.add_event(message.event)
                elif isinstance(message, Finished):
                    self.engine.finish(job, result=unpack(message.payload))
                    return
                else:
                    self.engine.finish(job, error=message.error)
                    return
        except ChannelError as e:  # another version of CNN Lab at the other end: said plainly, a fresh worker next
            worker.kill()
            self.worker = None
            self.engine.finish(job, error=str(e))
        except (EOFError, OSError, ConnectionError):
            worker.kill()
            self.worker = None
            self.engine.finish(job, error=M_(SHUT_DOWN if self.engine.closed else DIED))
        except Exception as e:  # unpacking the result failed: still a message, and the slot lives on
            self.engine.finish(job, error=M_(NOT_RECEIVED, error=f"{type(e).__name__}: {e}"))
