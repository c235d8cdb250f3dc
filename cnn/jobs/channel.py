"""One channel for every process boundary of the training engines: the web server and its local workers, the web
server and its Ray driver process.

Each side sends typed messages (the frozen dataclasses below), each stamped with :data:`PROTOCOL`. What arrives is
checked before anyone acts on it: a message of another version of CNN Lab, of an unknown kind or one that cannot
be read at all is a :class:`ChannelError` that says so in words, never an ``assert`` or a ``KeyError`` deep in an
engine. Change a message's fields and the protocol number goes up, so two versions never misread each other.
"""
from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from cnn.jobs.base import EngineError, JobRequest
from cnn.run_results import Progress

PROTOCOL = 1


class ChannelError(EngineError):
    """A message from the other process could not be understood; the message says what came and what was expected."""


@dataclass(frozen=True)
class Envelope:
    """What every message between processes is; the kinds below say what each carries."""


# ---------------------------------------------------------------- from the web server


@dataclass(frozen=True)
class Run(Envelope):
    """Train this request (a worker, or the driver's cluster)."""

    job_id: str
    request: JobRequest


@dataclass(frozen=True)
class Prepare(Envelope):
    """Build and trace the model of ``shapes`` (config, image shape, classes, training images) while idle; the
    dataset comes along unless the worker holds the one of fingerprint ``key`` already."""

    shapes: tuple
    dataset: Any
    key: str


@dataclass(frozen=True)
class Stop(Envelope):
    """Stop a run after its current batch (a worker's current run when ``job_id`` is empty)."""

    job_id: str = ""
    reason: str = "user"


@dataclass(frozen=True)
class Ping(Envelope):
    """Are you (and your cluster) still there?"""


@dataclass(frozen=True)
class Exit(Envelope):
    """End the process now."""


# ---------------------------------------------------------------- from a worker or the driver


@dataclass(frozen=True)
class Ready(Envelope):
    """A worker has started and imported TensorFlow."""

    pid: int
    device: str


@dataclass(frozen=True)
class Connected(Envelope):
    """The driver reached its cluster."""

    name: str
    capacity: dict


@dataclass(frozen=True)
class Refused(Envelope):
    """The driver could not reach its cluster: ``reason`` for people, ``details`` in Ray's own words."""

    reason: Any  # an i18n.Envelope, or plain text
    details: str = ""


@dataclass(frozen=True)
class Lost(Envelope):
    """The cluster stopped answering (the driver exits after saying so); ``details`` in Ray's own words."""

    details: str


@dataclass(frozen=True)
class Pong(Envelope):
    """The answer to a ping, with the cluster's capacity now."""

    capacity: dict


@dataclass(frozen=True)
class Started(Envelope):
    job_id: str
    where: Any = ""  # an i18n.Envelope ("this server (training process 123)"), or plain text
    pid: int | None = None


@dataclass(frozen=True)
class Reported(Envelope):
    """A run's progress event."""

    job_id: str
    event: Progress


@dataclass(frozen=True)
class Finished(Envelope):
    """A run's result, its model as ``.keras`` bytes (:func:`cnn.jobs.worker.run_request`)."""

    job_id: str
    payload: dict


@dataclass(frozen=True)
class Failed(Envelope):
    """A run failed; ``error`` is one line for the student."""

    job_id: str
    error: Any  # an i18n.Envelope, or plain text (an error's own words)


@dataclass(frozen=True)
class Cancelled(Envelope):
    """A run left the queue before it started."""

    job_id: str


class Channel:
    """One end of a process boundary: typed messages, stamped and checked, over a ``multiprocessing`` connection.
    Sending is safe from several threads; one thread receives."""

    def __init__(self, conn: Connection, peer: str) -> None:
        self.conn, self.peer = conn, peer  # peer: who is at the other end, in words ("a training worker")
        self._lock = threading.Lock()

    @classmethod
    def from_fd(cls, fd: int, peer: str) -> Channel:
        return cls(Connection(fd), peer)

    def send(self, message: Envelope) -> None:
        """Send one message (OSError when the other end is gone)."""
        with self._lock:
            self.conn.send((PROTOCOL, message))

    def recv(self) -> Envelope:
        """The next message, checked (EOFError or OSError when the other end is gone; ChannelError when it
        cannot be understood)."""
        try:
            raw = self.conn.recv()
        except (EOFError, OSError):
            raise
        except (pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError, ValueError) as e:
            raise ChannelError(f"A message from {self.peer} could not be read ({type(e).__name__}: {e}); is it the "
                               "same version of CNN Lab as this server?") from None
        return self.check(raw)

    def check(self, raw: Any) -> Envelope:
        """``raw`` as received, if it is a message of this protocol; else ChannelError saying what it was."""
        if not (isinstance(raw, tuple) and len(raw) == 2 and isinstance(raw[0], int)):
            what = raw[0] if isinstance(raw, tuple) and raw else type(raw).__name__
            raise ChannelError(f"{self.peer} sent {what!r}, not a message of protocol {PROTOCOL}: it is another "
                               "version of CNN Lab. Restart the server so that all its processes run the same one.")
        version, message = raw
        if version != PROTOCOL:
            raise ChannelError(f"{self.peer} speaks protocol {version}, this server {PROTOCOL}: they are different "
                               "versions of CNN Lab. Restart the server so that all its processes run the same one.")
        if not isinstance(message, Envelope):
            raise ChannelError(f"{self.peer} sent a {type(message).__name__}, which is not a message.")
        return message

    def expect(self, *kinds: type[Envelope]) -> Envelope:
        """The next message, which must be one of ``kinds`` (ChannelError naming what came instead)."""
        message = self.recv()
        if not isinstance(message, kinds):
            raise ChannelError(f"{self.peer} sent {type(message).__name__} where "
                               f"{' or '.join(k.__name__ for k in kinds)} was expected.")
        return message

    def poll(self, timeout: float) -> bool:
        return self.conn.poll(timeout)

    def close(self) -> None:
        self.conn.close()
