"""A class that survives reloads and restarts: the browser's identity, its runs and models (real server, Chromium).

One server of its own (its folders and port kept, so that it can be restarted as "the same" server).
"""
import contextlib
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import SHOTS
from browser.helpers import assert_no_error, menu, save_model_as, wait_idle
from browser.server import copy_models, free_port, running_app

pytestmark = pytest.mark.browser
PASS = "lantern heron 7"


def sidebar(pg):
    return pg.locator("[data-testid=stSidebar]")


def name_box(pg):
    return sidebar(pg).get_by_role("textbox", name="Your name")


def cookie(ctx) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == "cnnlab_id"), None)


def new_token(pg, ctx, not_in: tuple[str, ...], tries: int = 120) -> str | None:
    """The identity cookie once the page's script has replaced the old one.

    The name box empties before the script writes the new cookie, so read it again
    (every half second, a minute at most) until it is no longer one of ``not_in``.
    """
    value = cookie(ctx)
    for _ in range(tries):
        if value not in not_in:
            break
        pg.wait_for_timeout(500)
        value = cookie(ctx)
    return value


def train(pg, url: str, query: str) -> None:
    pg.goto(f"{url}/Train?{query}")
    wait_idle(pg)
    pg.get_by_role("button", name="Train", exact=True).click()


@pytest.fixture
def home(tmp_path):
    copy_models(tmp_path / "models")
    return tmp_path


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_student_and_her_teacher_keep_their_work_over_reloads_deletes_and_a_restart(browser, home, backend,
                                                                                        request):
    port = free_port()
    env = dict(CNN_MAX_JOBS="1", CNN_TEACHER_PASSWORD=PASS, CNN_DATA_DIR=str(home / "no-data"))
    if backend == "postgresql":  # else the SQLite file in the server's home
        from postgres import fresh_database

        env["CNN_DATABASE_URL"] = fresh_database(request.getfixturevalue("postgres_url"))
    ana_ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
    teacher_ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
    ana, teacher = ana_ctx.new_page(), teacher_ctx.new_page()
    for pg in (ana, teacher):
        pg.set_default_timeout(120_000)
    try:
        with running_app(home=home, port=port, log_path=home / "first.log", **env) as app:
            url = app["url"]
            ana.goto(url)
            wait_idle(ana)
            name_box(ana).fill("Ana")
            name_box(ana).press("Enter")
            wait_idle(ana)
            train(ana, url, "arch=fast&epochs=1&limit=2000")
            ana.get_by_text(re.compile(r"Finished 1 epoch")).wait_for(timeout=180_000)
            save_model_as(ana, "ana-fast")
            expect(ana.get_by_text("Saved as ana-fast")).to_be_visible()

            # A reload: the same student, her name, her result, her models.
            ana.reload()
            wait_idle(ana)
            expect(name_box(ana)).to_have_value("Ana")
            expect(ana.get_by_text("Saved as ana-fast")).to_be_visible()
            menu(ana, "Home")
            expect(ana.get_by_text("Delete a model you saved")).to_be_visible()  # hers, not "saved by others"
            train(ana, url, "arch=fast&epochs=1&limit=2000")
            ana.get_by_text(re.compile(r"Finished 1 epoch")).wait_for(timeout=180_000)
            save_model_as(ana, "ana-fast", replace=True)  # replacing her own model works after the reload
            expect(ana.get_by_text("Saved as ana-fast")).to_be_visible()
            assert "you can replace only models you saved" not in ana.inner_text("body")

            # The teacher: passphrase once, then a reload keeps teacher mode.
            teacher.goto(f"{url}/Class")
            wait_idle(teacher)
            teacher.get_by_label("Teacher passphrase").fill(PASS)
            teacher.get_by_role("button", name="Enter teacher mode").click()
            teacher.get_by_role("heading", name="Runs").wait_for()
            teacher.reload()
            wait_idle(teacher)
            teacher.get_by_role("heading", name="Runs").wait_for(timeout=30_000)

            # The teacher deletes Ana's model: her page says so and lets her save it again.
            teacher.get_by_text("Yes, delete ana-fast").click()  # her model is the only one that can be deleted
            wait_idle(teacher)
            teacher.get_by_role("button", name="Delete", exact=True).click()
            wait_idle(teacher)
            ana.reload()
            wait_idle(ana)
            expect(ana.get_by_text(re.compile(r"but your teacher deleted it"))).to_be_visible(timeout=30_000)
            save_model_as(ana, "ana-again")
            expect(ana.get_by_text("Saved as ana-again")).to_be_visible()

            # A Tutorial run, and a reload mid-run: the live run is still hers, on the page and in the sidebar.
            train(ana, url, "arch=tutorial&epochs=3&limit=all")
            ana.get_by_text(re.compile(r"Epoch 1/3 · batch")).first.wait_for(timeout=120_000)
            ana.reload()
            wait_idle(ana)
            expect(sidebar(ana).get_by_text(re.compile(r"tutorial-mnist-\d+"))).to_be_visible(timeout=30_000)
            expect(ana.get_by_text(re.compile(r"Epoch \d/3 · batch")).first).to_be_visible(timeout=30_000)

            menu(teacher, "Class")
            expect(teacher.get_by_text(re.compile(r"Ana · tutorial-mnist-\d+ · Epoch")).first).to_be_visible()
            ana.get_by_role("button", name="Stop", exact=True).first.click()
            ana.get_by_text(re.compile(r"Stopped by you at epoch")).first.wait_for(timeout=60_000)

            # One more run, still training when the server stops.
            train(ana, url, "arch=fast&epochs=300&limit=all")
            ana.get_by_text(re.compile(r"Epoch \d+/300 · batch")).first.wait_for(timeout=120_000)
            ana.wait_for_timeout(2500)  # its progress reaches the database
            assert_no_error(ana)

        with running_app(home=home, port=port, log_path=home / "second.log", **env) as app:
            ana.reload()
            wait_idle(ana)
            expect(name_box(ana)).to_have_value("Ana")
            menu(ana, "Train")
            ana.get_by_text(re.compile(r"Your runs \(\d+\)")).click()
            runs = ana.locator("[data-testid=stExpander]", has_text="Your runs")
            expect(runs).to_contain_text(re.compile(r"Interrupted by a server restart at epoch \d+"))
            expect(runs).to_contain_text("saved as ana-again")
            expect(runs).to_contain_text(re.compile(r"fast-mnist-\d+"))
            teacher.reload()
            wait_idle(teacher)
            teacher.get_by_role("heading", name="Runs").wait_for(timeout=30_000)  # still the teacher
            SHOTS.mkdir(parents=True, exist_ok=True)
            ana.screenshot(path=str(SHOTS / "identity-after-restart.png"), full_page=True)
            for pg in (ana, teacher):
                assert_no_error(pg)
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for who, pg in (("ana", ana), ("teacher", teacher)):
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(SHOTS / f"identity-{who}.png"), full_page=True)
        ana_ctx.close()
        teacher_ctx.close()


def test_a_forged_cookie_gets_a_new_identity_and_start_fresh_makes_one(browser, home):
    with running_app(home=home, log_path=home / "s.log") as app:
        ctx = browser.new_context(viewport={"width": 1200, "height": 900})
        try:
            pg = ctx.new_page()
            pg.set_default_timeout(60_000)
            pg.goto(app["url"])
            wait_idle(pg)
            name_box(pg).fill("Zoe")
            name_box(pg).press("Enter")
            wait_idle(pg)
            token = cookie(ctx)
            ctx.add_cookies([{"name": "cnnlab_id", "value": token[:-2] + "xx", "url": app["url"]}])
            pg.reload()
            wait_idle(pg)
            expect(name_box(pg)).to_have_value("")  # a stranger, not Zoe, and not an error
            fresh = new_token(pg, ctx, not_in=(token, token[:-2] + "xx"))
            assert fresh not in (token, token[:-2] + "xx")  # a new identity, with a new token
            ctx.add_cookies([{"name": "cnnlab_id", "value": token, "url": app["url"]}])
            pg.reload()
            wait_idle(pg)
            expect(name_box(pg)).to_have_value("Zoe")
            sidebar(pg).get_by_role("button", name="Not you? Start fresh").click()
            wait_idle(pg)
            expect(name_box(pg)).to_have_value("")
            pg.reload()
            wait_idle(pg)
            expect(name_box(pg)).to_have_value("")  # the fresh identity sticks
            assert_no_error(pg)
        finally:
            ctx.close()
