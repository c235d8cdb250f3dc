"""The class database: Class page render time with a big class, and training throughput with progress recorded.

    python bench/class_db_bench.py [--runs 1000] [--students 30] [--pairs 3] [--no-postgres]

Measured in one run, side by side, with the CPU named:

- the Class page (AppTest, teacher mode; warm: the second and later runs) with ``--students`` identities and
  ``--runs`` runs in the database (each with 3 epochs of curves and 400 batch points), on SQLite and on a
  PostgreSQL server started here (Debian's postgresql), and the query behind it alone;
- training throughput of the fast preset (1 epoch of the full MNIST from ``CNN_DATA_DIR``, default
  ``../shared/datasets``; a local worker) with the engine writing progress to the database about once a second,
  against the same engine writing nothing, in alternating pairs (which goes first alternates too).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CNN_OFFLINE"] = "1"
os.environ.setdefault("CNN_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))

from cnn import dataset_sources, db, precision  # noqa: E402
from cnn.jobs import records  # noqa: E402


def fill(database: db.Database, students: int, runs: int) -> None:
    """A class of ``students`` with ``runs`` finished runs between them (and 3 still training)."""
    now = time.time()
    history = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, 0.9], "val_loss": [0.8, 0.5, 0.4],
               "val_accuracy": [0.75, 0.86, 0.89]}
    points = [{"loss": 1.0 / (i + 1), "accuracy": i / 400} for i in range(400)]
    with database.transaction() as tx:
        ids = [uuid.uuid4().hex for _ in range(students)]
        for i, sid in enumerate(ids):
            tx.execute("INSERT INTO identities (id, token_hash, name, created, seen) VALUES (?, ?, ?, ?, ?)",
                       (sid, uuid.uuid4().hex, f"Student {i}", now, now))
        for k in range(runs):
            active = k >= runs - 3
            tx.execute(
                "INSERT INTO runs (id, label, owner, owner_name, dataset, arch, epochs, state, message, server, "
                "submitted, started, ended, updated, progress, history, points, result) VALUES "
                "(?, ?, ?, ?, 'mnist', 'fast', 3, ?, ?, 'bench:1', ?, ?, ?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex[:12], f"fast-mnist-{k}", ids[k % students], f"Student {k % students}",
                 "running" if active else "done", "" if active else "Finished.", now - 3600 + k, now - 3600 + k,
                 None if active else now - 3000 + k, now,
                 db.dumps({"kind": "batch", "epoch": 2, "epochs": 3, "batch": 10, "batches": 100, "elapsed": 5.0,
                           "images_per_sec": 9000.0, "logs": {"loss": 0.4, "accuracy": 0.88}}),
                 db.dumps(history), db.dumps(points), db.dumps({"status": "finished", "test_accuracy": 0.9})))
    records.beat(database, "bench:1", "bench")


def class_page_seconds(url: str, repeats: int) -> tuple[float, float]:
    """(median AppTest run of the Class page in teacher mode, median of the query behind its run list)."""
    from streamlit.testing.v1 import AppTest

    os.environ["CNN_DATABASE_URL"] = url
    db.forget_shared()
    database = db.database()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/9_Class.py")
    at.session_state["teacher"] = True
    at.run()  # warm: imports, caches
    assert not at.exception, at.exception
    page = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        at.run()
        page.append(time.perf_counter() - t0)
    query = []
    for _ in range(repeats * 3):
        t0 = time.perf_counter()
        records.recent_runs(database, time.time() - 3 * 3600)
        query.append(time.perf_counter() - t0)
    return statistics.median(page), statistics.median(query)


def throughput(pairs: int) -> list[tuple[float, float]]:
    """(images/s without recording, images/s with progress written to SQLite) for alternating pairs."""
    from cnn import run_config
    from cnn.jobs import JobRequest
    from cnn.jobs.local import LocalEngine

    ds = dataset_sources.load_dataset("mnist")
    print(f"throughput on {len(ds.x_train):,} MNIST training images ({ds.source})", flush=True)
    cfg = run_config.default_config("fast", "mnist", n_train=len(ds.x_train))
    tmp = Path(tempfile.mkdtemp(prefix="cnnlab-bench-"))
    database = db.Database(f"sqlite:///{tmp / 'class.db'}")
    plain = LocalEngine(limit=1, heartbeat_timeout=3600)
    recorded = LocalEngine(limit=1, heartbeat_timeout=3600).record_to(records.Recorder(database, "bench"))
    out = []
    try:
        for engine in (plain, recorded):  # warm-up: each engine's worker has trained once before timing
            job = engine.submit(JobRequest(cfg, ds, label="warm-up", evaluate=False))
            assert job.wait(900) and job.state == "done", job.message
        for i in range(pairs):
            pair = {}
            for engine in (plain, recorded) if i % 2 == 0 else (recorded, plain):
                job = engine.submit(JobRequest(cfg, ds, label="throughput", evaluate=False))
                assert job.wait(900) and job.state == "done", job.message
                pair[engine is recorded] = len(ds.x_train) * job.result.epochs_done / job.result.seconds
            out.append((pair[False], pair[True]))
    finally:
        plain.shutdown()
        recorded.shutdown()
        database.close()
    return out


def snapshot_cost(database: db.Database) -> float:
    """Median seconds of one progress snapshot of a run one epoch into the full MNIST (469 batches), the work the
    recorder does for each training run once a second."""
    from cnn import run_config, run_results
    from cnn.jobs import JobRequest
    from cnn.jobs.base import Engine, Job

    class Idle(Engine):
        def _enqueue(self, job, request):
            pass

    engine = Idle(heartbeat_timeout=3600)
    req = JobRequest(run_config.TrainConfig(), None, label="cost")  # type: ignore[arg-type]
    job = Job(req, engine)
    records.insert(database, job, req, "bench")
    for b in range(1, 470):
        job.add_event(run_results.Progress("batch", 1, 3, b, 469, b * 0.01, 9000.0, {"loss": 1 / b, "accuracy": 0.9}))
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        records.snapshot(database, job)
        times.append(time.perf_counter() - t0)
    engine.shutdown()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="cnnlab-bench-"))
    os.environ["CNN_MODELS_DIR"] = str(tmp / "models")
    os.environ["CNN_USER_DATA_DIR"] = str(tmp / "user-data")
    url = f"sqlite:///{tmp / 'class.db'}"
    d = db.Database(url)
    fill(d, args.students, args.runs)
    d.close()
    page, query = class_page_seconds(url, args.repeats)
    rows.append((f"Class page, {args.students} students, {args.runs:,} runs, SQLite", f"{page * 1000:.0f} ms",
                 f"query {query * 1000:.1f} ms"))
    if not args.no_postgres:
        from postgres import PostgresUnavailable, fresh_database, postgres_server

        try:
            with postgres_server() as server:
                pg_url = fresh_database(server)
                d = db.Database(pg_url)
                fill(d, args.students, args.runs)
                d.close()
                page, query = class_page_seconds(pg_url, args.repeats)
                db.forget_shared()
                rows.append((f"Class page, {args.students} students, {args.runs:,} runs, PostgreSQL",
                             f"{page * 1000:.0f} ms", f"query {query * 1000:.1f} ms"))
        except PostgresUnavailable as e:
            rows.append(("Class page, PostgreSQL", "skipped", str(e)))
    d = db.Database(f"sqlite:///{tmp / 'cost.db'}")
    cost = snapshot_cost(d)
    d.close()
    rows.append(("One progress snapshot to SQLite (once a second per training run)", f"{cost * 1000:.1f} ms",
                 f"{cost:.2%} of one core"))
    pairs = throughput(args.pairs)
    for i, (plain, recorded) in enumerate(pairs, 1):
        rows.append((f"Fast preset, 1 epoch of MNIST, pair {i}", f"{plain:,.0f} img/s plain",
                     f"{recorded:,.0f} img/s recorded ({recorded / plain:.1%})"))
    ratio = statistics.median(r / p for p, r in pairs)
    rows.append(("Throughput with progress in the database (median ratio)", f"{ratio:.1%}", "goal ≥ 95%"))
    print(f"\nCNN Lab class database benchmark · {precision.cpu_name()} · {os.cpu_count()} cores · "
          f"{time.strftime('%Y-%m-%d')}\n")
    width = max(len(r[0]) for r in rows)
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>22}  {b}")


if __name__ == "__main__":
    main()
