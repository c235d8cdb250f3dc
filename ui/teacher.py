"""The teacher's view: the passphrase prompt, every run on the server live, every saved model."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import streamlit as st

from cnn import classroom, jobs, store
from ui import runs
from ui.chrome import plain

RECENT_S = 3 * 3600  # finished runs listed this long


def passphrase_ui() -> None:
    """The only thing the Class page shows without teacher mode."""
    expected = classroom.configured_passphrase(_secrets())
    if not expected:
        st.info("This server has no teacher mode: no teacher passphrase is set. The person running CNN Lab can "
                "set `CNN_TEACHER_PASSWORD` (or `teacher_password` in `.streamlit/secrets.toml`) and restart it.",
                icon=":material/lock:")
        return
    with st.form("teacher_login", border=True):
        attempt = st.text_input("Teacher passphrase", type="password", max_chars=None, key="cls_pass")
        if st.form_submit_button("Enter teacher mode", icon=":material/key:"):
            try:
                ok = classroom.GATE.check(attempt, expected, st.session_state["owner"])
            except classroom.ClassroomError as e:
                st.error(str(e))
                return
            if ok:
                st.session_state["teacher"] = True
                st.rerun()
            st.error(f"That is not the passphrase. Wait {classroom.GATE.wait_left(st.session_state['owner']):.0f} s "
                     "before the next try.")


def _secrets():
    try:
        return st.secrets
    except Exception:  # no secrets file: that is fine
        return None


def _row(job: jobs.Job) -> dict:
    last = job.latest()
    acc = job.accuracy()
    return {"student": job.owner_name or "(no name)", "run": job.label, "dataset": job.dataset,
            "architecture": job.arch, "state": job.state,
            "epoch": f"{last.epoch}/{last.epochs} · batch {last.batch}/{last.batches}" if last else "—",
            "accuracy": f"{acc:.1%}" if acc is not None else "—", "waited": runs.fmt_seconds(job.wait_seconds()),
            "where": job.where or ("queue place " + str(job.place) if job.state == "queued" else ""),
            "how it ended": job.message}


@st.fragment(run_every=2.0)
def runs_ui() -> None:
    """Every run on this server: running and queued first, then those that ended in the last hours; Stop any."""
    engine = runs.engine()
    cap = engine.capacity()
    st.caption(f"Queue: {cap['running']} training, {cap['waiting']} waiting; at most {cap['limit']} at once "
               f"({cap['where']}).")
    now = time.time()
    listed = [j for j in engine.jobs() if not j.finished or now - (j.ended or now) < RECENT_S]
    active = [j for j in listed if not j.finished]
    if not listed:
        st.info("No runs yet. When students press Train, their runs appear here.")
        return
    for job in active:
        c1, c2 = st.columns([6, 1], vertical_alignment="center")
        fraction, line = runs.status_line(job)
        c1.progress(fraction, text=f"{plain(job.owner_name) or '(no name)'} · {plain(job.label)} · {line}")
        if c2.button("Stop", key=f"cls_stop_{job.id}", icon=":material/stop_circle:",
                     help="Ends this student's run after its current batch; they see that you stopped it."):
            job.stop("teacher")
            st.rerun(scope="fragment")
    st.dataframe([_row(j) for j in sorted(listed, key=lambda j: (j.finished, -j.submitted))], hide_index=True,
                 width="stretch")


def present_link(page: str, **params: str) -> str:
    """A link that opens a page full-screen in presentation mode (for the projector)."""
    return f"/{page}?{urlencode({**params, 'present': 1})}"


def models_ui() -> None:
    """Every saved model with its student; delete any (the shipped ones excepted); presentation links."""
    entries = store.list_models()
    st.dataframe([{"model": e.name, "student": e.meta.get("owner_name") or ("CNN Lab" if e.meta.get("shipped")
                                                                            else "—"),
                   "dataset": e.dataset,
                   "test accuracy": f"{e.test_accuracy:.2%}" if isinstance(e.test_accuracy, float) else "—",
                   "saved": e.meta.get("saved", ""),
                   "present": present_link("Evaluate", model=e.name)} for e in entries],
                 hide_index=True, width="stretch",
                 column_config={"present": st.column_config.LinkColumn("present", display_text="open on Evaluate")})
    deletable = [e.name for e in entries if not e.meta.get("shipped")]
    if not deletable:
        return
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    name = c1.selectbox("Delete a model", deletable, key="cls_del_name")
    sure = c2.checkbox(f"Yes, delete {name}", key=f"cls_del_sure_{name}")
    if sure and c2.button("Delete", type="primary", key="cls_del_go", icon=":material/delete:"):
        try:
            store.delete_model(name, actor=store.Actor(teacher=True))
        except store.StoreError as e:
            st.error(str(e))
        else:
            st.toast(f"Deleted {name}.")
            st.rerun()
    st.caption(f"Feature maps of a model on the projector: {present_link('Inspect', model=name)}")


def challenge_ui(datasets: list[str], titles: dict[str, str]) -> classroom.Challenge | None:
    """Set or clear the class challenge (saved on the server: every student's Leaderboard shows it)."""
    current = classroom.load_challenge()
    with st.form("cls_challenge", border=True):
        st.markdown("**Challenge**")
        c1, c2, c3 = st.columns(3)
        ds = c1.selectbox("Dataset", datasets, index=datasets.index(current.dataset) if current and current.dataset in
                          datasets else 0, format_func=lambda n: titles[n])
        epochs = c2.number_input("Most epochs (0: any)", 0, 500, current.max_epochs if current else 0)
        params = c3.number_input("Most parameters (0: any)", 0, 50_000_000, current.max_params if current else 0,
                                 step=10_000)
        title = st.text_input("Title (optional)", current.title if current else "", max_chars=120,
                              placeholder="Best CIFAR-10 accuracy with your own architecture in 3 epochs")
        set_it, clear_it = st.columns(2)
        if set_it.form_submit_button("Set the challenge", icon=":material/flag:"):
            classroom.save_challenge(classroom.Challenge(ds, int(epochs), int(params), classroom.clean_title(title)))
            st.rerun()
        if clear_it.form_submit_button("No challenge", icon=":material/flag_circle:"):
            classroom.save_challenge(None)
            st.rerun()
    return classroom.load_challenge()
