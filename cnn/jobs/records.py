"""Runs as records in the class database: what outlives a reload, a restart and a second server.

An engine keeps its live :class:`~cnn.jobs.base.Job` objects in memory; :class:`Recorder` writes
each one to the ``runs`` table: a row at submit (with a label unique in the class), a snapshot of
its progress and curves about once a second while it trains, and how it ended. The same thread
beats for its server (``servers`` table), applies stop requests that another server's Class page
wrote, and marks runs whose server is gone: "interrupted by a server restart at epoch N". Pages of
any server read runs from here (:func:`runs_of`, :func:`recent_runs`); only the server that
trains a run holds its weights.
"""
from __future__ import annotations

import contextlib
import logging
import math
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cnn import db as dbm
from cnn import settings
from cnn.i18n import M_, N_, Message, from_record, to_record
from cnn.jobs.base import Engine, Job, JobRequest
from cnn.run_results import MAX_POINTS, Progress

log = logging.getLogger("cnnlab.runs")

TICK_S = 1.0  # progress reaches the database about once a second
STALE_S = 20.0  # a server that has not beaten for this long is gone: its unfinished runs were interrupted
ACTIVE = ("queued", "running")


def default_server_id() -> str:
    """This process's name in the class: ``$CNN_SERVER_ID``, else host and process id."""
    return settings.value("CNN_SERVER_ID")


INTERRUPTED_AT = N_("Interrupted by a server restart at epoch {epoch}. The curves so far are kept; its weights were "
                    "not saved, so train it again to use the model.")
INTERRUPTED = N_("Interrupted by a server restart before its first epoch ended. The curves so far are kept; its "
                 "weights were not saved, so train it again to use the model.")


def interrupted_message(epoch: int | None) -> Message:
    return M_(INTERRUPTED_AT, epoch=epoch) if epoch else M_(INTERRUPTED)


@dataclass
class RunRecord:
    """One run as the database keeps it: plain data for listings and charts."""

    id: str
    label: str
    owner: str
    owner_name: str
    group_key: str
    dataset: str
    arch: str
    epochs: int
    state: str
    message: Message | str  # said in the reader's language (i18n.said)
    stop_reason: str | None
    worker: str
    server: str
    submitted: float
    started: float | None
    ended: float | None
    updated: float
    progress: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    points: list[dict[str, float]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    saved_as: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        return cls(
            id=row["id"], label=row["label"], owner=row["owner"], owner_name=row["owner_name"],
            group_key=row["group_key"], dataset=row["dataset"], arch=row["arch"], epochs=int(row["epochs"]),
            state=row["state"], message=from_record(row["message"]), stop_reason=row["stop_reason"],
            worker=from_record(row["worker"]),
            server=row["server"], submitted=float(row["submitted"]),
            started=None if row["started"] is None else float(row["started"]),
            ended=None if row["ended"] is None else float(row["ended"]), updated=float(row["updated"]),
            progress=dbm.loads(row["progress"], {}), history=dbm.loads(row.get("history"), {}),
            points=dbm.loads(row.get("points"), []), result=dbm.loads(row["result"], {}),
            config=dbm.loads(row.get("config"), {}), extra=dbm.loads(row.get("extra"), {}), saved_as=row["saved_as"])

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def test_accuracy(self) -> float | None:
        acc = self.result.get("test_accuracy")
        return float(acc) if isinstance(acc, (int, float)) and not math.isnan(acc) else None

    def latest(self) -> Progress | None:
        p = self.progress
        return Progress(**p) if p else None


# ---------------------------------------------------------------- writes


def insert(db: dbm.Database, job: Job, request: JobRequest, server: str, group_key: str = "") -> str:
    """The run's row, under a label no other run of the class has (``-2``, ``-3``... appended); returns it."""
    now = time.time()
    with db.transaction(f"run-label:{job.label}") as tx:  # two runs wanting one label take turns
        base, label, n = job.label, job.label, 1
        while tx.one("SELECT 1 AS taken FROM runs WHERE label = ?", (label,)):
            n += 1
            label = f"{base}-{n}"
        tx.execute("INSERT INTO runs (id, label, owner, owner_name, group_key, dataset, arch, epochs, config, extra, "
                   "state, server, submitted, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (job.id, label, job.owner, job.owner_name, group_key, job.dataset, job.arch, job.epochs,
                    dbm.dumps(request.config.as_dict()), dbm.dumps(job.extra), job.state, server, job.submitted, now))
    return label


def _curves(job: Job) -> tuple[dict[str, Any], dict[str, list[float]], list[dict[str, float]]]:
    history, points = job.curves()  # bounded: the same cost each second however long the run
    last = job.latest()
    progress = {} if last is None else {
        "kind": last.kind, "epoch": last.epoch, "epochs": last.epochs, "batch": last.batch, "batches": last.batches,
        "elapsed": last.elapsed, "images_per_sec": last.images_per_sec, "logs": dict(last.logs)}
    return progress, history, points


# The server that trains a run has the last word on it: a run another server took for interrupted (this one was cut
# off from the database for a while) is written back as it truly is.
_OURS = "(state IN ('queued', 'running') OR stop_reason = 'lost')"
_REVIVE = "message = '', stop_reason = NULL, ended = NULL"


def snapshot(db: dbm.Database, job: Job) -> None:
    """Write a live run's state, progress and curves so far."""
    progress, history, points = _curves(job)
    db.execute("UPDATE runs SET state = ?, worker = ?, started = ?, progress = ?, history = ?, points = ?, "
               f"updated = ?, {_REVIVE} WHERE id = ? AND {_OURS}",
               (job.state, to_record(job.where), job.started, dbm.dumps(progress), dbm.dumps(history),
                dbm.dumps(points), time.time(), job.id))


def final(db: dbm.Database, job: Job) -> None:
    """Write how a run ended, with its final curves and test metrics."""
    progress, history, points = _curves(job)
    result: dict[str, Any] = {}
    r = job.result
    if r is not None:
        history = {k: list(v) for k, v in r.history.items()} or history
        pts = r.batch_history
        points = pts[::max(1, math.ceil(len(pts) / MAX_POINTS))] or points
        result = {"status": r.status, "test_accuracy": r.test_accuracy, "test_loss": r.test_loss,
                  "seconds": r.seconds, "epochs_done": r.epochs_done, "class_names": list(r.class_names),
                  "image_shape": list(r.image_shape)}
    db.execute("UPDATE runs SET state = ?, message = ?, stop_reason = ?, worker = ?, started = ?, ended = ?, "
               f"progress = ?, history = ?, points = ?, result = ?, updated = ? WHERE id = ? AND {_OURS}",
               (job.state, to_record(job.message), job.stop_reason, to_record(job.where), job.started, job.ended,
                dbm.dumps(progress), dbm.dumps(history), dbm.dumps(points), dbm.dumps(result), time.time(), job.id))


def request_stop(db: dbm.Database, run_id: str, reason: str) -> bool:
    """Ask the server that trains a run to stop it (the Class page of any server); False if it had ended."""
    return db.execute("UPDATE runs SET stop_request = ? WHERE id = ? AND state IN ('queued', 'running')",
                      (reason, run_id)) > 0


def mark_saved(db: dbm.Database, run_id: str, name: str) -> None:
    db.execute("UPDATE runs SET saved_as = ? WHERE id = ?", (name, run_id))


def interrupt(db: dbm.Database, where: str, params: tuple, reason: str = "restart") -> int:
    """End every unfinished run matching ``where`` as interrupted by a restart; returns how many. A run that ended
    meanwhile keeps how it ended (each update is conditional on the run still being unfinished). ``reason``:
    "restart" when its own server restarted (its process is gone for sure), "lost" when its server stopped beating
    (it may only have been cut off: if it comes back, its word wins)."""
    n = 0
    with db.transaction() as tx:
        now = tx.now()
        for row in tx.all(f"SELECT id, progress FROM runs WHERE state IN ('queued', 'running') AND {where}", params):
            epoch = dbm.loads(row["progress"], {}).get("epoch")
            n += tx.execute("UPDATE runs SET state = 'error', message = ?, stop_reason = ?, ended = ?, "
                            "updated = ? WHERE id = ? AND state IN ('queued', 'running')",
                            (to_record(interrupted_message(epoch)), reason, now, now, row["id"]))
    return n


def beat(db: dbm.Database, server: str, engine_name: str) -> None:
    """This server is alive, by the database's clock (servers' own clocks may disagree by minutes)."""
    with db.transaction() as tx:
        now = tx.now()
        tx.execute("INSERT INTO servers (id, host, engine, started, beat) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO "
                   "UPDATE SET beat = excluded.beat, engine = excluded.engine",
                   (server, socket.gethostname(), engine_name, now, now))


def interrupt_orphans(db: dbm.Database, stale_s: float = STALE_S, alive: str = "") -> int:
    """Unfinished runs of servers that stopped beating (or never beat) end as interrupted; ``alive`` names a server
    known to be alive (the caller, which just beat)."""
    return interrupt(db, "server <> ? AND server NOT IN (SELECT id FROM servers WHERE beat > ?)",
                     (alive, db.now() - stale_s), reason="lost")


# ---------------------------------------------------------------- reads


def runs_of(db: dbm.Database, owner: str, limit: int = 50) -> list[RunRecord]:
    """One identity's runs, newest first."""
    rows = db.query("SELECT * FROM runs WHERE owner = ? ORDER BY submitted DESC LIMIT ?", (owner, limit))
    return [RunRecord.from_row(r) for r in rows]


# The columns a listing needs: not the curves, which only one run's chart reads.
LIST_COLUMNS = ("id, label, owner, owner_name, group_key, dataset, arch, epochs, state, message, stop_reason, worker, "
                "server, submitted, started, ended, updated, progress, result, saved_as")


def recent_runs(db: dbm.Database, since: float, limit: int = 300) -> list[RunRecord]:
    """Every unfinished run of the class, and those that ended after ``since``; unfinished first, newest first
    (without their curves)."""
    rows = db.query(f"SELECT {LIST_COLUMNS} FROM runs WHERE state IN ('queued', 'running') OR ended > ? "
                    "ORDER BY submitted DESC LIMIT ?", (since, limit))
    records = [RunRecord.from_row(r) for r in rows]
    return sorted(records, key=lambda r: (r.finished, -r.submitted))


@dataclass(frozen=True)
class Measured:
    """What a preset took on this class's servers: completed runs of it on one dataset, with its own epochs."""

    runs: int
    seconds: float  # median training time
    test_accuracy: float | None  # median


def measured_here(db: dbm.Database, arch: str, dataset: str, epochs: int, limit: int = 20) -> Measured | None:
    """The median time and test accuracy of the last completed runs of ``arch`` on ``dataset`` with ``epochs``
    epochs on every training image (None when there are none): the Train page's "measured here"."""
    rows = db.query("SELECT result, config FROM runs WHERE arch = ? AND dataset = ? AND epochs = ? AND state = 'done' "
                    "ORDER BY ended DESC LIMIT ?", (arch, dataset, epochs, limit))
    whole = [row for row in rows if dbm.loads(row["config"], {}).get("train_limit") is None]  # every image
    results = [r for r in (dbm.loads(row["result"], {}) for row in whole)
               if r.get("status") == "finished" and isinstance(r.get("seconds"), (int, float))]
    if not results:
        return None
    accuracies = [float(r["test_accuracy"]) for r in results
                  if isinstance(r.get("test_accuracy"), (int, float)) and not math.isnan(r["test_accuracy"])]
    return Measured(len(results), statistics.median(float(r["seconds"]) for r in results),
                    statistics.median(accuracies) if accuracies else None)


def last_run_time(db: dbm.Database, arch: str, dataset: str) -> tuple[int, float] | None:
    """(epochs, seconds of training) of the last run of ``arch`` on every image of ``dataset`` that finished here
    (None when there is none): what corrects the CIFAR forecast for the next run (cnn.cifar_budget)."""
    rows = db.query("SELECT epochs, result, config FROM runs WHERE arch = ? AND dataset = ? AND state = 'done' "
                    "ORDER BY ended DESC LIMIT 20", (arch, dataset))
    for row in rows:
        result = dbm.loads(row["result"], {})
        if dbm.loads(row["config"], {}).get("train_limit") is None and result.get("status") == "finished" \
                and isinstance(result.get("seconds"), (int, float)) and result.get("epochs_done") == row["epochs"]:
            return int(row["epochs"]), float(result["seconds"])
    return None


def get(db: dbm.Database, run_id: str) -> RunRecord | None:
    rows = db.query("SELECT * FROM runs WHERE id = ?", (run_id,))
    return RunRecord.from_row(rows[0]) if rows else None


def by_label(db: dbm.Database, label: str) -> RunRecord | None:
    """The newest run shown under ``label`` (the Train page's run names, such as "fast-mnist-2")."""
    rows = db.query("SELECT * FROM runs WHERE label = ? ORDER BY submitted DESC LIMIT 1", (label,))
    return RunRecord.from_row(rows[0]) if rows else None


def servers(db: dbm.Database, stale_s: float = STALE_S) -> list[dict[str, Any]]:
    """The class's servers that beat recently."""
    return db.query("SELECT * FROM servers WHERE beat > ? ORDER BY started", (db.now() - stale_s,))


# ---------------------------------------------------------------- the engine's recorder


class Recorder:
    """Keeps an engine's jobs in the database (see the module docstring); one thread per engine."""

    def __init__(self, db: dbm.Database, server: str | None = None, tick_s: float = TICK_S,
                 judge_after_s: float = STALE_S):
        self.db, self.server, self.tick_s = db, server or default_server_id(), tick_s
        self.judge_after_s = judge_after_s  # beat this long without a break before taking others' runs as lost
        self.engine: Engine | None = None
        self.error = ""  # the last database failure, for the Class page (training goes on regardless)
        self._written: dict[str, int] = {}  # job id -> number of events at its last snapshot
        self._unwritten: dict[str, Job] = {}  # runs that ended while the database was away: written when it is back
        self._pending = threading.Lock()
        self._beating_since: float | None = None  # since when every beat reached the database (monotonic)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, engine: Engine) -> None:
        """Start recording ``engine``'s jobs; runs this server left unfinished in an earlier life end first."""
        self.engine = engine
        self._guard(lambda: interrupt(self.db, "server = ?", (self.server,)))
        self._guard(lambda: beat(self.db, self.server, engine.name))
        self._thread = threading.Thread(target=self._loop, name="jobs-recorder", daemon=True)
        self._thread.start()

    def _guard(self, fn) -> Any:
        try:
            result = fn()
            self.error = ""
            return result
        except dbm.DatabaseError as e:  # the class database is down: training goes on, the page says so
            if str(e) != self.error:
                log.error("CNN Lab: %s", e)
            self.error = str(e)
            return None

    def submitted(self, job: Job, request: JobRequest) -> None:
        label = self._guard(lambda: insert(self.db, job, request, self.server, request.extra.get("group", "")))
        if label:
            job.label = label

    def finished(self, job: Job) -> None:
        """A run ended: its final record, now or (the database being away) at the first tick that reaches it."""
        with self._pending:
            self._unwritten[job.id] = job
        self._write_finals()
        self._written.pop(job.id, None)

    def _write_finals(self) -> bool:
        """Write the final record of every run that ended and is not written yet; True when none is left."""
        with self._pending:
            waiting = list(self._unwritten.values())
        for job in waiting:
            if self._guard(lambda job=job: final(self.db, job) or True):
                with self._pending:
                    self._unwritten.pop(job.id, None)
        return not self._unwritten

    def tick(self) -> None:
        """One round: beat, snapshots of live jobs that moved, stop requests, orphans."""
        engine = self.engine
        if engine is None:
            return
        alive = self._guard(lambda: beat(self.db, self.server, engine.name) or True)
        if not alive:
            self._beating_since = None
            return  # the database is away: nothing else can be written, nor judged by its clock
        if self._beating_since is None:
            self._beating_since = time.monotonic()
        self._write_finals()  # runs that ended while it was away: how they truly ended
        live = [j for j in engine.jobs() if not j.finished]
        for job in live:
            n = job.event_count() + (job.state == "running")
            if self._written.get(job.id) != n and self._guard(lambda job=job: snapshot(self.db, job) or True):
                self._written[job.id] = n
        if live:
            rows = self._guard(lambda: self.db.query(
                "SELECT id, stop_request FROM runs WHERE server = ? AND stop_request IS NOT NULL AND state IN "
                "('queued', 'running')", (self.server,))) or []
            for row in rows:
                job = engine.get(row["id"])
                if job is not None and not job.finished:
                    job.stop(row["stop_request"] if row["stop_request"] in ("user", "teacher") else "teacher")
        if time.monotonic() - self._beating_since >= self.judge_after_s:  # after an outage, others beat again first
            self._guard(lambda: interrupt_orphans(self.db, alive=self.server))

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            with contextlib.suppress(Exception):  # a recorder never takes the server down
                self.tick()

    def close(self, restarting: bool = True) -> None:
        """Stop recording; with ``restarting``, this server's unfinished runs end as interrupted by a restart."""
        self._stop.set()
        if restarting:
            self._guard(lambda: interrupt(self.db, "server = ?", (self.server,)))
        self._guard(lambda: self.db.execute("DELETE FROM servers WHERE id = ?", (self.server,)))
