"""Training jobs: one interface (submit, progress, stop, result, place in queue), two engines.

A :class:`JobRequest` says what to train (a TrainConfig, the dataset's arrays, optionally a model
to start from) and for whom; ``engine().submit(request)`` returns a :class:`Job` whose plain data
pages render. Training never runs in the caller's process: by default in worker processes on
this machine (:mod:`cnn.jobs.local`), or on a Ray cluster when ``CNN_RAY_ADDRESS`` is set
(:mod:`cnn.jobs.ray_cluster`). Callers never know which engine runs their job.
"""
from __future__ import annotations

import atexit
import threading

from cnn import settings
from cnn.jobs.base import (
    ACTIVE,
    FINISHED,
    Engine,
    EngineError,
    Job,
    JobRequest,
    heartbeat_timeout_default,
    max_jobs_default,
)

__all__ = ["ACTIVE", "FINISHED", "Engine", "EngineError", "Job", "JobRequest", "engine", "heartbeat_timeout_default",
           "max_jobs_default", "set_engine", "set_server_id"]

_engine: Engine | None = None
_lock = threading.Lock()
_server_id = ""


def set_server_id(server_id: str) -> None:
    """This server's stable name in the class (the app gives host and port, so a restart on the same port knows
    which unfinished runs were its own); set before the engine starts."""
    global _server_id
    _server_id = server_id


def _make_engine() -> Engine:
    engine = _make_bare_engine()
    from cnn import db
    from cnn.jobs.records import Recorder

    try:
        named = settings.value("CNN_SERVER_ID") if settings.is_set("CNN_SERVER_ID") else _server_id
        engine.record_to(Recorder(db.database(), named or None))
    except db.DatabaseError as e:  # training still works; the runs are not kept, and the pages say why
        engine.notice = (engine.notice + " " if engine.notice else "") + str(e)
    return engine


def _make_bare_engine() -> Engine:
    from cnn.jobs.local import LocalEngine

    address = settings.value("CNN_RAY_ADDRESS")
    if not address:
        return LocalEngine()
    from cnn.jobs.cluster import ClusterEngine

    return ClusterEngine(address)  # Ray's driver runs in a process of its own; this returns at once


def engine() -> Engine:
    """The server's engine (one per process: every browser session of the app shares it)."""
    global _engine
    with _lock:
        if _engine is None or _engine.closed:
            _engine = _make_engine()
        return _engine


def set_engine(new: Engine | None) -> Engine | None:
    """Replace the server's engine (tests, benchmarks); returns the old one, not shut down."""
    global _engine
    with _lock:
        old, _engine = _engine, new
    return old


@atexit.register
def _shutdown() -> None:
    if _engine is not None:
        _engine.shutdown()
