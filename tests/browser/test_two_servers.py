"""Two app servers, one class, each with its own models and data folders (no shared folder; SQLite file or
PostgreSQL): a run started on one is seen live and stopped on the other's Class page; a model saved on one is
listed, drawn with and protected on the other."""
import re

import pytest
from playwright.sync_api import expect

from browser.helpers import assert_no_error, draw_digit, new_student, save_model_as, wait_idle
from browser.server import copy_models, running_app

pytestmark = pytest.mark.browser
PASS = "two servers one class"


def class_url(backend: str, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'class.db'}"
    from postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_url"))


def train_and_save(pg, url: str, name: str, replace: bool = False) -> None:
    pg.goto(f"{url}/Train?arch=fast&epochs=1&limit=2000")
    wait_idle(pg)
    pg.get_by_role("button", name="Train", exact=True).click()
    pg.get_by_text(re.compile(r"Finished 1 epoch")).wait_for(timeout=180_000)
    save_model_as(pg, name, replace)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_servers_without_a_shared_folder_share_runs_and_models(browser, tmp_path, backend, request):
    common = dict(CNN_DATABASE_URL=class_url(backend, tmp_path, request), CNN_TEACHER_PASSWORD=PASS,
                  CNN_MAX_JOBS="1", CNN_SECRET_KEY="k" * 64)
    mine = {side: dict(CNN_USER_DATA_DIR=str(tmp_path / side / "user-data"), CNN_DATA_DIR=str(tmp_path / side / "data"))
            for side in ("a", "b")}
    with running_app(copy_models(tmp_path / "a" / "models"), tmp_path / "a.log", **common, **mine["a"]) as a, \
            running_app(copy_models(tmp_path / "b" / "models"), tmp_path / "b.log", **common, **mine["b"]) as b:
        contexts = []
        try:
            # Kim saves a model on server A.
            kim_ctx, kim = new_student(browser, a["url"], "Kim")
            contexts.append(kim_ctx)
            train_and_save(kim, a["url"], "kim-model")
            expect(kim.get_by_text("Saved as kim-model")).to_be_visible()
            assert not (tmp_path / "b" / "models" / "kim-model.keras").exists()

            # Lee, on server B: Kim's model is on the leaderboard with her name, and Lee draws with it.
            lee_ctx, lee = new_student(browser, b["url"], "Lee")
            contexts.append(lee_ctx)
            lee.goto(f"{b['url']}/Leaderboard")
            wait_idle(lee)
            expect(lee.locator("[data-testid=stMain]")).to_contain_text("kim-model")
            expect(lee.locator("[data-testid=stMain]")).to_contain_text("Kim")
            lee.goto(f"{b['url']}/Draw")
            wait_idle(lee)
            lee.get_by_label("Model").first.click()
            lee.get_by_role("option", name=re.compile(r"^kim-model")).click()
            wait_idle(lee)
            lee.locator(".draw-pad canvas").first.wait_for()
            lee.wait_for_timeout(500)
            draw_digit(lee, 1)
            lee.get_by_text(re.compile(r"^Prediction: \d$")).first.wait_for(timeout=60_000)
            assert_no_error(lee)

            # ...but may neither delete nor replace it.
            lee.goto(b["url"])
            wait_idle(lee)
            expect(lee.get_by_text("Models saved by others can be deleted only by them or by your teacher.")) \
                .to_be_visible()
            train_and_save(lee, b["url"], "kim-model", replace=True)
            expect(lee.get_by_text(re.compile(r"you can replace only models you saved"))).to_be_visible()

            # A run on A, seen live and stopped from B's Class page.
            kim.goto(f"{a['url']}/Train?arch=fast&epochs=300&limit=all")
            wait_idle(kim)
            kim.get_by_role("button", name="Train", exact=True).click()
            kim.get_by_text(re.compile(r"Epoch \d+/300 · batch")).first.wait_for()
            teacher_ctx = browser.new_context(viewport={"width": 1300, "height": 900})
            contexts.append(teacher_ctx)
            teacher = teacher_ctx.new_page()
            teacher.set_default_timeout(120_000)
            teacher.goto(f"{b['url']}/Class")  # the other server
            wait_idle(teacher)
            teacher.get_by_label("Teacher passphrase").fill(PASS)
            teacher.get_by_role("button", name="Enter teacher mode").click()
            teacher.get_by_role("heading", name="Runs").wait_for()
            row = teacher.locator("[data-testid=stHorizontalBlock]", has_text=re.compile(r"Kim · fast-mnist"))
            expect(row.first).to_contain_text(re.compile(r"Epoch \d+/300 · batch"))
            first = row.first.inner_text()
            expect(row.first).not_to_have_text(first, timeout=15_000)  # it moves: progress comes through the database
            expect(teacher.get_by_text(re.compile(r"1 other server of this class"))).to_be_visible()
            row.first.get_by_role("button", name="Stop").click()
            kim.get_by_text(re.compile(r"Stopped by your teacher at epoch \d+, batch \d+")).first.wait_for(
                timeout=30_000)
            for pg in (kim, lee, teacher):
                assert_no_error(pg)
        finally:
            for ctx in contexts:
                ctx.close()
