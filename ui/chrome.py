"""What every page has around its content: page config, session state, sidebar, presentation mode.

Every page starts with :func:`page_setup_ui`. It also imports TensorFlow in the background once per
server, so the first page that needs a model does not wait for the import, and then freezes what that
import made out of later garbage collections (see :func:`warm_up`).
"""
from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import re
import socket
import sys
import threading
from pathlib import Path

import streamlit as st

from cnn import classroom, db, i18n, jobs, settings, store
from cnn.i18n import N_, _, number
from ui import identity, runs
from ui.state import in_language, init_state, keep_sticky, set_sticky, sticky

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# The page menu: Material icons ship with Streamlit and render on every machine (emoji need a font).
# Titles are keys (icons, URLs, tests); people read them translated (navigation, title_ui).
PAGE_FILES = [("1_Data.py", N_("Data")), ("7_My_data.py", N_("My data")), ("2_Train.py", N_("Train")),
              ("3_Evaluate.py", N_("Evaluate")), ("4_Inspect.py", N_("Inspect")), ("5_Draw.py", N_("Draw")),
              ("6_Lessons.py", N_("Lessons")), ("8_Leaderboard.py", N_("Leaderboard")), ("9_Class.py", N_("Class"))]
HOME = N_("Home")
# The browser tab's icon, served by this server: a Material icon there is fetched by the browser from a public
# font CDN (it fails offline, and tells a third party of every visit); the page's own icons come with Streamlit.
FAVICON = Path(__file__).with_name("icon.png")
APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE_ICONS = {"Home": ":material/neurology:", "Data": ":material/dataset:", "Train": ":material/model_training:",
              "Evaluate": ":material/fact_check:", "Inspect": ":material/biotech:", "Draw": ":material/draw:",
              "Lessons": ":material/school:", "Leaderboard": ":material/trophy:", "Class": ":material/groups:",
              "My data": ":material/add_photo_alternate:"}
TEACHER_ONLY = {"Class"}  # in the menu only in teacher mode (the page itself asks for the passphrase)

# Presentation mode: read from the back of a classroom on a 1280×720 projector. Text, widget labels and
# values, tables and buttons grow; captions (the fine print) go; charts grow through ui.figures.
# A phone (390 px wide): less space above the title, so Draw's answer under the pad fits on the first screen.
SR_ONLY = """.cnnlab-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
[data-testid="stTooltipHoverTarget"] { min-width: 24px; min-height: 24px; display: inline-flex;
  align-items: center; justify-content: center; }
a:focus-visible, button:focus-visible, [role="radio"]:focus-visible, [role="checkbox"]:focus-visible,
[role="switch"]:focus-visible, input:focus-visible, [tabindex]:focus-visible, label:focus-within {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }"""
# Read aloud, never seen (.cnnlab-sr-only); help "?" targets of at least 24×24 px (WCAG 2.5.8); keyboard focus a
# 3 px dark blue ring (7.9:1 on white), where Streamlit's own is a light grey background (1.11:1) like the current
# page's
PHONE_CSS = """
<style>
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3.2rem !important; }
  h1 { font-size: 2rem !important; }
}
</style>
"""

# Right to left (Arabic: the page's dir, set with its lang by the sidebar's script): Streamlit lays out flex rows,
# the sidebar and its widgets by the page's direction, but pins each element's text to the left; text starts at the
# right instead. A slider's thumb runs from the right but Streamlit paints its filled track from the left: the track
# is mirrored to match. The Convolution lesson's kernel editor stays left to right: it is a picture of the kernel,
# like the heat map beside it.
RTL_CSS = """
html[dir=rtl] [data-testid="stElementContainer"], html[dir=rtl] [data-testid="stSidebarNav"] { text-align: start; }
html[dir=rtl] [data-testid="stSlider"] [role="group"] > div > div:first-child { transform: scaleX(-1); }
html[dir=rtl] [class*="st-key-conv_edit_"] > [data-testid="stFullScreenFrame"] {
  direction: ltr; display: flex; justify-content: flex-end; }
"""

PRESENT_CSS = """
<style>
.stMarkdown p, .stMarkdown li, [data-testid="stText"] { font-size: 1.45rem !important; line-height: 1.45; }
h1 { font-size: 2.5rem !important; } h2 { font-size: 2rem !important; } h3 { font-size: 1.7rem !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] { font-size: 1.35rem !important; }
[data-testid="stWidgetLabel"] { white-space: normal !important; overflow: visible !important; }
input, textarea, [data-baseweb="select"] div, [data-testid="stNumberInputField"] {
  font-size: 1.35rem !important; }
[data-testid="stMetricValue"] { font-size: 2.8rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.35rem !important; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.45rem !important; padding: 0.5rem 0.8rem; }
[data-testid="stTable"] { overflow-x: auto; }
[data-testid="stRadio"] label p, [data-testid="stCheckbox"] label p { font-size: 1.35rem !important; }
[data-testid="stAlert"] p { font-size: 1.35rem !important; }
[data-testid="stSliderThumbValue"], [data-testid="stSliderTickBar"] div { font-size: 1.2rem !important; }
.stButton button p, .stFormSubmitButton button p, [data-testid="stPageLink-NavLink"] p {
  font-size: 1.35rem !important; }
[data-testid="stExpander"] summary p { font-size: 1.35rem !important; }
[data-testid="stProgress"] p { font-size: 1.35rem !important; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem !important; }
</style>
"""


_warm_lock = threading.Lock()
_warm_started = False


_first_page_done = threading.Event()
WARM_WORKER_S = 15.0  # the server's own TensorFlow import waits at most this long for a first training worker
# How long a thread holds Python's lock before another may run (Python's default: 5 ms). While a page's script runs,
# the server's event loop and its file threads, which send the browser Streamlit's scripts for the elements coming,
# waited for it that long at each step: a fresh server's first Train page was ready in 3.8-4.6 s, now 3.4-4.2 s.
SWITCH_INTERVAL_S = 0.0005


def page_done() -> None:
    """A page's script run has ended (app.py): the background import of TensorFlow may start now."""
    _first_page_done.set()


def warm_up() -> None:
    """Once per server, in the background: import TensorFlow and start the training engine."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # A stable name for this server in the class: after a restart on the same port, its unfinished runs are known.
    jobs.set_server_id(f"{socket.gethostname()}:{st.get_option('server.port')}")
    with contextlib.suppress(store.StoreError):  # every page says so (page_setup_ui)
        store.import_folder()  # models and datasets saved before the class database held them join it, once

    def _import() -> None:
        # The engine first: its first worker starts importing TensorFlow now, in a process of its own, while this
        # first page is drawn (after it, a fresh server's first Train 2 s after the page waited 3.6 s for it)
        with contextlib.suppress(jobs.EngineError):
            jobs.engine()
        # After the first page's script run: importing TensorFlow holds Python's lock for seconds at a time, and
        # the first page, which does not need it, would wait for it (a fresh server's Train page: 5.5 s, not 4)
        _first_page_done.wait(timeout=20.0)
        # ... and after a first training worker is ready: on 2 cores the three imports at once made a fresh
        # server's first Train wait 3.8 s for its worker
        with contextlib.suppress(jobs.EngineError):
            jobs.engine().wait_warm(WARM_WORKER_S)
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        # Streamlit clears the Keras session after every script run, and that ends in a full garbage collection:
        # 0.2 s with TensorFlow's 350,000 objects, after every rerun of every session. Frozen, those objects are
        # left out of every later collection (which then takes well under a millisecond); they live as long as
        # the server anyway.
        gc.collect()
        gc.freeze()

    threading.Thread(target=_import, name="warm-up-tensorflow", daemon=True).start()


def _page(page, title: str, **kw) -> st.Page:
    """One page of the menu: its title in the reader's language; the teacher's pages hidden from the menu (their
    address still opens them) outside teacher mode."""
    hidden = title in TEACHER_ONLY and not st.session_state["teacher"]
    return st.Page(page, title=_(title), icon=PAGE_ICONS[title], visibility="hidden" if hidden else "visible", **kw)


def menu_language() -> str:
    """The language the menu is drawn in: the page's, as its last run chose it, else the browser's. page_setup_ui
    reruns once if the page then settles on another (a language picked just now, or remembered with the identity,
    or a ?lang= link)."""
    return st.session_state["sticky"].get("language") or i18n.best_language(st.context.locale)


def navigation(home) -> st.Page:
    """The app's pages and Streamlit's own menu in the sidebar (on a phone it closes itself when a page is chosen),
    for app.py."""
    init_state()
    language = menu_language()
    if language in i18n.languages():
        i18n.set_language(language)
    st.session_state["menu_language"] = i18n.language()
    return st.navigation(_pages(home), position="sidebar")


def _pages(home) -> list[st.Page]:
    # url paths as Streamlit derives them from the file names ("7_My_data.py": My_data), in every mode
    return [_page(home, HOME, default=True)] + [_page(f"pages/{file}", title, url_path=file[:-3].split("_", 1)[1])
                                                for file, title in PAGE_FILES]


def leave_folder_mode() -> None:
    """Until some session has run app.py, Streamlit serves a server's very first requests for a sub-page (a teacher's
    share link) in its old ``pages/``-folder mode: the page alone, under that mode's menu ("app", titles in English).
    Calling ``st.navigation`` ends that mode for the server; the rerun then goes through app.py to the same page
    (its address, and so its page hash, is the same in both modes). Once per session: a page run on its own (a test)
    keeps going without the menu."""
    if st.session_state.get("menu_language") is not None or st.session_state.get("left_folder_mode"):
        return
    st.session_state["left_folder_mode"] = True
    st.navigation(_pages(APP), position="hidden")  # this page among them: the rerun finds it
    st.rerun()


def database_unavailable_ui(e: Exception) -> None:
    """The class database cannot answer (down, unreachable, locked, corrupt): one plain message, never a traceback.
    A reload works again as soon as it answers (no restart)."""
    st.error(_("CNN Lab cannot open its class database. {e}", e=e), icon=":material/database:")


def page_setup_ui(title: str) -> None:
    """Page config, session state, the sidebar (presentation toggle, the session's runs)."""
    init_state()
    leave_folder_mode()
    st.session_state["page_run"] = st.session_state.get("page_run", 0) + 1  # what is read once per page run
    keep_sticky()
    i18n.set_language(st.session_state["sticky"].get("language") or i18n.best_language(st.context.locale))
    if st.query_params.get("present") in ("1", "true", "yes") and not st.session_state["present_link_applied"]:
        st.session_state["present_link_applied"] = True  # once: the toggle can still switch it off
        st.session_state["sticky"]["present"] = True
        st.session_state["present"] = True
    if bad := settings.problems():  # checked before anything reads them: one message per bad value
        st.error(_("CNN Lab's server has a setting it cannot use, so it does not start. Whoever runs the server: fix "
                   "it and restart.") + "\n\n" + "\n\n".join(f"- {p}" for p in bad), icon=":material/settings_alert:")
        st.stop()
    try:
        identity.attach_ui()
    except db.DatabaseError as e:  # a corrupt, locked or read-only database: one clear message, nothing touched
        database_unavailable_ui(e)
        st.stop()
    language_setup()
    if st.session_state.get("menu_language") not in (None, i18n.language()) and \
            st.session_state.get("menu_redrawn_for") != i18n.language():
        st.session_state["menu_redrawn_for"] = i18n.language()  # once per change of language
        st.rerun()  # the menu was drawn in another language than the page settled on: drawn again
    # Presentation mode collapses the sidebar (sent when it changes: a teacher who opens it again keeps it open).
    st.set_page_config(page_title=f"{_(title)} · CNN Lab", page_icon=str(FAVICON),
                       layout="wide", initial_sidebar_state="collapsed" if presenting() else "auto")
    warm_up()
    with st.sidebar:
        language_ui()
        identity_ui()
        st.toggle(_("Presentation mode"), key=sticky("present", False),
                  help=_("Larger text and fewer controls, for a classroom projector."))
    runs.sidebar_ui()
    st.markdown((PRESENT_CSS if presenting() else PHONE_CSS).replace("</style>", SR_ONLY + RTL_CSS + "</style>"),
                unsafe_allow_html=True)


def _name_changed() -> None:
    typed = st.session_state["name_input"]
    try:
        identity.set_name(classroom.validate_display_name(typed))
        st.session_state["name_error"] = ""
    except classroom.ClassroomError as e:
        usable = classroom.usable_name(typed)
        if usable:  # keep what can be kept, and say so: the teacher sees this name, not "(no name)"
            identity.set_name(usable)
            st.session_state["name_input"] = usable
            st.session_state["name_error"] = str(e) + " " + _("Your name is saved as “{name}”; change it if you "
                                                               "like.", name=plain(usable))
        else:
            st.session_state["name_error"] = str(e)


def language_setup() -> None:
    """This run's language: a ``?lang=`` link's (once), else the one picked in the sidebar (in this tab, another
    tab or before a reload: kept with the identity), else the browser's (st.context.locale)."""
    linked = (st.query_params.get("lang") or "").replace("-", "_")  # ?lang=pt_BR or ?lang=pt-BR
    if linked in i18n.languages() and st.session_state.get("lang_link") != linked:  # a teacher's link, once
        st.session_state["lang_link"] = linked
        set_sticky("language", linked)
    if "language" not in st.session_state["sticky"]:
        set_sticky("language", identity.remembered_language() or i18n.best_language(st.context.locale))
    if st.session_state["sticky"]["language"] not in i18n.languages():
        set_sticky("language", i18n.DEFAULT)
    i18n.set_language(st.session_state["sticky"]["language"])


def _language_picked() -> None:
    identity.remember_language(st.session_state["language"])


def language_ui() -> None:
    """The language picker, at the top of the sidebar: each language in its own name, so anyone finds theirs.
    The page's ``lang`` attribute follows, so that screen readers pronounce it in that language."""
    names = i18n.languages()
    st.selectbox(_("Language"), list(names), key=sticky("language"), format_func=names.get,
                 on_change=in_language(_language_picked),
                 help=_("The lab's language for this browser. It starts as your browser's language."))
    st.html(f"<script>{_PAGE_LANGUAGE_JS}({json.dumps(i18n.html_lang())}, {json.dumps(i18n.direction())})</script>",
            unsafe_allow_javascript=True)


# The page's lang and dir attributes: screen readers pronounce the page in its language, and Arabic reads right to left
# (the sidebar on the right, text, tables and the lab's own widgets mirrored; see RTL_CSS). Streamlit's own words inside
# its upload box ("Upload", "200MB per file") stay as Streamlit writes them: it offers no way to set them, and the
# lab does not rewrite Streamlit's widgets (README, Languages).
_PAGE_LANGUAGE_JS = "((lang, dir) => { document.documentElement.lang = lang; document.documentElement.dir = dir; })"
# A pressed button that the rerun disables (Train while it trains, Stop once it stopped) drops the keyboard's focus to
# the page's body, and the next Tab starts from the top: give it to the first enabled of the named buttons instead
# (found by Streamlit's documented st-key-* classes), only when it was dropped.
_KEEP_FOCUS_JS = """((keys, token) => {
  const give = () => {
    const a = document.activeElement;
    if (a && a !== document.body && !a.disabled) return;
    for (const k of keys) {
      const b = document.querySelector(`.st-key-${k} button:not([disabled])`);
      if (b) { b.focus(); return; }
    }
  };
  setTimeout(give, 250); setTimeout(give, 1000);
})"""


# A page chosen from the menu by keyboard leaves the focus on the menu's link, past Streamlit's "Skip to main content":
# the next Tab would go on through the sidebar. Like other single-page sites, the new page's heading takes the focus
# (read out by screen readers; Tab goes on into the page). Only then: a mouse click or a reload leaves focus alone.
_HEADING_FOCUS_JS = """(token => {
  setTimeout(() => {
    const a = document.activeElement;
    if (!a || !a.matches('[data-testid=stSidebarNavLink][aria-current=page]') || !a.matches(':focus-visible')) return;
    const h = document.querySelector('[data-testid=stMain] h1');
    if (h) { h.setAttribute('tabindex', '-1'); h.focus(); }
  }, 300);
})"""


def keep_focus_ui(*keys: str) -> None:
    """After this run, the keyboard's focus, if a disabled button dropped it, goes to the first enabled of the buttons
    with these keys."""
    token = st.session_state.get("page_run", 0)  # a new script each run: Streamlit runs a changed one again
    st.html(f"<script>{_KEEP_FOCUS_JS}({json.dumps(list(keys))}, {token})</script>", unsafe_allow_javascript=True)


def identity_ui() -> None:
    """The student's display name (optional, shown to the teacher), and teacher mode's badge."""
    st.text_input(_("Your name"), key=sticky("name_input", ""), on_change=in_language(_name_changed), max_chars=None,
                  placeholder=_("so your teacher knows your runs"), help=_("Shown to your teacher with your runs and "
                    "saved models. Letters, digits, spaces and . ' - _; at most 40 characters."))
    if st.session_state["name_error"]:
        st.error(st.session_state["name_error"], icon=":material/badge:")
    if st.session_state["teacher"]:
        left, right = st.columns([3, 2], vertical_alignment="center")
        left.caption(":material/verified_user: Teacher mode")
        if right.button(_("Leave"), key="leave_teacher", help=_("Back to a student's view in this browser (until you "
                          "type the passphrase again).")):
            identity.leave_teacher()
            st.rerun()
    st.button(_("Not you? Start fresh"), key="start_fresh", icon=":material/person_add:", type="tertiary",
              on_click=in_language(identity.start_fresh),  # a callback: it runs before the name box is drawn again
              help=_("On a shared computer: this browser becomes a new student. The work of the one before stays "
                     "theirs (saved models keep their name)."))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """Text from a person (a name, a link's value) made safe to put inside Markdown: shown as typed, never
    as markup (Streamlit renders no HTML in Markdown unless asked; this also stops links and emphasis)."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def loss_text(loss: float) -> str:
    """A loss for people: "—" when there is none, never "-0.0000" (a cross-entropy is never below zero)."""
    return "—" if math.isnan(loss) else number(max(0.0, loss), ".4f")  # 0,2147 in German and Spanish


def actor() -> store.Actor:
    """Who this session is, for changes to saved models."""
    return store.Actor(owner=st.session_state["owner"], teacher=st.session_state["teacher"])


def title_ui(title: str, text: str | None = None) -> None:
    """The page's heading (``text``, already translated, or the page's title), with the page's menu icon; under it,
    once, what became of a run of this student that a server restart ended."""
    st.title(f"{PAGE_ICONS.get(title, PAGE_ICONS['Home'])} {text or _(title)}")
    st.html(f"<script>{_HEADING_FOCUS_JS}({st.session_state.get('page_run', 0)})</script>",
            unsafe_allow_javascript=True)
    runs.interrupted_ui()


def presenting() -> bool:
    return bool(st.session_state.get("present"))
