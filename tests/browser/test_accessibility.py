"""WCAG 2.1 A and AA on every page, checked by axe-core in Chromium after a trained run (so results, charts and
feature maps are on the pages): no critical or serious violation. The moderate and minor ones are printed."""
import collections
import re

import pytest

from browser.conftest import TEACHER_PASSPHRASE
from browser.helpers import draw_digit, enter_teacher_mode, menu, wait_idle

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
        for name in PAGES:
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
        print("\nmoderate and minor violations (WCAG 2.1 AA, all pages):",
              dict(others) or "none")
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
