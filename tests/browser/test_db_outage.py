"""The class database goes away and comes back (a real PostgreSQL stopped for 45 s while a student navigates and
her run trains): every page says so plainly, works again after PostgreSQL's return without a restart, and the
run that finished meanwhile is recorded as finished."""
import os
import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from browser.helpers import assert_no_error, new_student, wait_idle
from browser.server import ROOT, copy_models, running_app

pytestmark = pytest.mark.browser
OUTAGE_S = 45  # longer than a server's beat takes to go stale (20 s): the case that once marked runs interrupted
DOWN = re.compile(r"class database")


@pytest.fixture
def postgres():
    from postgres import PostgresUnavailable, postgres_instance, unavailable

    try:
        with postgres_instance() as server:
            yield server
    except PostgresUnavailable as e:
        unavailable(e)


def run_state(url: str) -> list[tuple[str, str | None]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute("SELECT state, stop_reason FROM runs").fetchall()]


def health(app_url: str, db_url: str) -> subprocess.CompletedProcess:
    """``python -m cnn health`` as a monitor runs it beside the server (same settings)."""
    return subprocess.run([sys.executable, "-m", "cnn", "health", "--url", app_url], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CNN_DATABASE_URL": db_url})


def test_pages_say_so_while_the_database_is_away_and_recover_without_a_restart(browser, tmp_path, postgres):
    env = dict(CNN_DATABASE_URL=postgres.url, CNN_TEACHER_PASSWORD="outage owl", CNN_MAX_JOBS="1",
               CNN_DATA_DIR=str(tmp_path / "no-data"))
    with running_app(copy_models(tmp_path / "models"), tmp_path / "streamlit.log", **env) as app:
        ctx, ana = new_student(browser, app["url"], "Ana")
        try:
            ana.goto(f"{app['url']}/Train?arch=fast&epochs=2&limit=2000")
            wait_idle(ana)
            ana.get_by_role("button", name="Train", exact=True).click()
            ana.get_by_text(re.compile(r"Epoch 1/2 · batch")).first.wait_for()

            assert health(app["url"], postgres.url).returncode == 0
            postgres.stop()
            down_at = time.monotonic()
            down = health(app["url"], postgres.url)
            assert down.returncode == 1 and "Cannot connect to the class database" in down.stderr
            for path in ("", "/Leaderboard", "/My_data"):  # she goes on clicking: each page says what is wrong
                started = time.monotonic()
                ana.goto(f"{app['url']}{path}")
                expect(ana.get_by_text(DOWN).first).to_be_visible(timeout=20_000)
                print(f"\nPostgreSQL down: '{path or '/'}' said so in {time.monotonic() - started:.1f} s")
                assert "Traceback" not in ana.inner_text("body")
                expect(ana.locator("[data-testid=stException]")).to_have_count(0)
            ana.wait_for_timeout(max(0.0, OUTAGE_S - (time.monotonic() - down_at)) * 1000)

            postgres.start()
            back_at = time.monotonic()
            for _ in range(20):  # a reload, as a student does when a page says to; no restart of CNN Lab
                ana.goto(app["url"])
                wait_idle(ana)
                if ana.locator("[data-testid=stSidebar]").get_by_role("textbox", name="Your name").count():
                    break
                ana.wait_for_timeout(500)
            name = ana.locator("[data-testid=stSidebar]").get_by_role("textbox", name="Your name")
            expect(name).to_have_value("Ana")
            assert health(app["url"], postgres.url).returncode == 0
            print(f"PostgreSQL back: the page works again after {time.monotonic() - back_at:.1f} s")
            deadline = time.monotonic() + 30
            while run_state(postgres.url) != [("done", None)] and time.monotonic() < deadline:
                time.sleep(0.5)
            assert run_state(postgres.url) == [("done", None)]  # it finished during the outage: recorded finished
            ana.goto(f"{app['url']}/Train")
            wait_idle(ana)
            ana.get_by_text(re.compile(r"Your runs \(\d+\)")).click()
            expect(ana.locator("[data-testid=stExpander]", has_text="Your runs")).not_to_contain_text("Interrupted")
            assert_no_error(ana)
        finally:
            ctx.close()
