"""French, Brazilian Portuguese, Simplified Chinese, Hindi and Arabic, each from the browser's language: every page
(the teacher's Class page too) with no English left but names and code, ``<html lang>`` and ``dir`` right, and no
WCAG 2.1 AA violation of any impact (axe-core). Arabic reads right to left: the page's direction, the sidebar on the
right, the Draw pad's probability bars from the right, tables as HTML tables and charts from the right. Screenshots
of Arabic (Train, Draw, Lessons) and Chinese (Lessons, Evaluate) go to artifacts/screenshots/."""
import collections

import pytest

from cnn import i18n

from browser.conftest import SHOTS, TEACHER_PASSPHRASE
from browser.helpers import draw_digit, enter_teacher_mode
from browser.test_accessibility import audit
from browser.test_languages import english_left, open_sidebar, wait_idle

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"fr": "fr-FR", "pt_BR": "pt-BR", "zh_Hans": "zh-CN", "hi": "hi-IN", "ar": "ar-EG"}
PAGES = ["Home", "Data", "My data", "Train", "Evaluate", "Inspect", "Draw", "Lessons", "Leaderboard"]
SCREENSHOTS = {"ar": ("Train", "Draw", "Lessons"), "zh_Hans": ("Lessons", "Evaluate")}


def said(code: str, text: str) -> str:
    """``text`` as the catalog of ``code`` says it (the words a student of that language reads)."""
    i18n.set_language(code)
    try:
        return i18n._(text)
    finally:
        i18n.set_language(i18n.DEFAULT)


@pytest.mark.parametrize("code", list(BROWSER_LOCALE))
def test_every_page_in_a_language_from_the_browser(browser, server, code):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=BROWSER_LOCALE[code])
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    english, audits = {}, {}
    try:
        pg.goto(f"{server['url']}/")
        wait_idle(pg)
        pg.wait_for_function("([lang, dir]) => document.documentElement.lang === lang && "
                             "document.documentElement.dir === dir", arg=[i18n.html_lang(code), i18n.direction(code)],
                             timeout=10_000)
        for page in PAGES:
            open_sidebar(pg)
            pg.locator("[data-testid=stSidebar]").get_by_role("link", name=said(code, page), exact=True).first.click()
            wait_idle(pg)
            if page == "Draw":
                draw_digit(pg, 3)
                pg.get_by_role("heading", name=said(code, "Prediction: {label}").format(label="3")).first.wait_for()
                wait_idle(pg)
                if code == "ar":
                    pad_bars_read_from_the_right(pg)
            if page == "Evaluate" and code == "ar":
                assert pg.locator("[data-testid=stMain] [data-testid=stTable]").count() >= 2, "HTML tables"
                assert pg.locator("[data-testid=stMain] [data-testid=stDataFrame]").count() == 0
            pg.wait_for_timeout(400)
            if found := english_left(pg):
                english[page] = found
            audits[page] = audit(pg)
            if page in SCREENSHOTS.get(code, ()):
                SHOTS.mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(SHOTS / f"lang-{code}-{page.lower()}.png"), full_page=True)
        if code == "ar":
            sidebar, main = (pg.locator(f"[data-testid={t}]").first.bounding_box() for t in ("stSidebar", "stMain"))
            assert sidebar["x"] > main["x"], "the sidebar stands on the right"
        # the teacher's page too
        enter_teacher_mode(pg, server["url"], TEACHER_PASSPHRASE, lambda text: said(code, text))
        wait_idle(pg)
        if found := english_left(pg):
            english["Class"] = found
        audits["Class"] = audit(pg)
        assert english == {}, english
        serious = {page: details for page, (_counts, details) in audits.items() if details}
        others = sum((counts for counts, _details in audits.values()), collections.Counter())
        print(f"\nmoderate and minor violations (WCAG 2.1 AA, every page in {code}):", dict(others) or "none")
        assert serious == {}, serious
        assert not others, others  # none of any impact, as in English and German
    finally:
        context.close()


def pad_bars_read_from_the_right(pg) -> None:
    """The Draw pad's bar of the top digit, as an Arabic reader reads a row: the digit on the right, its bar growing
    from the right, its percentage on the left."""
    row = pg.locator(".draw-pad-answer .bars [role=listitem].top").first
    name, track, fill, pct = (row.locator(s).bounding_box() for s in (".name", ".track", ".fill", ".pct"))
    assert name["x"] > track["x"] > pct["x"], (name, track, pct)
    assert abs((fill["x"] + fill["width"]) - (track["x"] + track["width"])) < 2, (fill, track)
