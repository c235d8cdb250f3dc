"""30 students at once on one PostgreSQL class database: progress beats and saves, how long each waits.

    python bench/class_concurrency_bench.py [--students 30] [--seconds 20] [--speed 1 10] [--pool 10]

Each simulated student (a thread) writes its run's progress snapshot once a second (the recorder's rhythm; ``--speed``
10 writes ten times as often) and saves a model (a 300 KB file and its row, one transaction) every 10 s (also scaled).
Measured in one run, side by side, on a PostgreSQL server started here (Debian's postgresql):

- **row locks**: what CNN Lab does now (a save takes the lock of its model's name; a progress beat is one UPDATE of
  its own row);
- **one class lock**: every write first takes one class-wide advisory lock, as CNN Lab did before.

Prints, per mode and speed, the operations done, p50/p99/max of their wait (from asking to committed), and what was
lost (the last progress each run wrote against what the database holds; saves counted against rows).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cnn import db, index, precision  # noqa: E402

FILE = os.urandom(300_000)


def student(database: db.Database, k: int, seconds: float, speed: float, class_lock: bool,
            waits: dict[str, list[float]], last: dict[str, int], saves: list[str]) -> None:
    run = f"run-{k}"
    locks = ("class",) if class_lock else ()
    beat_every, save_every = 1.0 / speed, 10.0 / speed
    start = time.monotonic()
    next_beat, next_save, n = start + (k % 10) * 0.1 / speed, start + (k % 30) * save_every / 30, 0
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_beat:
            n += 1
            t0 = time.perf_counter()
            with database.transaction(*locks) as tx:
                tx.execute("UPDATE runs SET progress = ?, updated = ? WHERE id = ?",
                           (json.dumps({"batch": n, "loss": 1 / n}), time.time(), run))
            waits["progress"].append(time.perf_counter() - t0)
            last[run] = n
            next_beat += beat_every
        elif now >= next_save:
            name = f"m-{k}-{len(saves)}"
            t0 = time.perf_counter()
            with database.transaction(*(locks or (f"model:{name}",))) as tx:
                if index.live(tx, name) is None:
                    index.put_model(tx, name, {"dataset": "mnist", "owner": f"s{k}"},
                                    FILE[k:] + len(saves).to_bytes(4, "big"))
            waits["save"].append(time.perf_counter() - t0)
            saves.append(name)
            next_save += save_every
        else:
            time.sleep(min(next_beat, next_save) - now)


def measure(url: str, students: int, seconds: float, speed: float, class_lock: bool) -> dict:
    database = db.Database(url, pool_size=POOL)
    database.execute("DELETE FROM runs")
    database.execute("DELETE FROM models")
    database.execute("DELETE FROM blobs")
    with database.transaction() as tx:
        for k in range(students):
            tx.execute("INSERT INTO runs (id, label, state, submitted, updated) VALUES (?, ?, 'running', 0, 0)",
                       (f"run-{k}", f"run-{k}"))
    waits: dict[str, list[float]] = {"progress": [], "save": []}
    last: dict[str, int] = {}
    saves: list[str] = []
    errors: list[BaseException] = []

    def guarded(k: int) -> None:
        try:
            student(database, k, seconds, speed, class_lock, waits, last, saves)
        except BaseException as e:  # counted and shown: a student that stopped early would flatter the figures
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = {r["id"]: json.loads(r["progress"]).get("batch") for r in database.query("SELECT id, progress FROM runs")}
    lost_progress = sum(held.get(run) != n for run, n in last.items())
    lost_saves = len(saves) - database.query("SELECT COUNT(*) AS n FROM models")[0]["n"]
    database.close()
    if errors:
        raise SystemExit(f"{len(errors)} students failed: {errors[0]!r}")
    return {"waits": waits, "lost": (lost_progress, lost_saves)}


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


POOL = 10


def main() -> None:
    global POOL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--speed", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--pool", type=int, default=10)
    args = ap.parse_args()
    POOL = args.pool
    from postgres import fresh_database, postgres_server

    rows = []
    with postgres_server() as server:
        url = fresh_database(server)
        db.Database(url).close()  # the schema
        for speed in args.speed:
            for class_lock in (False, True):
                r = measure(url, args.students, args.seconds, speed, class_lock)
                mode = "one class lock (before)" if class_lock else "row locks (now)"
                for kind, values in r["waits"].items():
                    rows.append((f"{mode}, {speed:g}x, {kind}", len(values), pct(values, 50) * 1000,
                                 pct(values, 99) * 1000, max(values) * 1000))
                rows.append((f"{mode}, {speed:g}x, lost (progress, saves)", r["lost"], None, None, None))
    print(f"\nCNN Lab class database under {args.students} students · PostgreSQL on loopback · pool {POOL} · "
          f"{precision.cpu_name()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d')}\n")
    print(f"{'what':<46}{'ops':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, n, p50, p99, mx in rows:
        if p50 is None:
            print(f"{name:<46}{n!s:>8}")
        else:
            print(f"{name:<46}{n:>8}{p50:>10.1f}{p99:>10.1f}{mx:>10.1f}")


if __name__ == "__main__":
    main()
