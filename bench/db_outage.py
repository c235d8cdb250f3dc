"""PostgreSQL goes away for 10 s, 45 s and 2 min while a student navigates and two runs train.

    python bench/db_outage.py [--outages 10 45 120]

A real app server on a PostgreSQL server of its own (Debian's postgresql, started here), two Chromium students.
For each outage: Ana's short run ends during the outage and Ben's long one goes on training through it; Ana
opens a page every 5 s meanwhile. Prints how long a page took to say the database cannot be reached
(slowest of the outage), how long after PostgreSQL's return a page worked again (reloading every half second,
without restarting CNN Lab), and how both runs are recorded once it is back (the short one must read "done", the long
one "running" and moving).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from browser.helpers import new_student, wait_idle  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, copy_models, running_app  # noqa: E402
from postgres import postgres_instance  # noqa: E402

DOWN = re.compile(r"class database")


def runs(url: str) -> dict[str, tuple[str, str]]:
    """label -> (state, its latest progress as stored) of every run."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {label: (state, progress) for label, state, progress in
                conn.execute("SELECT label, state, progress FROM runs").fetchall()}


def stop_run(db_url: str, label: str) -> None:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE runs SET stop_request = 'user' WHERE label = %s AND state IN ('queued', 'running')",
                     (label,))
    time.sleep(3.0)


def start_run(pg, url: str, db_url: str, epochs: int) -> str:
    """Press Train on the Train page; the new run's label."""
    import psycopg

    pg.goto(f"{url}/Train?arch=fast&epochs={epochs}&limit={2000 if epochs < 10 else 'all'}")
    wait_idle(pg)
    pg.get_by_role("button", name="Train", exact=True).click()
    pg.get_by_text(re.compile(rf"Epoch 1/{epochs} · batch")).first.wait_for(timeout=120_000)
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT label FROM runs ORDER BY submitted DESC LIMIT 1").fetchone()[0]


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outages", type=float, nargs="+", default=[10.0, 45.0, 120.0])
    args = ap.parse_args()
    rows = []
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"cnnlab-outage-{os.getpid()}"
    with postgres_instance() as pgsql, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        with running_app(copy_models(tmp / "models"), tmp / "streamlit.log", CNN_DATABASE_URL=pgsql.url,
                         CNN_MAX_JOBS="2", CNN_DATA_DIR=str(tmp / "no-data"), CNN_TEACHER_PASSWORD="bench") as app:
            ctx, pg = new_student(browser, app["url"], "Ana")
            ben_ctx, ben = new_student(browser, app["url"], "Ben")
            for outage in args.outages:
                long_run = start_run(ben, app["url"], pgsql.url, 300)  # Ben's run trains through the outage
                short_run = start_run(pg, app["url"], pgsql.url, 2)  # Ana's ends during it
                pgsql.stop()
                down_at, slowest = time.monotonic(), 0.0
                while time.monotonic() - down_at < outage:
                    t0 = time.monotonic()
                    pg.goto(app["url"] + ("/Leaderboard" if int(t0) % 2 else "/"))
                    pg.get_by_text(DOWN).first.wait_for(timeout=60_000)
                    slowest = max(slowest, time.monotonic() - t0)
                    pg.wait_for_timeout(max(0.0, 5.0 - (time.monotonic() - t0)) * 1000)
                pgsql.start()
                back_at = time.monotonic()
                while True:
                    pg.goto(app["url"])
                    wait_idle(pg)
                    if pg.locator("[data-testid=stSidebar]").get_by_role("textbox", name="Your name").count():
                        break
                    pg.wait_for_timeout(500)
                recovered = time.monotonic() - back_at
                time.sleep(3.0)  # the recorder's next beats
                first = runs(pgsql.url)
                time.sleep(3.0)
                then = runs(pgsql.url)
                short, long_ = then.get(short_run, ("missing", "")), then.get(long_run, ("missing", ""))
                moving = long_[1] != first.get(long_run, ("", ""))[1]
                rows.append((f"{outage:.0f} s", f"{slowest:.1f} s", f"{recovered:.1f} s", short[0],
                             f"{long_[0]}{' and moving' if moving and long_[0] == 'running' else ''}"))
                print(" | ".join(rows[-1]), flush=True)
                stop_run(pgsql.url, long_run)  # as a Stop on any server's page asks it
            ctx.close()
            ben_ctx.close()
        browser.close()
    from cnn import precision

    print(f"\nCNN Lab: the class database away and back · {precision.cpu_name()} · {os.cpu_count()} cores · "
          f"{time.strftime('%Y-%m-%d')}\n")
    head = ("PostgreSQL away", "page says so (slowest)", "works again after", "run that ended meanwhile",
            "run training through it")
    print(" | ".join(head))
    for row in rows:
        print(" | ".join(row))


if __name__ == "__main__":
    main()
