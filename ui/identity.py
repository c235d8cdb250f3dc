"""This browser's identity on every page: the cookie that keeps it, the name, teacher mode, the workspace.

At the first run of a browser session, the ``cnnlab_id`` cookie (sent with the page's connection:
``st.context.cookies``) is looked up in the class database (:mod:`cnn.identity`); a missing or
unknown one gets a new identity, and a small component of the app's own writes its token into
the cookie. The identity's *workspace* (its unsaved models, its runs, its latest result) is
held by the server per identity, not per session, so a reload or a second tab finds it again.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import streamlit as st

from cnn import classroom, db, identity

COOKIE_DAYS = 365
WORKSPACE_KEYS = ("session_models", "runs", "train_result", "train_config", "current_model")
WORKSPACE_IDLE_S = 12 * 3600  # a workspace nobody opened for this long is dropped (its unsaved models with it)

_COOKIE_JS = """
export default function(component) {
  const data = component.data || {};
  if (!data.token) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${data.name}=${data.token}; path=/; max-age=${data.max_age}; SameSite=Strict${secure}`;
}
"""
_cookie_component = st.components.v2.component("cnnlab_identity_cookie", js=_COOKIE_JS)


@st.cache_resource
def _workspaces() -> tuple[dict[str, dict[str, Any]], threading.Lock]:
    """identity id -> its workspace (one per server, shared by every session of that identity)."""
    return {}, threading.Lock()


def workspace(owner: str) -> dict[str, Any]:
    """The identity's workspace: the values of :data:`WORKSPACE_KEYS`, and when it was last opened."""
    spaces, lock = _workspaces()
    now = time.time()
    with lock:
        for other in [k for k, w in spaces.items() if now - w["seen"] > WORKSPACE_IDLE_S]:
            del spaces[other]
        space = spaces.setdefault(owner, {"session_models": {}, "runs": {}, "train_result": None,
                                          "train_config": None, "current_model": "", "seen": now})
        space["seen"] = now
        return space


def remembered_language() -> str:
    """The language this identity picked in another tab, before a reload or on another server of the class ("" when
    it never picked one, or the database cannot say)."""
    owner = st.session_state.get("owner")
    try:
        return identity.language_of(class_db(), owner) if owner else ""
    except db.DatabaseError:
        return ""


def remember_language(code: str) -> None:
    """Keep the picked language with the identity, in the class database (this tab speaks it regardless)."""
    if st.session_state.get("owner"):
        with contextlib.suppress(db.DatabaseError):
            identity.set_language(class_db(), st.session_state["owner"], code)


def class_db() -> db.Database:
    return db.database()


def attach_ui() -> None:
    """Once per browser session: find (or make) this browser's identity and bind its workspace; on every run,
    keep the cookie written and the workspace's plain values in step with this session's."""
    ss = st.session_state
    if not ss.get("identity_bound"):
        token = st.context.cookies.get(identity.COOKIE)
        found = identity.attach(class_db(), token)
        if found is None:
            found, token = identity.create(class_db())
            ss["cookie_token"] = token  # written by the component below, from this run on
        _bind(found)
    else:
        refresh_teacher()  # Leave in another tab, or a grant that expired, ends teacher mode here too
    _sync_workspace()
    if ss.get("cookie_token"):
        _cookie_component(data={"name": identity.COOKIE, "token": ss["cookie_token"],
                                "max_age": COOKIE_DAYS * 86400}, key="identity_cookie")


def _bind(found: identity.Identity, adopt: bool = True) -> None:
    """Bind this session to an identity and its workspace. With ``adopt``, values this session already holds (set
    before its first run, as tests and links do) join the workspace."""
    ss = st.session_state
    ss["owner"], ss["display_name"] = found.id, found.name
    ss["sticky"]["name_input"] = ss["name_input"] = found.name
    ss["identity_bound"] = True
    space = workspace(found.id)
    for key in WORKSPACE_KEYS:
        if adopt and ss.get(key):
            space[key] = ss[key]
        ss[key] = space[key]
    ss["workspace_seen"] = {k: id(space[k]) for k in WORKSPACE_KEYS}
    refresh_teacher()


def _sync_workspace() -> None:
    """Values this session set since its last run go to the workspace; values another tab set come here."""
    ss = st.session_state
    space = workspace(ss["owner"])
    seen = ss["workspace_seen"]
    for key in WORKSPACE_KEYS:
        mine = ss.get(key)
        if id(mine) != seen.get(key):  # this session assigned a new value
            space[key] = mine
        elif id(space[key]) != id(mine):  # another session of this identity did
            ss[key] = space[key]
        seen[key] = id(ss[key] if key in ss else space[key])


def refresh_teacher() -> None:
    """Teacher mode while this identity holds a valid grant (a reload keeps it; Leave, its expiry or a new
    passphrase ends it, in every tab)."""
    expected = classroom.configured_passphrase(_secrets())
    granted = identity.teacher_until(class_db(), st.session_state["owner"], expected) is not None
    if granted or st.session_state.get("teacher_granted"):
        st.session_state["teacher"] = st.session_state["teacher_granted"] = granted


def become_teacher() -> None:
    """The passphrase was right: a grant for this identity (a school day), and teacher mode now."""
    identity.grant_teacher(class_db(), st.session_state["owner"], classroom.configured_passphrase(_secrets()))
    st.session_state["teacher"] = st.session_state["teacher_granted"] = True


def leave_teacher() -> None:
    identity.revoke_teacher(class_db(), st.session_state["owner"])
    st.session_state["teacher"] = st.session_state["teacher_granted"] = False


def set_name(name: str) -> None:
    identity.set_name(class_db(), st.session_state["owner"], name)
    st.session_state["display_name"] = name


def start_fresh() -> None:
    """"Not you? Start fresh": a new identity for this browser (the old one's work stays with the old one)."""
    ss = st.session_state
    found, token = identity.create(class_db())
    ss["cookie_token"] = token
    for key in ("name_error", "download", "exports", "ev_cache", "estimate", "last_drawing"):
        ss.pop(key, None)
    _bind(found, adopt=False)


def _secrets():
    try:
        return st.secrets
    except Exception:  # no secrets file: that is fine
        return None
