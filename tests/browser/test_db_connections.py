"""A class clicking through pages: the server's connections to the class database stay within its pool.

Streamlit runs every page run on a new thread; a connection per thread, never closed, once exhausted
PostgreSQL's connections (and a server's file handles on SQLite) within a lesson. Three students click
through four pages 40 times each (120 page runs, with a teacher passphrase set so every run checks
for a grant) against a real server whose pool holds 3 connections: a connection kept per page run would
show as 120. (It ran 300 page runs until the whole suite had to fit 20 minutes; 120 already tell a
bounded pool from a leak 40 times over.)
"""
import contextlib
import re
from pathlib import Path

import pytest

from browser.helpers import assert_no_error, open_sidebar, wait_idle
from browser.server import copy_models, running_app

pytestmark = pytest.mark.browser
POOL = 3
ROUTE = [("Leaderboard", re.compile(r"/Leaderboard$")), ("My data", re.compile(r"/My_data$")),
         ("Data", re.compile(r"/Data$")), ("Home", re.compile(r"/$"))]
ROUNDS = 10  # x 4 pages x 3 students = 120 page runs


def sqlite_handles(pid: int, path: Path) -> int:
    """Open descriptors of the server process on the database file itself (one per SQLite connection)."""
    n = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            n += Path(fd.readlink()) == path
    return n


def pg_backends(url: str) -> int:
    """Client connections to the class database on the PostgreSQL server (this one's own excepted)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                            "pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_hundred_and_twenty_page_runs_stay_within_the_pool(browser, tmp_path, backend, request):
    env = dict(CNN_DB_POOL_SIZE=str(POOL), CNN_TEACHER_PASSWORD="pool owl", CNN_DATA_DIR=str(tmp_path / "no-data"))
    db_file = tmp_path / "home" / "cnnlab.db"
    if backend == "postgresql":
        from postgres import fresh_database

        env["CNN_DATABASE_URL"] = url = fresh_database(request.getfixturevalue("postgres_url"))
    with running_app(copy_models(tmp_path / "models"), tmp_path / "streamlit.log", home=tmp_path / "home",
                     **env) as app:
        def count() -> int:
            return pg_backends(url) if backend == "postgresql" else sqlite_handles(app["pid"], db_file)

        contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(3)]
        try:
            pages = [c.new_page() for c in contexts]
            for pg in pages:
                pg.set_default_timeout(60_000)
                pg.goto(app["url"])
                wait_idle(pg)
                open_sidebar(pg)
            seen, runs = [count()], 3
            for _ in range(ROUNDS):
                for name, path in ROUTE:
                    for pg in pages:  # the three students click at once
                        pg.locator("[data-testid=stSidebar]").get_by_role("link", name=name, exact=True).first.click()
                    for pg in pages:
                        pg.wait_for_url(path)
                        pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")
                    runs += len(pages)
                seen.append(count())
            for pg in pages:
                wait_idle(pg)
                assert_no_error(pg)
            seen.append(count())
        finally:
            for c in contexts:
                c.close()
    print(f"\n{backend}: {runs} page runs, connections seen {seen}")
    assert runs >= 120
    assert max(seen) <= POOL, seen
