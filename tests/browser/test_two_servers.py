"""Two app servers, one class: a run started on one is seen live and stopped on the other's Class page."""
import re

import pytest
from playwright.sync_api import expect

from browser.helpers import assert_no_error, wait_idle
from browser.server import copy_models, running_app

pytestmark = pytest.mark.browser
PASS = "two servers one class"


def test_a_run_on_one_server_is_seen_and_stopped_from_the_other(browser, tmp_path):
    models = copy_models(tmp_path / "models")
    shared = dict(CNN_DATABASE_URL=f"sqlite:///{tmp_path / 'class.db'}", CNN_USER_DATA_DIR=str(tmp_path / "user-data"),
                  CNN_TEACHER_PASSWORD=PASS, CNN_MAX_JOBS="1", CNN_DATA_DIR=str(tmp_path / "no-data"))
    with running_app(models, tmp_path / "a.log", **shared) as a, running_app(models, tmp_path / "b.log", **shared) as b:
        student_ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        teacher_ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        try:
            student, teacher = student_ctx.new_page(), teacher_ctx.new_page()
            for pg in (student, teacher):
                pg.set_default_timeout(120_000)
            student.goto(f"{a['url']}/Train?arch=fast&epochs=300&limit=all")
            wait_idle(student)
            name = student.locator("[data-testid=stSidebar]").get_by_role("textbox", name="Your name")
            name.fill("Kim")
            name.press("Enter")
            wait_idle(student)
            student.get_by_role("button", name="Train", exact=True).click()
            student.get_by_text(re.compile(r"Epoch \d+/300 · batch")).first.wait_for()

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
            student.get_by_text(re.compile(r"Stopped by your teacher at epoch \d+, batch \d+")).first.wait_for(
                timeout=30_000)
            for pg in (student, teacher):
                assert_no_error(pg)
        finally:
            student_ctx.close()
            teacher_ctx.close()
