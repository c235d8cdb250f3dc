"""The engine the web server uses when ``CNN_RAY_ADDRESS`` is set: Ray's driver in a supervised process.

The web server never imports Ray. :class:`ClusterEngine` starts ``python -m cnn.jobs.ray_driver`` and talks to it
over a :class:`~cnn.jobs.channel.Channel` with bounded waits: connecting may take at most :data:`CONNECT_TIMEOUT_S`,
a ping must be answered within :data:`PING_TIMEOUT_S`. While the cluster is connecting, unreachable or lost, new
runs train on this server's own worker processes (a :class:`~cnn.jobs.local.LocalEngine` that reports to this
engine), and the supervisor tries the cluster again every :data:`RETRY_S`; once it answers, new runs go there
again. A run the cluster held when it went away ends with a plain message (its curves are kept); Ray's own words
go to the server log and to the Class page's details, never to a student.
"""
from __future__ import annotations

import collections
import contextlib
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from cnn.i18n import M_, N_, Message, _, n_
from cnn.jobs.base import Engine, Job, JobRequest
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
from cnn.jobs.endings import CLUSTER_REFUSED, CLUSTER_SILENT
from cnn.jobs.local import NOT_RECEIVED, ROOT, LocalEngine, worker_env
from cnn.jobs.worker import DatasetsSent

log = logging.getLogger("cnnlab.cluster")

CONNECT_TIMEOUT_S = 15.0
PING_S = 5.0
PING_TIMEOUT_S = 20.0
RETRY_S = 30.0
AUTH_FAILED = re.compile(r"Unauthenticated|InvalidAuthToken|authentication", re.IGNORECASE)


STARTING = N_("Starting a worker on the cluster…")
CLUSTER_STATES = {"connecting": N_("connecting"), "connected": N_("connected"), "unavailable": N_("unavailable")}
LOST_AT = N_("The training cluster stopped answering at epoch {epoch}; your curves so far are kept. New runs train on "
             "this server until it is back.")
LOST = N_("The training cluster stopped answering before its first batch; your curves so far are kept. New runs train "
          "on this server until it is back.")
CONNECTING = N_("Connecting to the training cluster… Runs started now train on this server.")
UNAVAILABLE = N_("The training cluster is unavailable since {at}: {reason} Runs train on this server until it is back "
                 "(tried again every half minute).")


def lost_message(job: Job) -> Message:
    last = job.latest()
    return M_(LOST_AT, epoch=last.epoch) if last else M_(LOST)


class _Driver:
    """One driver process and the channel to it."""

    def __init__(self, address: str) -> None:
        mine, theirs = socket.socketpair()
        env = {**worker_env(keep=("RAY_AUTH_TOKEN",)), "CNN_DRIVER_FD": str(theirs.fileno()),
               "CNN_RAY_ADDRESS": address}
        self.proc = subprocess.Popen([sys.executable, "-m", "cnn.jobs.ray_driver"], cwd=ROOT, env=env,
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        theirs.close()
        self.channel = Channel(Connection(mine.detach()), "the Ray driver process")
        self.started = time.monotonic()
        self.pinged = 0.0
        self.datasets = DatasetsSent()  # the datasets this driver holds
        self.log: collections.deque[str] = collections.deque(maxlen=200)  # Ray's last words (it logs to stderr)
        threading.Thread(target=self._copy_log, name="jobs-cluster-log", daemon=True).start()

    def _copy_log(self) -> None:
        """Keep the driver's stderr (Ray's own log lines) for the teacher's details, and pass it to the server log."""
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self.log.append(line)
            with contextlib.suppress(OSError, ValueError):
                print(line, file=sys.stderr, flush=True)

    def tail(self, n: int = 8) -> str:
        return "\n".join(list(self.log)[-n:])

    def send(self, message: Envelope) -> bool:
        try:
            self.channel.send(message)
            return True
        except OSError:
            return False

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(10)
        with contextlib.suppress(OSError):
            self.channel.close()


class ClusterEngine(Engine):
    """Runs on a Ray cluster through a supervised driver process, on local workers while the cluster is away."""

    def __init__(self, address: str, heartbeat_timeout: float | None = None, local: LocalEngine | None = None,
                 retry_s: float = RETRY_S, connect_timeout_s: float = CONNECT_TIMEOUT_S):
        super().__init__(heartbeat_timeout)
        self.address, self.retry_s, self.connect_timeout_s = address, retry_s, connect_timeout_s
        self.local = (local or LocalEngine(heartbeat_timeout=self.heartbeat_timeout, prestart=False)).report_to(self)
        self.state = "connecting"  # connecting | connected | unavailable
        self.since = time.time()
        self.reason = ""  # why the cluster is not in use, in plain words
        self.details = ""  # Ray's own words about it (server log, Class page)
        self.cluster_capacity: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._on_cluster: dict[str, Job] = {}
        self._driver: _Driver | None = None
        self._next_try = 0.0
        self._last_pong = time.monotonic()
        self._set_notice()
        self._wake = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="jobs-cluster-supervisor", daemon=True)
        self._supervisor.start()

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"Ray cluster at {self.address}" if self.state == "connected" else "local worker processes"

    # ------------------------------------------------------------ engine interface

    def _enqueue(self, job: Job, request: JobRequest) -> None:
        driver = self._driver
        if self.state == "connected" and driver is not None:
            with self._lock:
                self._on_cluster[job.id] = job
            job.note = M_(STARTING)
            if driver.send(Run(job.id, driver.datasets.request(request))):  # each dataset once per driver
                self._poke()
                return
            with self._lock:
                self._on_cluster.pop(job.id, None)
        job.note = ""
        self.local.enqueue(job, request)

    def _cancel_queued(self, job: Job) -> bool:
        if job.id in self._on_cluster:
            self._send(Stop(job.id, job.stop_reason or "user"))
            return False  # the driver says how it ended
        return self.local.cancel_queued(job)

    def _interrupt(self, job: Job) -> None:
        if job.id in self._on_cluster:
            self._send(Stop(job.id, job.stop_reason or "user"))
        else:
            self.local.interrupt(job)

    def place(self, job: Job) -> int:
        if job.id not in self._on_cluster:
            return self.local.place(job)
        queued = [j for j in self.jobs() if j.state == "queued" and j.id in self._on_cluster]
        return queued.index(job) + 1 if job in queued else 0

    def capacity(self) -> dict[str, Any]:
        local = self.local.capacity()
        if self.state != "connected":
            return {**local, "where": _("{where} (training cluster {state})", where=local["where"],
                                        state=_(CLUSTER_STATES.get(self.state, self.state)))}
        cluster = self.cluster_capacity or {"limit": 0}
        if "nodes" in cluster:
            where = _("Ray cluster at {address}: {machines}, {cpus} CPUs, {gpus}", address=self.address,
                      machines=n_("{n} machine", "{n} machines", cluster["nodes"]), cpus=cluster.get("cpus", 0),
                      gpus=n_("{n} GPU", "{n} GPUs", cluster.get("gpus", 0)))
        else:
            where = _("Ray cluster at {address}", address=self.address)
        jobs = [j for j in self.jobs() if j.id in self._on_cluster]
        return {"limit": cluster.get("limit", 0), "running": sum(j.state == "running" for j in jobs) + local["running"],
                "waiting": sum(j.state == "queued" for j in jobs) + local["waiting"], "where": where}

    def status(self) -> dict[str, Any]:
        """Which engine is in use, since when and why (the Class page); ``details`` is Ray's own text."""
        return {"state": self.state, "since": self.since, "reason": self.reason, "details": self.details,
                "address": self.address}

    def shutdown(self) -> None:
        super().shutdown()
        self._poke()
        self._send(Exit())
        driver = self._driver
        if driver is not None:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                driver.proc.wait(5)
            driver.kill()
        self.local.shutdown()

    def worker_pids(self) -> list[int]:
        return self.local.worker_pids()

    def driver_pid(self) -> int | None:
        driver = self._driver
        return driver.proc.pid if driver is not None else None

    # ------------------------------------------------------------ supervision

    def _send(self, message: Envelope) -> None:
        driver = self._driver
        if driver is not None:
            driver.send(message)

    def _set_state(self, state: str, reason: str = "", details: str = "") -> None:
        if state != self.state or reason != self.reason:
            self.since = time.time()
        self.state, self.reason, self.details = state, reason, details
        if details:
            log.warning("CNN Lab training cluster %s: %s (%s)", state, reason, details)
        self._set_notice()

    def _set_notice(self) -> None:
        at = time.strftime("%H:%M", time.localtime(self.since))
        self.notice = {
            "connecting": M_(CONNECTING),
            "connected": "",
            "unavailable": M_(UNAVAILABLE, at=at, reason=self.reason),
        }[self.state]

    def _supervise(self) -> None:
        """Sleep until the next deadline (a retry, a connect timeout, a ping) or until woken by news from the
        driver, a new run or shutdown; then act."""
        while not self.closed:
            self._wake.clear()
            try:
                wait = self._supervise_once()
            except Exception:  # the supervisor itself never dies
                log.exception("CNN Lab: cluster supervisor")
                wait = 1.0
            self._wake.wait(max(0.01, wait))

    def _poke(self) -> None:
        """Something changed that the supervisor should look at now."""
        self._wake.set()

    def _supervise_once(self) -> float:
        """Do what is due; return the seconds until something will be due."""
        now = time.monotonic()
        driver = self._driver
        if driver is None:
            if now < self._next_try:
                return self._next_try - now
            self._set_state("connecting", self.reason, self.details)
            self._driver = _Driver(self.address)
            self._last_pong = now
            threading.Thread(target=self._read, args=(self._driver,), name="jobs-cluster-reader",
                             daemon=True).start()
            return self.connect_timeout_s
        if self.state == "connecting":
            late = now - driver.started - self.connect_timeout_s
            if late >= 0:
                self._lose(driver, f"The training cluster at {self.address} did not answer within "
                                   f"{self.connect_timeout_s:.0f} s.", "ray.init did not return in time")
                return 0.0
            return -late
        if self.state != "connected":
            return self.retry_s
        self._update_notes()
        if now - self._last_pong > PING_TIMEOUT_S:
            self._lose(driver, "The training cluster stopped answering.", "no answer to a ping in "
                       f"{PING_TIMEOUT_S:.0f} s")
            return 0.0
        if now - driver.pinged >= PING_S:
            driver.pinged = now
            driver.send(Ping())
        return min(driver.pinged + PING_S, self._last_pong + PING_TIMEOUT_S) - now

    def _update_notes(self) -> None:
        """A queued run the cluster has room for says it is starting a worker; the others show their place."""
        mine = [j for j in self.jobs() if j.id in self._on_cluster]
        free = max(0, int(self.cluster_capacity.get("limit", 0)) - sum(j.state == "running" for j in mine))
        for i, job in enumerate(j for j in mine if j.state == "queued"):
            job.note = M_(STARTING) if i < free else ""

    def _lose(self, driver: _Driver, reason: str, details: str) -> None:
        """The driver is gone or useless: end its runs in plain words, fall back, try again later."""
        if self._driver is not driver:
            return
        self._driver = None
        driver.kill()
        said = driver.tail()
        if AUTH_FAILED.search(said) and self.state == "connecting":
            reason = M_(CLUSTER_REFUSED, address=self.address)
        details = "\n".join(x for x in (details, said) if x)
        with self._lock:
            held, self._on_cluster = list(self._on_cluster.values()), {}
        for job in held:
            if not job.finished:
                self.finish(job, error=lost_message(job))
        self._next_try = time.monotonic() + self.retry_s
        self._set_state("unavailable", reason, details)
        self._poke()  # the supervisor's next deadline is the retry

    def _read(self, driver: _Driver) -> None:
        """Messages from one driver process, until it ends."""
        from cnn.jobs.worker import unpack

        reason, details = M_(CLUSTER_SILENT), "the driver process ended"
        while True:
            try:
                message = driver.channel.recv()
            except (EOFError, OSError):
                code = driver.proc.poll()
                details = f"the driver process ended (exit code {code})" if code is not None else details
                break
            except ChannelError as e:  # another version of CNN Lab: not used, said plainly
                reason, details = str(e), str(e)
                break
            if isinstance(message, Connected):
                self.cluster_capacity = message.capacity
                self._last_pong = time.monotonic()
                self._set_state("connected")
                self._poke()
            elif isinstance(message, Refused):
                reason, details = message.reason, message.details
                break
            elif isinstance(message, Lost):
                details = message.details
                break
            elif isinstance(message, Pong):
                self.cluster_capacity = message.capacity
                self._last_pong = time.monotonic()
                self._poke()  # the queue's notes follow the cluster's room
            elif isinstance(message, (Started, Reported, Finished, Failed, Cancelled)):
                self._about_a_run(message, unpack)
                if not isinstance(message, Reported):
                    self._poke()  # a place on the cluster was taken or freed: the queue's notes change
        if not self.closed:
            self._lose(driver, reason, details)

    def _about_a_run(self, message: Started | Reported | Finished | Failed | Cancelled, unpack) -> None:
        job = self._on_cluster.get(message.job_id)
        if job is None:
            return
        if isinstance(message, Started):
            job.note = ""
            self.mark_running(job, message.where, message.pid)
        elif isinstance(message, Reported):
            job.add_event(message.event)
        else:
            with self._lock:
                self._on_cluster.pop(job.id, None)
            if isinstance(message, Finished):
                try:
                    self.finish(job, result=unpack(message.payload))
                except Exception as e:
                    self.finish(job, error=M_(NOT_RECEIVED, error=type(e).__name__))
            elif isinstance(message, Failed):
                self.finish(job, error=message.error)
            else:
                self.finish(job, cancelled=True)
