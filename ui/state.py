"""Per-browser-session state: every key the app keeps, in one place, and choices that survive pages.

Streamlit drops a widget's value when a page that does not show the widget runs. A student's
choices (Train settings, presentation mode, the picked model...) must survive a visit to another
page, so widgets whose value matters use :func:`sticky` as their key: the value is kept in
``st.session_state["sticky"]`` and put back when the widget's page runs again. Widgets not made
sticky are page-local on purpose (buttons, uploads, one-off pickers). Widget keys start with
their page's prefix: ``tr_`` Train, ``data_``/``aug_`` Data, ``ev_`` Evaluate, ``in_`` Inspect,
``dr_`` Draw, lesson names on Lessons, ``cls_`` Class, ``md_`` My data.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from cnn import i18n

# Every non-widget session key, with its initial value.
DEFAULTS: dict[str, Any] = {
    "owner": "",  # this browser's identity id (ui.identity): whose runs, models and datasets are whose
    "identity_bound": False,  # the identity and its workspace are bound to this session
    "cookie_token": "",  # a new identity's token, written into the browser's cookie on every run
    "workspace_seen": {},  # key -> id() of the workspace value this session last saw (ui.identity)
    "display_name": "",  # the name a student typed (validated), shown to the teacher
    "name_error": "",  # why the name typed last was refused
    "teacher": False,  # teacher mode, after the passphrase
    "teacher_granted": False,  # ... through this identity's grant in the class database (ui.identity)
    # These five belong to the identity's workspace (ui.identity), shared by its tabs and kept over a reload:
    "session_models": {},  # label -> {"model", "meta", "token", "saved_as", "run"}: trained or uploaded, not saved
    "current_model": "",  # "session:LABEL" or "saved:NAME": what Evaluate, Inspect and Draw open on
    "runs": {},  # group key -> ui.runs.RunGroup: this identity's training runs ("train", lesson keys)
    "train_result": None,  # (label, TrainResult, meta) of the newest run started on the Train page
    "train_config": None,  # the TrainConfig that run was started with
    "last_drawing": None,  # (1, 28, 28, 1) float32 from the Draw page, for Inspect
    "spec": None,  # the layer editor's current spec
    "spec_version": 0,  # bumped when layers move or go, so the editor's widgets start afresh
    "sticky": {},  # widget key -> value kept across pages (see sticky())
    "sticky_next": {},  # widget key -> value it takes at the next run (see choose_next())
    "present_link_applied": False,  # ?present=1 switched presentation mode on (once per session)
    "share_applied": False,  # a share link's settings are applied once per session
    "estimate": None,  # (seconds per epoch, config it was measured for) from "Estimate time per epoch"
    "download": None,  # (label, bytes) of a prepared .keras download
    "exports": {},  # (model token, format) -> cnn.export.Exported, or the message why it was not offered
    "ev_cache": {},  # (model token, dataset) -> cnn.evaluation.Evaluation for session models
    "md_canvas_key": 0,  # My data's canvas, fresh after each drawing is added
    "md_camera_key": 0,  # My data's camera, fresh after each photo is added
    "md_upload_key": 0,  # My data's uploaders, emptied after their files are added
    "md_message": None,  # (kind, text): how the last add went, shown once
    "open_drawing_in_inspect": False,  # Draw's "Open this drawing in Inspect" button was pressed
    "data_shown": "",  # the dataset the Data page showed last
    "lesson_link": "",  # the ?lesson= link already applied (a link opens its lesson once)
    "lang_link": "",  # the ?lang= link already applied (ui.chrome.language_setup)
    "lb_link": "",  # the ?dataset= link the Leaderboard applied
    "model_link": "",  # the ?model= link Evaluate or Inspect applied
    "lesson_fmap": None,  # the Convolution lesson's output, reused by Pooling and Activations
}


def init_state() -> None:
    """Give every key its initial value once per session (copies, so sessions never share a dict)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = copy.copy(value)


def sticky(key: str, default: Any = None) -> str:
    """Use as a widget's ``key=``: its value survives visits to other pages. Returns ``key``.

    The widget must not also get a default value argument; ``default`` is its first value.
    """
    kept = st.session_state["sticky"]
    if key not in kept:
        kept[key] = st.session_state.get(key, default)
        st.session_state[key] = kept[key]
    return key


def keep_sticky() -> None:
    """At the start of every full run: take the sticky widgets' values (still there from the page that
    ran last) and set them again through the Session State API, which a widget on this page
    honours even though Streamlit sees it as a new widget."""
    kept = st.session_state["sticky"]
    for key in list(kept):
        if key in st.session_state:
            kept[key] = st.session_state[key]
        st.session_state[key] = kept[key]
    for key, value in st.session_state["sticky_next"].items():
        kept[key] = st.session_state[key] = value
    st.session_state["sticky_next"].clear()


def choose_next(key: str, value: Any) -> None:
    """Give a sticky widget this value at the next run (for code that runs after the widget was drawn)."""
    st.session_state["sticky_next"][key] = value


def set_sticky(key: str, value: Any) -> None:
    """Set a sticky widget's value from code (before the widget is drawn in this run)."""
    st.session_state["sticky"][key] = value
    st.session_state[key] = value


def speak_session_language() -> None:
    """Set this thread's language to the session's (ui.chrome.language_setup chose it on the page's last run): for
    code that runs without the page's setup, a fragment or a widget's callback."""
    i18n.set_language(st.session_state.get("sticky", {}).get("language") or i18n.DEFAULT)


def in_language(f: Callable) -> Callable:
    """``f`` speaking the session's language. A widget's callback runs before the page's setup (and a fragment's
    rerun without it), on a new thread that speaks English: every callback is given as ``on_change=in_language(f)``
    (tests/app/test_callbacks.py holds every page to it)."""

    @functools.wraps(f)
    def spoken(*args: Any, **kwargs: Any) -> Any:
        speak_session_language()
        return f(*args, **kwargs)

    return spoken


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """``st.fragment`` that speaks the session's language: a fragment reruns alone, without the page's setup
    (ui.chrome.page_setup_ui), so it sets the language itself first. Use it for every fragment."""

    def wrap(f: Callable) -> Callable:
        return st.fragment(in_language(f), run_every=run_every)

    return wrap(func) if func is not None else wrap
