"""The cluster engine: the same jobs on a Ray cluster (``CNN_RAY_ADDRESS``), for a class on many machines.

Each job is one Ray task asking for its CPUs (``CNN_RAY_JOB_CPUS``, default 2), and for one GPU when the cluster has
one free. Live progress uses Ray's idiom: the task reports to its job's "board", held with every other job's by one
small actor started with the first run; the server follows each job with one thread that waits for the board's news
or the task's end (a long poll, no sleeping loop), and the board's answer to a report carries the stop flag back.
The trained model comes back through the object store as ``.keras`` bytes; a dataset goes there once per
fingerprint (the server sends it to the driver once too) and each run reads it from there. Ray's scheduler is the
queue: a job waits until some machine has its resources free. Ray is an optional dependency
(``requirements-cluster.txt``); the ``cnn`` package travels to the machines with the job.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from cnn import data, settings
from cnn.errors import first_line
from cnn.i18n import M_
from cnn.jobs.base import Engine, EngineError, Job, JobRequest
from cnn.jobs.endings import CLUSTER_REFUSED, CLUSTER_UNREACHABLE, DIED, ON_RAY_NODE, ON_RAY_NODE_GPU

PACKAGE_DIR = Path(__file__).resolve().parents[1]
WAIT_S = 5.0  # a read of a job's board waits this long for news
ANSWER_S = 30.0  # ... and the cluster has this much longer to answer it, or it is lost
DATASETS_KEPT = 4  # datasets kept in the object store (a class trains on a few; an old one goes with its last run)


def job_cpus() -> int:
    return settings.value("CNN_RAY_JOB_CPUS")


_remote: dict[str, Any] = {}


def _defs() -> dict[str, Any]:
    """The Ray actor and task, defined once Ray is imported (it is optional)."""
    if _remote:
        return _remote
    import ray

    @ray.remote(num_cpus=0)
    class Boards:
        """The jobs' progress boards, one actor for all of a server's jobs (started once, where an actor per job
        started a Ray worker process per run): each task writes its job's events, the server reads them and sets
        the stop flag. An async actor, so that a read can wait for news (a long poll) while tasks keep reporting."""

        def __init__(self) -> None:
            self.boards: dict[str, dict] = {}

        def _board(self, job_id: str) -> dict:
            if job_id not in self.boards:  # made in the actor's event loop
                self.boards[job_id] = {"events": [], "info": None, "stop": False, "news": asyncio.Event()}
            return self.boards[job_id]

        async def started(self, job_id: str, info: dict) -> None:
            board = self._board(job_id)
            board["info"] = info
            board["news"].set()

        async def report(self, job_id: str, events: list) -> bool:
            board = self._board(job_id)
            board["events"].extend(events)
            board["news"].set()
            return board["stop"]

        async def read(self, job_id: str, since: int, has_info: bool, wait_s: float) -> tuple[list, dict | None]:
            """The events after the first ``since`` and the start info, as soon as there is something the reader
            has not had (or after ``wait_s``)."""
            board = self._board(job_id)
            if len(board["events"]) <= since and (has_info or board["info"] is None):
                board["news"].clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(board["news"].wait(), wait_s)
            return board["events"][since:], board["info"]

        async def request_stop(self, job_id: str) -> None:
            board = self._board(job_id)
            board["stop"] = True
            board["news"].set()  # a waiting read answers now (the server may be shutting down)

        async def forget(self, job_id: str) -> None:
            self.boards.pop(job_id, None)

    @ray.remote(max_retries=0)
    def train_task(request: JobRequest, boards, job_id: str, dataset=None) -> dict:
        from dataclasses import replace

        from cnn.jobs.worker import device_description, error_message, run_request

        if dataset is not None:  # put in the object store once per dataset: read there, not copied in each task
            request = replace(request, dataset=dataset)

        cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
        _limit_threads(cpus)
        ray.get(boards.started.remote(job_id, {"pid": os.getpid(), "node": ray.util.get_node_ip_address(),
                                               "device": device_description()}))
        stop, done = threading.Event(), threading.Event()
        pending: list = []
        lock = threading.Lock()

        def flush() -> None:
            with lock:
                chunk = pending[:]
                pending.clear()
            if ray.get(boards.report.remote(job_id, chunk)):
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

    _remote.update(Boards=Boards, train_task=train_task)
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
    def __init__(self, job: Job, ref, boards, gpu: bool):
        self.job, self.ref, self.boards, self.gpu = job, ref, boards, gpu
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
        self._datasets: collections.OrderedDict[str, Any] = collections.OrderedDict()  # fingerprint -> ObjectRef
        self._boards_actor: Any = None

    # ------------------------------------------------------------ engine interface

    def _enqueue(self, job: Job, request: JobRequest) -> None:
        ray = self._ray
        gpu = ray.available_resources().get("GPU", 0) >= 1
        boards = self._boards()
        options = {"num_cpus": 1, "num_gpus": 1} if gpu else {"num_cpus": job_cpus()}
        dataset = self._dataset_ref(request)
        ref = self._defs["train_task"].options(**options).remote(replace(request, dataset=None), boards, job.id,
                                                                  dataset)
        rj = _RayJob(job, ref, boards, gpu)
        rj.follower = threading.Thread(target=self._follow, args=(rj,), name=f"jobs-ray-{job.id}", daemon=True)
        with self._lock:
            self._live[job.id] = rj
        rj.follower.start()

    def _boards(self) -> Any:
        """The progress boards' actor, started with the first run (and again if it died with the cluster)."""
        with self._lock:
            if self._boards_actor is None:
                self._boards_actor = self._defs["Boards"].remote()
            return self._boards_actor

    def _dataset_ref(self, request: JobRequest) -> Any:
        """The dataset in Ray's object store, put there once per fingerprint (the newest few kept): a run reads
        it from there, where it was a copy in every task's arguments, pickled again each time."""
        if request.dataset is None:
            return None
        key = request.dataset_key or data.fingerprint(request.dataset)
        with self._lock:
            ref = self._datasets.get(key)
            if ref is None:
                ref = self._datasets[key] = self._ray.put(request.dataset)
            self._datasets.move_to_end(key)
            while len(self._datasets) > DATASETS_KEPT:
                self._datasets.popitem(last=False)
        return ref

    def _cancel_queued(self, job: Job) -> bool:
        with self._lock:
            rj = self._live.get(job.id)
        if rj is None:
            return False
        rj.cancelled = True
        rj.boards.request_stop.remote(job.id)
        with contextlib.suppress(Exception):  # not started yet: it never will; started: it stops itself
            self._ray.cancel(rj.ref)
        return False  # the monitor finishes it, whichever way it ends

    def _interrupt(self, job: Job) -> None:
        with self._lock:
            rj = self._live.get(job.id)
        if rj is not None:
            rj.boards.request_stop.remote(job.id)

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
                rj.boards.request_stop.remote(rj.job.id)
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
                    read = rj.boards.read.remote(rj.job.id, rj.seen, rj.job.state != "queued", WAIT_S)
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
        self._news(rj, *ray.get(rj.boards.read.remote(rj.job.id, rj.seen, True, 0.0), timeout=ANSWER_S))
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
                rj.boards.forget.remote(rj.job.id)
