"""What walking every page as a student found, each checked where a student would see it (Chromium)."""
import re

import pytest
from playwright.sync_api import expect

from browser.helpers import DRAW_PAD, assert_no_error, draw_and_read, wait_idle

pytestmark = pytest.mark.browser

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def white_pixels_on_canvas(pg) -> int:
    """Ink on the Draw page's pad (white strokes on a transparent canvas shown on black)."""
    return pg.locator(DRAW_PAD).first.evaluate("""c => {  // inside the component's shadow DOM
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 200 && d[i + 2] > 200) n++;
        return n;
    }""")


def test_draw_steps_keep_their_shape_and_a_model_switch_keeps_the_drawing(page, server):
    draw_and_read(page, server["url"], 1)
    steps = page.locator("[data-testid=stImage]", has=page.get_by_text(re.compile(r"^[234] · ")))
    expect(steps).to_have_count(3)
    for i in range(3):  # a tall thin "1" is shown tall and thin in its 140 px frame, not stretched to a column
        box = steps.nth(i).locator("img").bounding_box()
        assert box["height"] <= 150 and box["width"] <= 150, box
    ink = white_pixels_on_canvas(page)
    assert ink > 500
    page.get_by_role("combobox", name="Model", exact=True).click()
    page.get_by_role("option", name=re.compile(r"^fashion_mnist")).click()
    wait_idle(page)
    page.get_by_text(re.compile("trained on .*clothes")).wait_for()
    assert white_pixels_on_canvas(page) > 0.9 * ink, "the drawing is still on the canvas"
    head = page.get_by_text(re.compile(r"^Prediction: ")).first.inner_text()
    assert head.removeprefix("Prediction: ") in FASHION, "the prediction is the new model's, for that drawing"
    assert_no_error(page)


def test_switching_the_dataset_never_shows_two_datasets_at_once(page, server):
    page.goto(f"{server['url']}/Data")
    wait_idle(page)
    expect(page.locator("[data-testid=stImage] img").nth(20)).to_be_visible()
    # Watch every change of the page while it switches: once the page is about CIFAR-10, no image left over
    # from MNIST (a stale element of the previous run) may still be visible.
    page.evaluate("""() => {
        window.mixed = 0;
        const check = () => {
            const aboutCifar = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
                .some(c => c.textContent.includes('CIFAR-10 (small photos):') && !c.closest('[data-stale=true]'));
            const oldShown = [...document.querySelectorAll('[data-testid=stImage] img')]
                .some(i => i.closest('[data-stale=true]') && getComputedStyle(i).visibility === 'visible');
            if (aboutCifar && oldShown) window.mixed++;
        };
        new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true});
        document.addEventListener('load', check, true);
    }""")
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name=re.compile("^CIFAR-10")).click()
    wait_idle(page)
    expect(page.locator("[data-testid=stImage] img").nth(40)).to_be_visible()
    page.wait_for_timeout(500)
    assert page.evaluate("window.mixed") == 0, "MNIST digits and CIFAR-10 photos were on the page together"
    assert_no_error(page)


def test_a_share_link_opened_first_shows_the_lab_menu_with_icons(browser, tmp_path):
    """On a fresh server the very first page opened is a sub-page with a query string (a teacher's link)."""
    from browser.server import copy_models, running_app

    with running_app(copy_models(tmp_path / "models"), tmp_path / "streamlit.log",
                     CNN_DATA_DIR=str(tmp_path / "no-data")) as app:
        pg = browser.new_page(viewport={"width": 1300, "height": 900})
        pg.goto(f"{app['url']}/Train?arch=lenet&epochs=3")
        wait_idle(pg)
        links = pg.locator("[data-testid=stSidebar] [data-testid=stSidebarNavLink]")
        names = [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())]
        assert names[:8] == ["Home", "Data", "My data", "Train", "Evaluate", "Inspect", "Draw", "Lessons"], names
        assert pg.locator("[data-testid=stSidebar] [data-testid=stIconMaterial]").count() >= 8  # icons, not boxes
        assert pg.get_by_role("spinbutton", name="Epochs").input_value() == "3"
        assert "Page not found" not in pg.inner_text("body")
        assert pg.get_by_role("heading", name="Train a network").is_visible()
        pg.close()
