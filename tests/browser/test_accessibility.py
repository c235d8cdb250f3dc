"""WCAG 2.1 A and AA on every page, checked by axe-core in Chromium after a trained run (so results, charts and
feature maps are on the pages): no critical or serious violation. The moderate and minor ones are printed."""
import collections
import re

import pytest
from playwright.sync_api import expect

from browser.conftest import TEACHER_PASSPHRASE
from browser.helpers import draw_digit, enter_teacher_mode, menu, wait_idle
from drawn_digits import STROKES, draw, transform

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}
PAGES = ["Home", "Data", "My data", "Train", "Evaluate", "Inspect", "Draw", "Lessons", "Leaderboard", "Class"]


def audit(pg) -> tuple[collections.Counter, list[str]]:
    """Violations by (impact, rule), and what the critical and serious ones are about."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(pg, options=WCAG_AA).response
    counts = collections.Counter({(v["impact"], v["id"]): len(v["nodes"]) for v in result["violations"]})
    details = [f"{v['id']}: {n['html'][:120]} ({n.get('failureSummary', '').splitlines()[-1][:160]})"
               for v in result["violations"] if v["impact"] in ("critical", "serious") for n in v["nodes"][:3]]
    return counts, details


def test_every_page_after_a_trained_run_has_no_serious_violation(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{server['url']}/Train?arch=fast&epochs=2&limit=2000")
        wait_idle(pg)
        pg.get_by_role("button", name="Train", exact=True).click()
        pg.get_by_text(re.compile(r"Finished \d+ epochs")).first.wait_for(timeout=300_000)
        enter_teacher_mode(pg, server["url"], TEACHER_PASSPHRASE)  # the Class page is audited too
        found, others, why = {}, collections.Counter(), []
        for name in PAGES:  # in German too: tests/browser/test_languages.py audits every page it visits
            menu(pg, name)
            if name == "Draw":
                draw_digit(pg, 2)
                pg.get_by_text(re.compile(r"^Prediction: ")).first.wait_for()
                wait_idle(pg)
            pg.wait_for_timeout(500)
            counts, details = audit(pg)
            why += [f"{name}: {d}" for d in details]
            found[name] = {k: n for k, n in counts.items() if k[0] in ("critical", "serious")}
            others.update({k: n for k, n in counts.items() if k[0] not in ("critical", "serious")})
        print("\nmoderate and minor violations (WCAG 2.1 AA, all pages):", dict(others) or "none")
        assert not any(found.values()), ({page: v for page, v in found.items() if v}, why)
    finally:
        context.close()


FOCUSED = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;  // into components
  if (!a) return "";
  if (a.type === "radio") return "radio: " + (a.closest("label") || a).innerText.trim();
  return (a.getAttribute("aria-label") || a.getAttribute("aria-valuetext") || a.innerText || a.value || a.tagName)
    .trim().slice(0, 60);
}"""


def test_the_draw_page_works_from_the_keyboard_in_a_sensible_order(page, server):
    """Tab reaches the model, the input choice, the brush, the pad and its Undo and Clear, in that order; Enter on
    Clear clears; Upload is chosen from the keyboard too (the pad's non-pointer alternative)."""
    page.goto(f"{server['url']}/Draw")
    wait_idle(page)
    draw_digit(page, 1)
    page.get_by_text("Prediction: 1", exact=True).wait_for()
    wait_idle(page)
    page.locator("[data-testid=stMain] h1").first.click()  # start from the top of the main area
    stops = []
    for _ in range(30):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
    order = [next((i for i, s in enumerate(stops) if want in s), -1)
             for want in ("Model", "radio: Draw", "Brush width", "Drawing area", "Undo the last stroke",
                          "Clear the drawing")]
    assert -1 not in order and order == sorted(order), stops
    while page.evaluate(FOCUSED) != "Clear the drawing":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("Draw one digit in the black square").wait_for()
    while page.evaluate(FOCUSED) != "radio: Draw":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")  # the radio group: to "Upload an image"
    wait_idle(page)
    page.get_by_text(re.compile("A photo or scan of one digit")).first.wait_for()


ACTIVE = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return "";
  const named = a.type === "radio" ? (a.closest("label") || a).innerText : a.getAttribute("aria-label") || a.innerText;
  const text = (named || a.value || "").trim().split("\\n").pop();
  return `${a.tagName.toLowerCase()}${a.type === "radio" ? ":radio" : ""}|${text.slice(0, 60)}`;
}"""


def tab_to(pg, wanted: str, presses: int = 90, key: str = "Tab") -> None:
    """Press Tab (or ``key``: Shift+Tab goes back) until the focused element is ``wanted`` ("tag|text", as ACTIVE
    says it)."""
    seen = []
    for _ in range(presses):
        pg.keyboard.press(key)
        seen.append(pg.evaluate(ACTIVE))
        if seen[-1] == wanted:
            return
    raise AssertionError(f"Tab never reached {wanted!r}: {seen}")


def test_a_student_gets_through_the_lab_with_the_keyboard_only(page, server, tmp_path):
    """From Home: reach Train, start a run, open Evaluate, then upload a photo of a digit on Draw; only Tab, the
    arrows, Space and Enter (the upload's file dialog is the browser's own: the test hands it the file)."""
    photo = tmp_path / "seven.png"
    draw(transform(STROKES[7], size=200, cx=140, cy=140), width=22, dark_on_light=True).save(photo)
    page.goto(f"{server['url']}/")
    wait_idle(page)
    tab_to(page, "a|Train")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("heading", name=re.compile("Train a network")).wait_for()
    tab_to(page, "input|Training images to use")  # the slider: fewer images, for a quick run
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_idle(page)
    tab_to(page, "button|Train")
    page.keyboard.press("Space")
    page.get_by_text(re.compile(r"Finished \d+ epochs? in")).first.wait_for(timeout=300_000)
    wait_idle(page)
    tab_to(page, "a|Evaluate")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("Test accuracy", exact=True).first.wait_for()
    # a page chosen from the menu by keyboard gives its heading the focus; the menu is back up the page
    expect(page.get_by_role("heading", name=re.compile("Evaluate$"), level=1)).to_be_focused()
    tab_to(page, "a|Draw", key="Shift+Tab")
    page.keyboard.press("Enter")
    wait_idle(page)
    tab_to(page, "input:radio|Draw")
    page.keyboard.press("ArrowRight")  # to "Upload an image"
    wait_idle(page)
    # Playwright turns on its catching of file dialogs without waiting for the browser to agree: asked for at the
    # key press, the dialog could open before (as a real one, unseen headless). Asking now leaves it time.
    page.on("filechooser", lambda _chooser: None)
    tab_to(page, "button|Upload")  # the upload box's button
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(photo))
    wait_idle(page)  # the upload, then the page's run that reads it (a session's model: converted for the browser)
    page.get_by_role("heading", name="Prediction: 7").wait_for(timeout=120_000)
