"""The cluster engine: the same jobs on a Ray cluster (``CNN_RAY_ADDRESS``), for a class on many machines.

Each job is one Ray task asking for its CPUs (``CNN_RAY_JOB_CPUS``, default 2), and for one GPU
when the cluster has one free. Live progress uses Ray's idiom: the task reports to a small actor
(a "board"); the server follows each job with one thread that waits for the board's news or the task's end (a
long poll, no sleeping loop), and the board's answer to a report carries the stop flag back. The trained
model comes back through the object store as ``.keras`` bytes. Ray's scheduler is the queue: a
job waits until some machine has its resources free. Ray is an optional dependency
(``requirements-cluster.txt``); the ``cnn`` package travels to the machines with the job.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from cnn import settings
from cnn.errors import first_line
from cnn.i18n import M_
from cnn.jobs.base import Engine, EngineError, Job, JobRequest
from cnn.jobs.endings import CLUSTER_REFUSED, CLUSTER_UNREACHABLE, DIED, ON_RAY_NODE, ON_RAY_NODE_GPU

PACKAGE_DIR = Path(__file__).resolve().parents[1]
WAIT_S = 5.0  # a read of a job's board waits this long for news
ANSWER_S = 30.0  # ... and the cluster has this much longer to answer it, or it is lost


def job_cpus() -> int:
    return settings.value("CNN_RAY_JOB_CPUS")


_remote: dict[str, Any] = {}


def _defs() -> dict[str, Any]:
    """The Ray actor and task, defined once Ray is imported (it is optional)."""
    if _remote:
        return _remote
    import ray

    @ray.remote(num_cpus=0)
    class Board:
        """A job's progress board: the task writes events, the server reads them and sets the stop flag. An async
        actor, so that a read can wait for news (a long poll) while the task keeps reporting."""

        def __init__(self) -> None:
            self.events: list = []
            self.info: dict | None = None
            self.stop = False
            self.news: asyncio.Event | None = None  # made in the actor's event loop

        def _changed(self) -> None:
            if self.news is not None:
                self.news.set()

        async def started(self, info: dict) -> None:
            self.info = info
            self._changed()

        async def report(self, events: list) -> bool:
            self.events.extend(events)
            self._changed()
            return self.stop

        async def read(self, since: int, has_info: bool, wait_s: float) -> tuple[list, dict | None]:
            """The events after the first ``since`` and the start info, as soon as there is something the reader
            has not had (or after ``wait_s``)."""
            if len(self.events) <= since and (has_info or self.info is None):
                self.news = self.news or asyncio.Event()
                self.news.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.news.wait(), wait_s)
            return self.events[since:], self.info

        async def request_stop(self) -> None:
            self.stop = True
            self._changed()  # a waiting read answers now (the server may be shutting down)

    @ray.remote(max_retries=0)
    def train_task(request: JobRequest, board) -> dict:
        from cnn.jobs.worker import device_description, error_message, run_request

        cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
        _limit_threads(cpus)
        ray.get(board.started.remote({"pid": os.getpid(), "node": ray.util.get_node_ip_address(),
                                      "device": device_description()}))
        stop, done = threading.Event(), threading.Event()
        pending: list = []
        lock = threading.Lock()

        def flush() -> None:
            with lock:
                chunk = pending[:]
                pending.clear()
            if ray.get(board.report.remote(chunk)):
                stop.set()

        def pump() -> None:
            while not done.wait(0.25):
                flush()

        def report(event) -> None:
            with lock:
                pending.append(event)

        pumper = threading.Thread(target=pump, daemon=True)
        pumper.start()
        try:
            return run_request(request, report, stop.is_set)
        except BaseException as e:
            return {"error": error_message(e)}
        finally:
            done.set()
            pumper.join()
            flush()

    _remote.update(Board=Board, train_task=train_task)
    return _remote


def _limit_threads(cpus: int) -> None:
    """Use the CPUs Ray granted, not every core of the machine (other jobs share it)."""
    if cpus < 1:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(cpus)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, cpus))
    except RuntimeError:
        pass  # this Ray worker already ran TensorFlow: its threads are set


class _RayJob:
    def __init__(self, job: Job, ref, board, gpu: bool):
        self.job, self.ref, self.board, self.gpu = job, ref, board, gpu
        self.seen = 0
        self.cancelled = False
        self.follower: threading.Thread | None = None


def connect_error(address: str, e: BaseException) -> EngineError:
    """Why ``ray.init`` failed, in plain words (``details``: Ray's own text, for the server log and the teacher)."""
    details = f"{type(e).__name__}: {e}".strip()
    low = details.lower()
    if any(w in low for w in ("auth", "token", "unauthenticated", "permission denied")):
        plain = M_(CLUSTER_REFUSED, address=address)
    else:
        plain = M_(CLUSTER_UNREACHABLE, address=address)
    err = EngineError(str(plain))
    err.said = plain  # the page says it in its reader's language (the driver sends it as a Message)
    err.details = details[:2000]
    return err


class RayEngine(Engine):
    """Jobs as Ray tasks on a cluster; see the module docstring."""

    def __init__(self, address: str, heartbeat_timeout: float | None = None, **init_kwargs: Any):
        super().__init__(heartbeat_timeout)
        try:
            import ray
        except ImportError:
            self.closed = True
            self._closing.set()
            raise EngineError("CNN_RAY_ADDRESS is set but Ray is not installed "
                              "(pip install -r requirements-cluster.txt).") from None
        self.address = address
        runtime_env = {"py_modules": [str(PACKAGE_DIR)], "excludes": ["bundled/", "__pycache__/"],
                       "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2", **settings.worker_env()}}
        try:
            if not ray.is_initialized():
                ray.init(address=None if address == "local" else address, runtime_env=runtime_env,
                         log_to_driver=False, logging_level="ERROR", **init_kwargs)
            self._defs = _defs()
        except Exception as e:  # ConnectionError, RuntimeError, ... : say what failed
            self.closed = True
            self._closing.set()
            raise connect_error(address, e) from None
        self.name = f"Ray cluster at {address}"
        self._ray = ray
        self._lock = threading.Lock()
        self._live: dict[str, _RayJob] = {}

    # ------------------------------------------------------------ engine interface

    def _enqueue(self, job: Job, request: JobRequest) -> None:
        ray = self._ray
        gpu = ray.available_resources().get("GPU", 0) >= 1
        board = self._defs["Board"].remote()
        options = {"num_cpus": 1, "num_gpus": 1} if gpu else {"num_cpus": job_cpus()}
        ref = self._defs["train_task"].options(**options).remote(request, board)
        rj = _RayJob(job, ref, board, gpu)
        rj.follower = threading.Thread(target=self._follow, args=(rj,), name=f"jobs-ray-{job.id}", daemon=True)
        with self._lock:
            self._live[job.id] = rj
        rj.follower.start()

    def _cancel_queued(self, job: Job) -> bool:
        with self._lock:
            rj = self._live.get(job.id)
        if rj is None:
            return False
        rj.cancelled = True
        rj.board.request_stop.remote()
        with contextlib.suppress(Exception):  # not started yet: it never will; started: it stops itself
            self._ray.cancel(rj.ref)
        return False  # the monitor finishes it, whichever way it ends

    def _interrupt(self, job: Job) -> None:
        with self._lock:
            rj = self._live.get(job.id)
        if rj is not None:
            rj.board.request_stop.remote()

    def place(self, job: Job) -> int:
        """The place among this server's jobs still waiting for the cluster's resources."""
        queued = [j for j in self.jobs() if j.state == "queued"]
        return queued.index(job) + 1 if job in queued else 0

    def capacity(self) -> dict[str, Any]:
        ray = self._ray
        try:
            total = ray.cluster_resources()
            nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        except Exception:
            total, nodes = {}, 0
        cpus, gpus = int(total.get("CPU", 0)), int(total.get("GPU", 0))
        jobs = self.jobs()
        return {"limit": max(1, cpus // job_cpus()) + gpus,
                "running": sum(j.state == "running" for j in jobs), "waiting": sum(j.state == "queued" for j in jobs),
                "where": f"Ray cluster at {self.address}: {nodes} machine{'s' if nodes != 1 else ''}, "
                         f"{cpus} CPUs, {gpus} GPU{'s' if gpus != 1 else ''}",
                "nodes": nodes, "cpus": cpus, "gpus": gpus}  # for a page to say it in its language

    def shutdown(self) -> None:
        with self._lock:
            live = list(self._live.values())
        for rj in live:
            rj.job.stop_reason = rj.job.stop_reason or "shutdown"
        super().shutdown()
        for rj in live:
            with contextlib.suppress(Exception):
                rj.board.request_stop.remote()
        # The followers must be done before the caller may ray.shutdown(): a Ray call after that would start
        # a new local cluster of its own (Ray's auto-init), owned by this process. A stop wakes their reads.
        for rj in live:
            if rj.follower is not None and rj.follower is not threading.current_thread():
                rj.follower.join(timeout=WAIT_S + ANSWER_S + 5)

    # ------------------------------------------------------------ following a job

    def _follow(self, rj: _RayJob) -> None:
        """One job, from its start to its end: wait (without polling) for news on its board or for the task's end,
        and pass on what came. No answer within WAIT_S + ANSWER_S means the cluster is gone."""
        ray = self._ray
        read = None
        while not self.closed and ray.is_initialized():
            try:
                if read is None:
                    read = rj.board.read.remote(rj.seen, rj.job.state != "queued", WAIT_S)
                ready, _pending = ray.wait([read, rj.ref], num_returns=1, timeout=WAIT_S + ANSWER_S)
                if not ready:
                    raise TimeoutError(f"no answer in {WAIT_S + ANSWER_S:.0f} s")
                if read in ready:
                    self._news(rj, *ray.get(read))
                    read = None
                if ray.wait([rj.ref], timeout=0)[0]:
                    self._ended(rj)
                    return
            except Exception as e:  # the cluster went away: tell the student
                self.cluster_lost(rj, f"{type(e).__name__}: {e}")
                return

    def _news(self, rj: _RayJob, events: list, info: dict | None) -> None:
        if info and rj.job.state == "queued":
            where = M_(ON_RAY_NODE_GPU if rj.gpu else ON_RAY_NODE, node=info["node"], device=info["device"])
            self.mark_running(rj.job, where, info["pid"])
        for e in events:
            rj.job.add_event(e)
        rj.seen += len(events)
        if events:
            self._progressed(rj.job)

    def _progressed(self, job: Job) -> None:
        """New progress events were added to ``job`` (the driver process passes them on)."""

    def _ended(self, rj: _RayJob) -> None:
        """The task is over: its last events, then how it ended."""
        ray = self._ray
        self._news(rj, *ray.get(rj.board.read.remote(rj.seen, True, 0.0), timeout=ANSWER_S))
        if rj.cancelled:  # removed from the queue; if Ray had already handed it to a worker, it stopped at once
            with contextlib.suppress(Exception):
                ray.get(rj.ref)
            self._end(rj, cancelled=True)
            return
        try:
            payload = ray.get(rj.ref)
        except ray.exceptions.TaskCancelledError:
            self._end(rj, cancelled=True)
            return
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ActorDiedError,
                ray.exceptions.OutOfMemoryError):
            self._end(rj, error=M_(DIED))
            return
        except ray.exceptions.RayError as e:
            first = first_line(e)
            self._end(rj, error=f"Training failed on the cluster: {first}")
            return
        if "error" in payload:
            self._end(rj, error=payload["error"])
        else:
            self._end(rj, result=self._unpack(payload))

    def _unpack(self, payload: dict[str, Any]) -> Any:
        """The TrainResult of a finished task's payload (its model loaded in safe mode)."""
        from cnn.jobs.worker import unpack

        return unpack(payload)

    def cluster_lost(self, rj: _RayJob, details: str) -> None:
        """The cluster stopped answering while it held ``rj``: the run ends saying so (the driver process overrides
        this: it tells the web server with a Lost message and exits)."""
        self._end(rj, error=f"Lost contact with the Ray cluster: {details}")

    def _end(self, rj: _RayJob, **how: Any) -> None:
        with self._lock:
            self._live.pop(rj.job.id, None)
        self.finish(rj.job, **how)
        if self._ray.is_initialized():
            with contextlib.suppress(Exception):
                self._ray.kill(rj.board)
