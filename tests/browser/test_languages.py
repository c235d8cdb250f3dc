"""The lab in German (from the browser's language) and in Spanish (from the sidebar's picker): every page, after a
trained run, with no English left but names and code, and in German no critical or serious WCAG 2.1 AA violation
(axe-core, as tests/browser/test_accessibility.py checks the English pages). Screenshots of Train, Lessons and Draw
in both languages go to artifacts/screenshots/."""
import collections
import re

import pytest

from browser.conftest import SHOTS, TEACHER_PASSPHRASE
from browser.helpers import draw_digit, enter_teacher_mode, open_sidebar, wait_idle
from browser.test_accessibility import audit

pytestmark = pytest.mark.browser

# The menu in each language: page key -> its link's name.
MENU = {"de": {"Home": "Start", "Data": "Daten", "My data": "Meine Daten", "Train": "Trainieren",
               "Evaluate": "Bewerten", "Inspect": "Untersuchen", "Draw": "Zeichnen", "Lessons": "Lektionen",
               "Leaderboard": "Bestenliste"},
        "es": {"Home": "Inicio", "Data": "Datos", "My data": "Mis datos", "Train": "Entrenar", "Evaluate": "Evaluar",
               "Inspect": "Inspeccionar", "Draw": "Dibujar", "Lessons": "Lecciones", "Leaderboard": "Clasificación"}}
# English words that neither German nor Spanish uses: one of them in a page's text means an untranslated string.
ENGLISH = re.compile(r"\b(the|and|of|your|with|this|you|for|from|are|not|is|to|it|on|or|what|which|its|be|by|at|"
                     r"has|have|can|that|there|here|when|than|into|after|before|each|every|only|draw|train|"
                     r"custom|cosine|precision|recall|saliency)\b", re.I)  # and ML words each language has its own for
# Text a page shows that is nobody's to translate: code, a chart's toolbar, icons.
VISIBLE_TEXT = """() => {
  // Streamlit's own words in its upload box stay English: it offers no way to set them (README, Languages)
  const skip = "pre, code, [data-testid=stCode], .modebar, [data-testid=stToolbar], [data-testid=stIconMaterial], " +
      "[data-testid=stFileUploaderDropzone]";
  const out = [];
  for (const root of document.querySelectorAll("[data-testid=stMain], [data-testid=stSidebar]")) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el || el.closest(skip)) continue;
      if (!el.checkVisibility() && !el.closest(".cnnlab-sr-only")) continue;
      if (getComputedStyle(el).fontFamily.includes("Material")) continue;  // an icon's name, drawn as its glyph
      out.push(node.textContent.trim());
    }
  }
  return out;
}"""


def english_left(pg) -> list[str]:
    return [t for t in pg.evaluate(VISIBLE_TEXT) if ENGLISH.search(t)]


def go(pg, code: str, page: str) -> None:
    open_sidebar(pg)
    pg.locator("[data-testid=stSidebar]").get_by_role("link", name=MENU[code][page], exact=True).first.click()
    wait_idle(pg)


def visit_every_page(pg, code: str, shots: dict[str, str], violations: dict | None = None) -> dict[str, list[str]]:
    """Each page through the menu (Draw after drawing a 3); the English found on each. With ``violations``: each
    page's axe-core audit goes there too."""
    found = {}
    for page in MENU[code]:
        go(pg, code, page)
        if page == "Draw":
            draw_digit(pg, 3)
            pg.get_by_role("heading", name=re.compile(r"^(Vorhersage|Predicción): ")).first.wait_for()
            wait_idle(pg)
        pg.wait_for_timeout(400)
        found[page] = english_left(pg)
        if violations is not None:
            violations[page] = audit(pg)
        if page in shots:
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(SHOTS / shots[page]), full_page=True)
    found = {page: texts for page, texts in found.items() if texts}
    if found:
        (SHOTS / f"lang-{code}-english-left.txt").write_text("\n".join(f"{p}: {t}" for p, ts in found.items()
                                                                       for t in ts))
    return found


def test_german_from_the_browser_and_spanish_from_the_picker_on_every_page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{server['url']}/Train?arch=fast&epochs=2&limit=2000")
        wait_idle(pg)
        # the page's lang attribute, for screen readers: set by the sidebar's script once it is on the page
        pg.wait_for_function("document.documentElement.lang === 'de'", timeout=10_000)
        pg.get_by_role("button", name="Trainieren", exact=True).click()
        pg.get_by_text(re.compile(r"2 Epochen fertig in [\d,]+ s")).first.wait_for(timeout=300_000)
        audits: dict = {}
        german = visit_every_page(pg, "de", {"Train": "lang-de-train.png", "Lessons": "lang-de-lessons.png",
                                             "Draw": "lang-de-draw.png"}, audits)
        go(pg, "de", "Draw")  # the upload box: the lab's words around Streamlit's own
        pg.get_by_text("Ein Bild hochladen", exact=True).click()
        wait_idle(pg)
        pg.locator("[data-testid=stFileUploaderDropzone]").first.wait_for()
        if english := english_left(pg):
            german["Draw (upload)"] = english
        enter_teacher_mode(pg, server["url"], TEACHER_PASSPHRASE, {  # the teacher's page, in German too
            "Teacher passphrase": "Passwort der Lehrkraft", "Enter teacher mode": "Lehrkraftmodus starten",
            "Runs": "Läufe"}.get)
        wait_idle(pg)
        if english := english_left(pg):
            german["Class"] = english
        audits["Class"] = audit(pg)
        assert german == {}, german
        serious = {page: details for page, (_counts, details) in audits.items() if details}
        others = sum((counts for counts, _details in audits.values()), collections.Counter())
        print("\nmoderate and minor violations (WCAG 2.1 AA, every page in German):",
              {k: n for k, n in others.items() if k[0] not in ("critical", "serious")} or "none")
        assert serious == {}, serious

        open_sidebar(pg)  # the picker: Spanish, kept on every page from now on
        pg.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Sprache").click()
        pg.get_by_role("option", name="Español").click()
        wait_idle(pg)
        pg.wait_for_function("document.documentElement.lang === 'es'", timeout=10_000)
        spanish = visit_every_page(pg, "es", {"Train": "lang-es-train.png", "Lessons": "lang-es-lessons.png",
                                              "Draw": "lang-es-draw.png"})
        assert spanish == {}, spanish
        go(pg, "es", "Train")
        pg.get_by_text(re.compile(r"Terminadas 2 épocas en [\d,]+ s")).first.wait_for()  # numbers: a decimal comma
        pg.reload()  # a reload keeps the language picked (it is kept with the identity)
        wait_idle(pg)
        pg.get_by_role("heading", name=re.compile("Entrena una red")).wait_for()
    finally:
        context.close()
