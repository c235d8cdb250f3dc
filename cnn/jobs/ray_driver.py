"""The Ray driver process: the only process of CNN Lab that talks to a Ray cluster.

``python -m cnn.jobs.ray_driver`` is started and supervised by :class:`cnn.jobs.cluster.ClusterEngine`
in the web server, and speaks to it over a :class:`~cnn.jobs.channel.Channel` (the messages of a local
worker, and the cluster's own: Connected, Refused, Lost, Pong). Whatever Ray does when its cluster goes
away (raise, hang, or end the process after a minute), it does it here, never in the web server. A lost
cluster is a Lost message, then this process exits; the supervisor tells the students in plain words and
starts a new driver later.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import replace
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn import settings
from cnn.i18n import M_
from cnn.jobs.base import EngineError, Job
from cnn.jobs.channel import (
    Cancelled,
    Channel,
    ChannelError,
    Connected,
    Envelope,
    Exit,
    Failed,
    Finished,
    Lost,
    Ping,
    Pong,
    Refused,
    Reported,
    Run,
    Started,
    Stop,
)
from cnn.jobs.endings import DIED
from cnn.jobs.ray_cluster import RayEngine
from cnn.jobs.worker import Datasets


class DriverEngine(RayEngine):
    """A RayEngine whose starts, progress and endings go to the web server as messages instead of into local Job
    objects."""

    def __init__(self, address: str, channel: Channel) -> None:
        self._channel = channel
        self._sent: dict[str, int] = {}  # job id -> progress events already sent
        self._flush_lock = threading.Lock()
        super().__init__(address, heartbeat_timeout=10**9)

    def _send(self, message: Envelope) -> None:
        try:
            self._channel.send(message)
        except OSError:
            os._exit(0)  # the web server is gone

    def flush(self, job: Job) -> None:
        """Send the job's progress events the web server has not had yet (in order, each once)."""
        with self._flush_lock:
            count = job.event_count()
            for e in job.progress(self._sent.get(job.id, 0)):
                self._send(Reported(job.id, e))
            self._sent[job.id] = count

    def _progressed(self, job: Job) -> None:
        self.flush(job)  # as soon as the board had news

    def mark_running(self, job: Job, where: str, pid: int | None = None) -> None:
        super().mark_running(job, where, pid)
        self._send(Started(job.id, where, pid))

    def _unpack(self, payload: dict[str, Any]) -> Any:
        return payload  # the web server loads the model (safe mode); here it is only bytes

    def cluster_alive(self, timeout: float = 5.0) -> bool:
        """Does the cluster still answer (its head lists a live machine) within ``timeout``? A dead head makes
        Ray's calls hang, so the question is asked from a thread that may be abandoned."""
        answer: list[bool] = []

        def ask() -> None:
            with contextlib.suppress(Exception):
                answer.append(any(n.get("Alive") for n in self._ray.nodes()))

        t = threading.Thread(target=ask, daemon=True)
        t.start()
        t.join(timeout)
        return bool(answer and answer[0])

    def cluster_lost(self, rj=None, details: str = "") -> None:
        """The cluster is gone: the web server hears it (and ends every run of this driver in plain words)."""
        self._send(Lost(details))
        os._exit(3)

    def finish(self, job: Job, result=None, error: str = "", cancelled: bool = False) -> None:
        if error == M_(DIED) and not self.cluster_alive():
            self.cluster_lost(details="the machine running it and the cluster's head stopped answering")
        with job._lock:
            if job.finished:
                return
            job.state = "done"
        job._done.set()
        self.flush(job)  # every event before the ending
        with self._flush_lock:
            self._sent.pop(job.id, None)
        with self._jobs_lock:
            self._jobs.pop(job.id, None)
        if cancelled:
            self._send(Cancelled(job.id))
        elif result is not None:
            self._send(Finished(job.id, result))
        else:
            self._send(Failed(job.id, error))


def main() -> None:  # pragma: no cover - runs in its own process (tests drive it through ClusterEngine)
    channel = Channel.from_fd(settings.value("CNN_DRIVER_FD"), "the CNN Lab server")

    def send(message: Envelope) -> None:
        try:
            channel.send(message)
        except OSError:
            os._exit(0)  # the web server is gone

    try:
        engine = DriverEngine(settings.value("CNN_RAY_ADDRESS"), channel)
    except EngineError as e:
        send(Refused(getattr(e, "said", str(e)), getattr(e, "details", "")))
        return
    send(Connected(engine.name, engine.capacity()))
    datasets = Datasets()
    while True:
        try:
            message = channel.expect(Run, Stop, Ping, Exit)
        except (EOFError, OSError):
            os._exit(0)
        except ChannelError as e:  # another version of CNN Lab: say so in the log and end (the server sees why)
            print(f"CNN Lab driver: {e}", file=sys.stderr, flush=True)
            os._exit(2)
        if isinstance(message, Run):
            request = message.request
            if request.dataset_key:  # sent once, then only its fingerprint (the server's DatasetsSent)
                request = replace(request, dataset=datasets.take(request.dataset_key, request.dataset))
            job = Job(request, engine)
            job.id = message.job_id  # one id on both sides
            with engine._jobs_lock:
                engine._jobs[job.id] = job
            engine.enqueue(job, request)
        elif isinstance(message, Stop):
            job = engine.get(message.job_id)
            if job is not None:
                engine.stop(job, message.reason)
        elif isinstance(message, Ping):
            try:
                send(Pong(engine.capacity()))
            except Exception as e:  # the cluster does not answer: the supervisor decides
                engine.cluster_lost(details=f"{type(e).__name__}: {e}")
        else:
            with contextlib.suppress(Exception):
                engine.shutdown()
            os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
