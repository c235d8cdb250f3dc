"""Presentation mode on a classroom projector (1280×720): the sidebar folds away, nothing is cut off sideways, text
is large. Screenshots of each page go to artifacts/screenshots/present-*.png."""
import contextlib
import re

import pytest

from browser.conftest import SHOTS, TEACHER_PASSPHRASE
from browser.helpers import assert_no_error, draw_digit, enter_teacher_mode, open_sidebar, wait_idle

pytestmark = pytest.mark.browser

CLIPPED = """() => {
  // Tables, data frames and charts whose content is wider than their box, or that reach past the window's edge
  const out = [];
  for (const el of document.querySelectorAll('[data-testid=stTable], [data-testid=stDataFrame], .js-plotly-plot')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const inner = el.querySelector('table') || el;  // a data frame scrolls inside itself: only its box counts
    const cut = el.dataset.testid === 'stTable' && inner.scrollWidth > el.clientWidth + 2
                && getComputedStyle(el).overflowX !== 'auto';
    if (r.right > window.innerWidth + 1 || cut) out.push(`${el.dataset.testid || 'chart'}: ${Math.round(r.right)}`);
  }
  return out;
}"""


@contextlib.contextmanager
def projector(browser):
    """A page in a 1280×720 window, as on a classroom projector."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        context.close()


def sidebar_folded(pg) -> bool:
    box = pg.locator("[data-testid=stSidebar]").first.bounding_box()
    return box is None or box["x"] + box["width"] <= 1


def text_px(pg, locator) -> float:
    return float(locator.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


@pytest.mark.parametrize("path", ["Train", "Evaluate", "Draw", "Leaderboard"])
def test_each_page_on_the_projector(browser, server, path):
    with projector(browser) as pg:
        pg.goto(f"{server['url']}/{path}?present=1")
        wait_idle(pg)
        pg.wait_for_timeout(800)  # the sidebar's folding animation
        if path == "Draw":
            draw_digit(pg, 3)
            answer = pg.get_by_text("Prediction: 3", exact=True)
            answer.wait_for()
            wait_idle(pg)
            box = answer.bounding_box()
            assert box["y"] + box["height"] <= 720, "the answer is on the projector's screen, beside the drawing"
            assert text_px(pg, pg.locator("[data-testid=stRadio] label p")) >= 20, "the radio reads from the back"
            assert text_px(pg, pg.get_by_role("button", name="Undo the last stroke")) >= 20
        if path == "Evaluate":
            tables = pg.locator("[data-testid=stTable]")
            tables.nth(1).wait_for()
            wait_idle(pg)
            matrix, per_class = tables.nth(0), tables.nth(1)
            assert "true ↓" in matrix.inner_text(), "the confusion matrix comes first"
            assert text_px(pg, matrix.locator("td")) >= 20, "the confusion matrix reads from the back"
            assert text_px(pg, per_class.locator("td")) >= 20, "the per-class table is large"
        assert_no_error(pg)
        assert sidebar_folded(pg), "presentation mode folds the sidebar away"
        assert pg.evaluate(CLIPPED) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"present-{path.lower()}.png"))


def test_the_class_page_on_the_projector(browser, server):
    with projector(browser) as pg:
        enter_teacher_mode(pg, server["url"], TEACHER_PASSPHRASE)
        pg.get_by_text("Presentation mode").click()  # the teacher switches it on from the sidebar
        wait_idle(pg)
        pg.wait_for_timeout(800)
        assert sidebar_folded(pg), "switching presentation mode on folds the sidebar"
        assert pg.evaluate(CLIPPED) == []
        assert_no_error(pg)
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "present-class.png"))
        open_sidebar(pg)
        pg.get_by_text("Presentation mode").wait_for()  # the way back stays one click away
        assert re.search("Presentation mode", pg.locator("[data-testid=stSidebar]").inner_text())
