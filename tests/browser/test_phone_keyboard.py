"""A phone (390×844, touch) and a keyboard: Home's steps in their order, help targets a finger can hit, chart
toolbars off the titles, and a focus ring anyone can see."""
from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from browser.conftest import SHOTS
from browser.helpers import act_until_shown, assert_no_error, draw_digit, settled_box, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, server, phone_device):
    context = browser.new_context(**phone_device)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def test_homes_steps_come_in_their_order_on_a_phone(phone, server):
    phone.goto(server["url"])
    wait_idle(phone)
    steps = phone.get_by_role("link", name=re.compile(r"^\d · "))
    steps.nth(5).wait_for()  # all six drawn (count() does not wait)
    tops = [(re.search(r"(\d) · ", steps.nth(i).inner_text()).group(1), steps.nth(i).bounding_box()["y"])
            for i in range(steps.count())]
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "phone-home.png"), full_page=True)
    assert [n for n, _y in sorted(tops, key=lambda t: t[1])] == list("123456"), tops
    assert_no_error(phone)


def test_on_a_phone_the_menu_closes_once_a_page_is_chosen_and_lists_the_class_page_only_for_teachers(phone, server):
    phone.goto(server["url"])
    wait_idle(phone)
    sidebar = phone.locator("[data-testid=stSidebar]")
    phone.locator("[data-testid=stExpandSidebarButton]").tap()
    links = sidebar.locator("[data-testid=stSidebarNavLink]")
    links.first.wait_for()
    names = [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())]
    assert "Draw" in names and "Class" not in names, names
    phone.screenshot(path=str(SHOTS / "phone-menu-open.png"))
    links.nth(names.index("Draw")).tap()
    phone.get_by_role("heading", name=re.compile("Draw")).first.wait_for()
    phone.wait_for_function("() => document.querySelector('[data-testid=stSidebar]')"
                            ".getBoundingClientRect().right <= 0")  # the menu slid away
    wait_idle(phone)
    phone.screenshot(path=str(SHOTS / "phone-menu-closed.png"))
    assert_no_error(phone)


def test_on_a_phone_each_tapped_confusion_cell_shows_its_own_images(phone, server):
    """A Plotly heat map read each tap as the cell tapped before it; the table reads the cell under the finger."""
    phone.goto(f"{server['url']}/Evaluate")
    wait_idle(phone)
    grid = phone.locator("[data-testid=stDataFrame]").first
    grid.wait_for()
    for true, said in ((3, 2), (9, 4), (7, 3), (2, 2)):
        grid.evaluate("e => e.scrollIntoView({block: 'center'})")
        wait_idle(phone)

        def tap(true=true, said=said) -> None:
            area = settled_box(phone, grid)
            # columns of the bundled MNIST sample: the true class 56 px, then 42 px per class (counts up to 200)
            phone.touchscreen.tap(area["x"] + 56 + (said + 0.5) * 42, area["y"] + 35 * (true + 1) + 17)

        shown = phone.get_by_text(re.compile(rf"test images? of {true} predicted as {said}( \(correct\))?$")).first
        act_until_shown(tap, shown, f"a tap on the cell of true {true}, said {said}")
        wait_idle(phone)
    phone.screenshot(path=str(SHOTS / "phone-evaluate-tapped-cell.png"), full_page=True)
    assert_no_error(phone)


def test_on_a_phone_the_data_page_keeps_its_images_in_grids_and_each_augmented_copy_under_its_original(phone, server):
    """Columns stacked on a phone made ~10,000 px of single thumbnails, an image far from its augmented copy."""
    phone.goto(f"{server['url']}/Data")
    wait_idle(phone)
    original = phone.get_by_role("img", name="Training image 1, as it is")
    augmented = phone.get_by_role("img", name=re.compile(r"^Training image 1, augmented"))
    augmented.scroll_into_view_if_needed()
    for img in (original, augmented):  # measured once loaded (a busy CI machine draws them 0 px high first)
        img.evaluate("e => e.complete || new Promise((done) => e.addEventListener('load', done, {once: true}))")
    phone.wait_for_function("""() => [...document.querySelectorAll('img[alt^="Training image 1,"]')]
        .every((e) => e.getBoundingClientRect().height > 0)""", timeout=30_000)
    top, bottom = original.bounding_box(), augmented.bounding_box()
    assert abs(top["x"] - bottom["x"]) < 2 and 0 < bottom["y"] - top["y"] < 1.5 * top["height"], (top, bottom)
    height = phone.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    phone.screenshot(path=str(SHOTS / "phone-data.png"))
    assert height < 6000, f"the Data page is {height} px long on a phone"
    assert_no_error(phone)


def test_clearing_the_drawing_by_keyboard_keeps_the_focus_on_the_pad(page, server):
    """Undo and Clear are disabled once the pad is empty; the keyboard's focus moves to the drawing area instead of
    falling back to the top of the page."""
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    draw_digit(page, 1)
    clear = page.get_by_role("button", name="Clear the drawing")
    expect(clear).to_be_enabled()
    clear.focus()
    page.keyboard.press("Enter")
    expect(clear).to_be_disabled()
    pad = page.get_by_role("img", name="Drawing area")
    assert pad.evaluate("e => e.getRootNode().activeElement === e"), "the focus is on the drawing area"
    page.keyboard.press("Shift+Tab")  # and goes on from there (back to the brush width), not from the page's top
    assert page.get_by_role("slider", name="Brush width").evaluate("e => e === document.activeElement")


def test_train_and_stop_by_keyboard_keep_the_focus_on_the_controls(page, server):
    """Train is disabled while its run trains and Stop once it ended: the focus goes to the other one, where it
    fell to the top of the page."""
    page.goto(f"{server['url']}/Train")
    wait_idle(page)
    main = page.get_by_test_id("stMainBlockContainer")
    train = main.get_by_role("button", name="Train", exact=True)
    stop = main.get_by_role("button", name="Stop", exact=True)
    train.focus()
    page.keyboard.press("Enter")
    expect(stop).to_be_enabled(timeout=60_000)
    expect(stop).to_be_focused(timeout=10_000)
    page.keyboard.press("Enter")  # stop it, by keyboard
    expect(train).to_be_enabled(timeout=120_000)
    expect(train).to_be_focused(timeout=10_000)
    wait_idle(page)
    assert_no_error(page)


def test_a_page_chosen_from_the_menu_by_keyboard_gives_its_heading_the_focus(page, server):
    """The focus stayed on the menu's link, past the skip link: Tab went on through the sidebar."""
    page.goto(f"{server['url']}/Train")
    wait_idle(page)
    link = page.locator("[data-testid=stSidebar]").get_by_role("link", name="Data", exact=True)
    link.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # focus by keyboard (focus-visible), as a keyboard user arrives there
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name=re.compile(r"Data$"), level=1)
    expect(heading).to_be_focused(timeout=20_000)
    wait_idle(page)
    page.keyboard.press("Tab")  # and goes on into the page, not the sidebar
    assert page.evaluate("() => !document.activeElement.closest('[data-testid=stSidebar]')")
    assert_no_error(page)


def test_help_targets_are_at_least_24_px_and_the_focus_ring_is_seen(browser, server):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{server['url']}/Train")
        wait_idle(pg)
        pg.get_by_role("heading", name="Hyperparameters").wait_for()
        targets = pg.locator("[data-testid=stTooltipHoverTarget]")
        # the widgets under the heading are drawn a moment after it (on a busy CI machine, seconds)
        pg.wait_for_function("document.querySelectorAll('[data-testid=stTooltipHoverTarget]').length > 3",
                             timeout=30_000)
        assert targets.count() > 3
        with contextlib.suppress(PlaywrightTimeout):  # the page's style sheet may land a moment after its widgets
            pg.wait_for_function("""() => [...document.querySelectorAll('[data-testid=stTooltipHoverTarget]')]
                .every((t) => { const r = t.getBoundingClientRect();
                                return !r.width || (r.width >= 24 && r.height >= 24); })""", timeout=10_000)
        sizes = [targets.nth(i).bounding_box() for i in range(targets.count())]
        small = [b for b in sizes if b and b["width"] > 0 and (b["width"] < 24 or b["height"] < 24)]
        assert small == [], small
        link = pg.locator("[data-testid=stSidebar]").get_by_role("link", name="Data", exact=True).first
        link.focus()
        pg.keyboard.press("Tab")
        pg.keyboard.press("Shift+Tab")  # focus by keyboard (focus-visible)
        ring = pg.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                           "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }")
        pg.screenshot(path=str(SHOTS / "keyboard-focus-sidebar.png"))
        assert ring[0] == "solid" and ring[1] >= 3, ring
    finally:
        context.close()
