"""The Ray driver process: the only process of CNN Lab that talks to a Ray cluster.

``python -m cnn.jobs.ray_driver`` is started and supervised by :class:`cnn.jobs.cluster.ClusterEngine`
in the web server, and speaks to it over a socket (the same messages as a local worker, with a job id
on each). Whatever Ray does when its cluster goes away (raise, hang, or end the process after a
minute), it does it here, never in the web server. A lost cluster is reported as ``("lost",
details)`` and this process exits; the supervisor tells the students in plain words and starts a new
driver later.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn.jobs.base import EngineError, Job
from cnn.jobs.ray_cluster import RayEngine

RELAY_S = 0.25


class DriverEngine(RayEngine):
    """A RayEngine whose endings and starts go to the web server instead of into local Job objects."""

    def __init__(self, address: str, send) -> None:
        self._send = send
        super().__init__(address, heartbeat_timeout=10**9)

    def mark_running(self, job: Job, where: str, pid: int | None = None) -> None:
        super().mark_running(job, where, pid)
        self._send(("started", job.id, where, pid))

    def _unpack(self, payload: dict[str, Any]) -> Any:
        return payload  # the web server loads the model (safe mode); here it is only bytes

    def finish(self, job: Job, result=None, error: str = "", cancelled: bool = False) -> None:
        if error.startswith(self.LOST):
            self._send(("lost", error[len(self.LOST):]))
            os._exit(3)  # the cluster is gone: the supervisor ends every run of this driver in plain words
        with job._lock:
            if job.finished:
                return
            job.state = "done"
        job._done.set()
        if cancelled:
            self._send(("cancelled", job.id))
        elif result is not None:
            self._send(("result", job.id, result))
        else:
            self._send(("error", job.id, error))


def main() -> None:  # pragma: no cover - runs in its own process (tests drive it through ClusterEngine)
    from multiprocessing.connection import Connection

    conn = Connection(int(os.environ["CNN_DRIVER_FD"]))
    lock = threading.Lock()

    def send(msg) -> None:
        with lock:
            try:
                conn.send(msg)
            except OSError:
                os._exit(0)  # the web server is gone

    try:
        engine = DriverEngine(os.environ["CNN_RAY_ADDRESS"], send)
    except EngineError as e:
        send(("failed", str(e), getattr(e, "details", "")))
        return
    send(("connected", engine.name, engine.capacity()))
    jobs: dict[str, tuple[Job, list[int]]] = {}  # the server's job id -> (the job here, [events sent])

    def relay() -> None:
        while True:
            time.sleep(RELAY_S)
            for server_id, (job, sent) in list(jobs.items()):
                events = job.progress()
                for e in events[sent[0]:]:
                    send(("progress", server_id, e))
                sent[0] = len(events)
                if job.finished:
                    jobs.pop(server_id, None)

    threading.Thread(target=relay, name="driver-relay", daemon=True).start()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        kind = msg[0]
        if kind == "run":
            _, server_id, request = msg
            job = Job(request, engine)
            job.id = server_id  # one id on both sides
            with engine._jobs_lock:
                engine._jobs[job.id] = job
            jobs[server_id] = (job, [0])
            engine._enqueue(job, request)
        elif kind == "stop":
            _, server_id, reason = msg
            entry = jobs.get(server_id) or (engine.get(server_id), None)
            if entry[0] is not None:
                engine.stop(entry[0], reason)
        elif kind == "ping":
            try:
                send(("pong", engine.capacity()))
            except Exception as e:  # the cluster does not answer: the supervisor decides
                send(("lost", f"{type(e).__name__}: {e}"))
                os._exit(3)
        elif kind == "exit":
            with contextlib.suppress(Exception):
                engine.shutdown()
            os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
