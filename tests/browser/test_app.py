"""The app as a person uses it, in headless Chromium against the real server."""
import re

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    DRAW_PAD,
    act_until_shown,
    assert_no_error,
    draw_digit,
    settled_box,
    touch_strokes,
    wait_idle,
)
from drawn_digits import STROKES, transform

pytestmark = pytest.mark.browser

INDEX_COLUMN_PX = 56  # the confusion table's first column (pages/3_Evaluate.py): the true classes
PAGES = {"": "CNN Lab", "Data": "Data", "Train": "Train a network", "Evaluate": "Evaluate",
         "Inspect": "Inspect a network", "Draw": "Draw a digit", "Lessons": "Lessons"}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_cleanly(page, server, path):
    page.goto(f"{server['url']}/{path}")
    wait_idle(page)
    page.get_by_role("heading", name=re.compile(PAGES[path])).first.wait_for()
    assert_no_error(page)


def canvas_box(pg):
    canvas = pg.locator(DRAW_PAD)  # the app's own pad, inside its component's shadow root
    expect(canvas).to_have_count(1)
    pg.wait_for_timeout(300)
    box = canvas.first.bounding_box()
    assert box and box["width"] == 280 and box["height"] == 280
    return box


def stroke_digit(pg, digit, **placement):
    canvas_box(pg)
    draw_digit(pg, digit, **placement)


def expect_prediction(pg, digit):
    pg.get_by_text(f"Prediction: {digit}", exact=True).wait_for(timeout=60_000)
    assert_no_error(pg)


PROMPT = "Draw one digit in the black square"


def clear(pg):
    pg.get_by_role("button", name="Clear the drawing").click()
    wait_idle(pg)
    pg.get_by_text(PROMPT).wait_for()


def test_draw_reads_mouse_strokes_and_undo_takes_back_one_stroke(page, server):
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    page.get_by_text(PROMPT).wait_for()
    expect(page.get_by_role("button", name="Undo the last stroke")).to_be_disabled()
    for digit in (1, 0, 7, 4, 2, 3, 8):
        stroke_digit(page, digit)
        expect_prediction(page, digit)
        clear(page)
    stroke_digit(page, 1)
    expect_prediction(page, 1)
    draw_digit(page, 0, size=120, cx=200, cy=140)  # a second stroke makes it something else...
    page.get_by_text(re.compile(r"^Prediction: [^1]$")).first.wait_for()
    page.get_by_role("button", name="Undo the last stroke").click()  # ...and Undo takes it back
    expect_prediction(page, 1)


def test_strokes_at_the_very_top_of_the_square_take_ink(page, server):
    """Nothing floats over the pad: a stroke along its top edge is ink like any other."""
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    page.mouse.move(10, 10)  # the mouse arrives from outside, as a student's would
    stroke_digit(page, 7, size=250, cx=150, cy=2 + 0.44 * 250)  # the 7's top bar on the square's top edge
    expect_prediction(page, 7)


def test_a_phone_draws_with_a_finger_and_sees_the_answer_without_scrolling(browser, server, phone_device):
    """390x844 with touch: strokes by finger (touch events, as a phone sends them); the prediction is on screen."""
    context = browser.new_context(**phone_device)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{server['url']}/Draw")
        wait_idle(pg)
        pg.locator(DRAW_PAD).first.scroll_into_view_if_needed()
        pg.wait_for_timeout(300)
        touch_strokes(pg, transform(STROKES[7], size=220, cx=140, cy=140))
        answer = pg.get_by_text("Prediction: 7", exact=True)
        answer.wait_for(timeout=60_000)
        wait_idle(pg)
        assert_no_error(pg)
        top = answer.bounding_box()["y"]
        assert top >= 0 and top + 30 <= 844, f"the prediction is on screen (y={top:.0f} of 844)"
        pg.screenshot(path=str(server["log"].parent / "draw-phone.png"))
    finally:
        context.close()


def test_train_fast_preset_live_then_stop_and_save(page, server):
    page.goto(f"{server['url']}/Train?arch=fast&epochs=500&limit=all")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    bar = page.locator("[data-testid=stProgress]").first
    bar.wait_for()
    page.get_by_text(re.compile(r"Epoch \d+/500 · batch \d+/\d+")).first.wait_for(timeout=60_000)
    first = page.get_by_text(re.compile(r"Epoch \d+/500 · batch")).first.inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(2500)
    later = page.get_by_text(re.compile(r"Epoch \d+/500 · batch")).first.inner_text()
    assert later != first, "the progress bar moves"
    page.screenshot(path=str(server["log"].parent / "train-during.png"))
    page.get_by_role("button", name="Stop", exact=True).first.click()
    page.get_by_text(re.compile("Stopped by you")).first.wait_for(timeout=60_000)
    wait_idle(page)
    assert_no_error(page)
    page.get_by_text("Test accuracy", exact=True).first.wait_for()
    page.get_by_role("textbox", name="Save as").fill("browser-fast")
    page.get_by_role("button", name="Save model").click()
    page.get_by_text(re.compile("Saved as browser-fast")).first.wait_for()
    assert (server["models"] / "browser-fast.keras").exists()
    page.get_by_role("link", name=re.compile("Evaluate")).first.click()  # same session: the model is usable
    wait_idle(page)
    page.get_by_text("Test accuracy", exact=True).first.wait_for()
    assert_no_error(page)
    page.goto(f"{server['url']}/")
    wait_idle(page)
    page.locator("[data-testid=stDataFrame] td", has_text="browser-fast").first.wait_for(state="attached")


def test_evaluate_confusion_cell_shows_its_images_by_mouse_and_by_keyboard(page, server):
    page.goto(f"{server['url']}/Evaluate")
    wait_idle(page)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for()
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")
    wait_idle(page)
    shown = page.get_by_text(re.compile(r"test images of 0 predicted as 0 \(correct\)")).first

    def click_top_left() -> None:  # the top-left count: true 0, said 0
        area = settled_box(page, grid)
        page.mouse.click(area["x"] + INDEX_COLUMN_PX + 12, area["y"] + 35 + 17)

    act_until_shown(click_top_left, shown, "a click on the top-left cell")
    for key in ["ArrowDown"] * 4 + ["ArrowRight"] * 9:  # to true 4, predicted 9: a classic confusion
        page.keyboard.press(key)
        wait_idle(page)
    page.get_by_text(re.compile(r"test images? of 4 predicted as 9$")).first.wait_for()
    assert_no_error(page)


def test_inspect_shows_feature_maps_of_the_shipped_model(page, server):
    page.goto(f"{server['url']}/Inspect")
    wait_idle(page)
    page.get_by_text(re.compile(r"conv1 \(Conv2D\) · output 28×28×32")).wait_for()
    expect(page.locator("[data-testid=stImage]").nth(4)).to_be_visible()  # images arrive after the text
    page.get_by_role("tab", name="Grad-CAM and saliency").click()
    page.get_by_text(re.compile("Grad-CAM for")).first.wait_for()
    wait_idle(page)
    trio = [page.locator("[data-testid=stImage]", has_text=re.compile(text)).locator("img").first
            for text in ("^Input$", "^Grad-CAM for", "^Saliency")]
    widths = [round(img.bounding_box()["width"]) for img in trio]
    assert len(set(widths)) == 1, f"input, Grad-CAM and saliency side by side at one size: {widths}"
    assert_no_error(page)
