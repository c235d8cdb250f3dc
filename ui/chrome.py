"""What every page has around its content: page config, session state, sidebar, presentation mode.

Every page starts with :func:`page_setup_ui`. It also keeps Keras' compiled functions alive
between reruns (:func:`keep_keras_session`) and imports TensorFlow in the background once per
server, so the first page that needs a model does not wait for the import.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import streamlit as st

from ui import runs
from ui.state import init_state, keep_sticky, sticky

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
log = logging.getLogger("cnnlab")

# The page menu: Material icons ship with Streamlit and render on every machine (emoji need a font).
PAGE_FILES = [("1_Data.py", "Data"), ("2_Train.py", "Train"), ("3_Evaluate.py", "Evaluate"),
              ("4_Inspect.py", "Inspect"), ("5_Draw.py", "Draw"), ("6_Lessons.py", "Lessons")]
PAGE_ICONS = {"Home": ":material/neurology:", "Data": ":material/dataset:", "Train": ":material/model_training:",
              "Evaluate": ":material/fact_check:", "Inspect": ":material/biotech:", "Draw": ":material/draw:",
              "Lessons": ":material/school:"}

PRESENT_CSS = """
<style>
html, body, [class*="css"], .stMarkdown p, .stMarkdown li { font-size: 1.3rem !important; }
h1 { font-size: 3rem !important; } h2 { font-size: 2.3rem !important; } h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] { font-size: 3rem !important; }
</style>
"""


def keep_keras_session() -> bool:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit does that for apps that rebuild models on each rerun. CNN Lab keeps its models across
    reruns: clearing the session drops every compiled predict function (the next drawing's
    prediction then takes ~45 ms instead of ~4 ms) and runs a full garbage collection (~0.2 s with
    TensorFlow loaded) after *every* rerun, which the sidebar's live status triggers once a second
    per session. Streamlit has no public option for it, so this patches its private hook; when a
    Streamlit upgrade renames the hook, this logs an error and ``tests/app`` fails.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        log.error("CNN Lab: Streamlit's script runner moved; Keras sessions are cleared after every rerun.")
        return False
    if not hasattr(script_runner, "_clean_problem_modules"):
        log.error("CNN Lab: Streamlit no longer has _clean_problem_modules; check whether it still clears "
                  "the Keras session after every rerun (drawing predictions become ~10x slower).")
        return False
    script_runner._clean_problem_modules = _keep_matplotlib_clean_only
    return True


def _keep_matplotlib_clean_only() -> None:
    """What Streamlit's hook does besides clearing Keras: close matplotlib figures (if used)."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


_warm_lock = threading.Lock()
_warm_started = False


def warm_up() -> None:
    """Once per server, in the background: import TensorFlow and start the training engine."""
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    keep_keras_session()

    def _import() -> None:
        time.sleep(2.0)  # let the first page reach the browser before competing for the CPU
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

    threading.Thread(target=_import, name="warm-up-tensorflow", daemon=True).start()


def _file_pages(default: str = "") -> list:
    return [st.Page(f"pages/{file}", title=title, icon=PAGE_ICONS[title], url_path=title, default=title == default)
            for file, title in PAGE_FILES]


def navigation(home: st.Page):
    """The app's pages, for app.py. CNN Lab draws its own menu (:func:`menu_ui`)."""
    pages = [home, *_file_pages()]
    st.session_state["menu"] = pages
    return st.navigation(pages, position="hidden")


def menu_ui() -> None:
    """The page menu at the top of the sidebar.

    Until some session has run app.py, Streamlit serves a server's very first requests for a sub-page
    (a teacher's share link) in its old ``pages/``-folder mode: the page alone, without app.py (and with
    Streamlit's old menu, "app" and no icons, were it not switched off). The same menu then links the
    page files, which that mode knows by path."""
    with st.sidebar:
        pages = st.session_state["menu"]
        if pages:
            for page in pages:
                st.page_link(page)
        else:
            st.page_link("app.py", label="Home", icon=PAGE_ICONS["Home"])
            for file, title in PAGE_FILES:
                st.page_link(f"pages/{file}", label=title, icon=PAGE_ICONS[title])
        st.divider()


def page_setup_ui(title: str) -> None:
    """Page config, session state, the sidebar (presentation toggle, the session's runs)."""
    st.set_page_config(page_title=f"{title} · CNN Lab", page_icon=PAGE_ICONS.get(title, PAGE_ICONS["Home"]),
                       layout="wide")
    init_state()
    keep_sticky()
    warm_up()
    if st.query_params.get("present") in ("1", "true", "yes") and not st.session_state["present_link_applied"]:
        st.session_state["present_link_applied"] = True  # once: the toggle can still switch it off
        st.session_state["sticky"]["present"] = True
        st.session_state["present"] = True
    menu_ui()
    with st.sidebar:
        st.toggle("Presentation mode", key=sticky("present", False),
                  help="Larger text and fewer controls, for a classroom projector.")
    runs.sidebar_ui()
    if presenting():
        st.markdown(PRESENT_CSS, unsafe_allow_html=True)


def title_ui(title: str, text: str | None = None) -> None:
    """The page's heading, with the page's menu icon."""
    st.title(f"{PAGE_ICONS.get(title, PAGE_ICONS['Home'])} {text or title}")


def presenting() -> bool:
    return bool(st.session_state.get("present"))
