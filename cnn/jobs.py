"""Training jobs shared by everyone on one server: a queue with a limit on concurrent runs.

A page starts a :class:`TrainingJob`; the job waits for a slot, trains in its own thread and
publishes plain progress data that the page's script thread polls and renders (only the
script thread calls Streamlit). A job whose page stops polling (tab closed) stops itself
after ``heartbeat_timeout`` seconds and frees its slot.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from cnn.training import Progress, TrainConfig, TrainingError, TrainResult, train


def max_jobs_default() -> int:
    """``$CNN_MAX_JOBS`` or the number of CPU cores."""
    try:
        return max(1, int(os.environ.get("CNN_MAX_JOBS", "")))
    except ValueError:
        return max(1, os.cpu_count() or 1)


class JobQueue:
    """First-come first-served slots: at most ``limit`` jobs run at once."""

    def __init__(self, limit: int | None = None):
        self.limit = limit or max_jobs_default()
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._waiting: list[int] = []

    def position(self, ticket: int) -> int:
        """0 when running, else 1-based place in the queue (-1 when unknown)."""
        with self._cond:
            if ticket in self._running:
                return 0
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else -1

    def acquire(self, ticket: int, cancelled: Callable[[], bool], poll_s: float = 0.2) -> bool:
        """Wait for a slot in arrival order; False if cancelled while waiting."""
        with self._cond:
            self._waiting.append(ticket)
            try:
                while not (len(self._running) < self.limit and self._waiting[0] == ticket):
                    if cancelled():
                        return False
                    self._cond.wait(poll_s)
                self._running.add(ticket)
                return True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self, ticket: int) -> None:
        with self._cond:
            self._running.discard(ticket)
            self._cond.notify_all()

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


QUEUE = JobQueue()  # one per server process: Streamlit serves every session from one process
_tickets = iter(range(1, 1 << 62))
_ticket_lock = threading.Lock()


@dataclass
class TrainingJob:
    """One training run in a background thread; the page polls :meth:`snapshot`."""

    config: TrainConfig
    dataset: Any = None
    queue: JobQueue = field(default_factory=lambda: QUEUE)
    heartbeat_timeout: float = 60.0
    runner: Callable[..., TrainResult] = train
    model: Any = None  # a prepared model (transfer learning); None builds one from the config

    def __post_init__(self):
        with _ticket_lock:
            self.ticket = next(_tickets)
        self.state = "queued"  # queued | running | done | error | cancelled
        self.progress: list[Progress] = []
        self.result: TrainResult | None = None
        self.error = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_poll = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"train-{self.ticket}", daemon=True)

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end after the current batch (weights and curves so far are kept)."""
        self._stop.set()

    def _abandoned(self) -> bool:
        return time.monotonic() - self._last_poll > self.heartbeat_timeout

    def _should_stop(self) -> bool:
        if self._abandoned():
            self._stop.set()
        return self._stop.is_set()

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self.progress.append(p)

    def _run(self) -> None:
        if not self.queue.acquire(self.ticket, self._should_stop):
            self.state = "cancelled"
            return
        self.state = "running"
        try:
            extra = {"model": self.model} if self.model is not None else {}
            self.result = self.runner(self.config, self.dataset, on_progress=self._on_progress,
                                      should_stop=self._should_stop, **extra)
            self.state = "done"
        except TrainingError as e:
            self.error, self.state = str(e), "error"
        except MemoryError:
            self.error, self.state = "Training ran out of memory; use a smaller batch size or model.", "error"
        except Exception as e:  # shown on the page as a message; the server keeps going
            traceback.print_exc()
            first = str(e).splitlines()[0][:300] if str(e) else ""
            self.error, self.state = f"Training failed: {type(e).__name__}: {first}", "error"
        finally:
            self.queue.release(self.ticket)

    def snapshot(self) -> tuple[str, list[Progress], int]:
        """(state, progress events so far, place in queue); also counts as a heartbeat."""
        self._last_poll = time.monotonic()
        with self._lock:
            events = list(self.progress)
        return self.state, events, self.queue.position(self.ticket)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error", "cancelled")

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
