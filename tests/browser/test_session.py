"""Runs and choices belong to the browser session, not to a page (real server, real Chromium)."""
import re
import time

import pytest
from playwright.sync_api import expect

from browser.conftest import HEARTBEAT_S
from browser.helpers import assert_no_error, menu, wait_idle

pytestmark = pytest.mark.browser


def sidebar(pg):
    return pg.locator("[data-testid=stSidebar]")


def test_a_run_keeps_training_while_the_student_visits_other_pages(page, server):
    page.goto(f"{server['url']}/Train?arch=tutorial&limit=all")
    wait_idle(page)
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("3")
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch 1/3 · batch")).first.wait_for(timeout=120_000)
    t0 = time.monotonic()
    for name in ("Lessons", "Evaluate", "Draw"):  # longer, together, than the heartbeat timeout
        menu(page, name)
        expect(sidebar(page).get_by_text(re.compile(r"tutorial-mnist-\d+"))).to_be_visible(timeout=30_000)
        assert_no_error(page)
        page.wait_for_timeout(HEARTBEAT_S * 1000 // 2)
    assert time.monotonic() - t0 > HEARTBEAT_S
    menu(page, "Train")
    assert page.get_by_role("spinbutton", name="Epochs").input_value() == "3", "the run's settings, not the defaults"
    expect(page.get_by_role("combobox", name="Architecture")).to_have_value(re.compile("^Tutorial"))
    finished = page.get_by_text(re.compile(r"Finished 3 epochs"))
    live = page.get_by_text(re.compile(r"Epoch \d/3 · batch"))
    expect(finished.or_(live).first).to_be_visible(timeout=60_000)
    finished.wait_for(timeout=300_000)
    assert "Stopped" not in page.inner_text("body")
    menu(page, "Evaluate")  # the newest model is what Evaluate opens on
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value(
        re.compile(r"^tutorial-mnist-\d+ \(this session, not saved\)"))
    assert_no_error(page)


def test_choices_survive_a_visit_to_another_page(page, server):
    page.goto(f"{server['url']}/Train")
    wait_idle(page)
    sidebar(page).get_by_text("Presentation mode").click()
    wait_idle(page)
    page.get_by_text("Settings", exact=True).click()  # on a projector the settings fold under the Train button
    page.get_by_role("spinbutton", name="Epochs").fill("4")
    page.get_by_role("spinbutton", name="Epochs").press("Enter")
    wait_idle(page)
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name="Fashion-MNIST (clothes)").click()
    wait_idle(page)
    menu(page, "Data")
    assert sidebar(page).get_by_role("switch", name="Presentation mode").is_checked()
    menu(page, "Train")
    page.get_by_text("Settings", exact=True).click()
    assert page.get_by_role("spinbutton", name="Epochs").input_value() == "4"
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(re.compile("^Fashion-MNIST"))
    assert sidebar(page).get_by_role("switch", name="Presentation mode").is_checked()


def test_a_closed_tab_ends_its_run_and_frees_the_slot(browser, server):
    first = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    first.goto(f"{server['url']}/Train?arch=fast&epochs=500&limit=all")
    wait_idle(first)
    first.get_by_role("button", name="Train", exact=True).click()
    first.get_by_text(re.compile(r"Epoch \d+/500 · batch")).first.wait_for(timeout=120_000)
    second = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    try:
        # Drawn before the first tab closes: its press must come within the heartbeat, while the slot is still taken
        # (a page drawn after the close took longer than that on a slow machine, and found the slot already free).
        second.goto(f"{server['url']}/Train?arch=fast&epochs=1&limit=2000")
        wait_idle(second)
        first.context.close()  # the student closes the tab mid-run
        second.get_by_role("button", name="Train", exact=True).click()
        second.get_by_text(re.compile(r"number 1 in the queue")).first.wait_for(timeout=30_000)  # one slot, taken
        second.get_by_text(re.compile(r"Finished 1 epoch")).wait_for(timeout=(HEARTBEAT_S + 60) * 1000)
        assert_no_error(second)
    finally:
        second.context.close()
