"""The teacher's view: the passphrase prompt, every run on the server live, every saved model."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import streamlit as st

from cnn import architectures, classroom, db, hyperparams, store
from cnn.jobs import records
from ui import identity, models, runs
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
                identity.become_teacher()  # kept over a reload for a school day, for this browser only
                st.rerun()
            st.error(f"That is not the passphrase. Wait {classroom.GATE.wait_left(st.session_state['owner']):.0f} s "
                     "before the next try.")


def _secrets():
    try:
        return st.secrets
    except Exception:  # no secrets file: that is fine
        return None


def how_it_stands(run: records.RunRecord) -> str:
    """A run's state in words, telling apart the ways a run can end."""
    if not run.finished:
        return run.state
    if run.stop_reason == "restart":
        return "interrupted (server restart)"
    if run.state == "cancelled":
        return "removed from queue"
    if run.state == "error":
        return "failed"
    status = run.result.get("status")
    if status == "stopped":
        return {"teacher": "stopped by you", "abandoned": "stopped (tab closed)", "shutdown": "stopped (shutdown)"}.get(
            run.stop_reason or "", "stopped by student")
    return "diverged" if status == "nan" else "finished"


def _row(run: records.RunRecord) -> dict:
    last = run.latest()
    acc = run.test_accuracy if run.finished else (last.logs.get("accuracy") if last else None)
    waited = ((run.started or run.ended or time.time()) - run.submitted) if run.state != "queued" else \
        time.time() - run.submitted
    return {"student": run.owner_name or "(no name)", "run": run.label, "state": how_it_stands(run),
            "how it ended": run.message, "dataset": run.dataset, "architecture": run.arch,
            "epoch": f"{last.epoch}/{last.epochs} · batch {last.batch}/{last.batches}" if last else "—",
            "accuracy": f"{acc:.1%}" if acc is not None else "—", "waited": runs.fmt_seconds(max(0.0, waited)),
            "where": f"{run.worker or 'queue'} · {run.server}"}


def _record_line(run: records.RunRecord) -> tuple[float, str]:
    """(fraction, line) of a run: live from the engine when it trains here, else from its record (another server)."""
    job = runs.engine().get(run.id)
    if job is not None:
        return runs.status_line(job)
    last = run.latest()
    if run.state == "queued":
        return 0.0, "Waiting for a free training slot."
    if last is None:
        return 0.0, "Preparing the data and building the model…"
    acc = last.logs.get("accuracy")
    return last.fraction, (f"Epoch {last.epoch}/{last.epochs} · batch {last.batch}/{last.batches}"
                           + (f" · accuracy {acc:.1%}" if acc is not None else ""))


def stop_run(run: records.RunRecord) -> None:
    """Stop a student's run wherever it trains: at once on this server, through the database on another."""
    job = runs.engine().get(run.id)
    if job is not None:
        job.stop("teacher")
    else:
        records.request_stop(db.database(), run.id, "teacher")


def engine_status_ui(engine) -> None:
    """Which engine trains new runs, since when and why; Ray's own words under "details" (never to students)."""
    status = getattr(engine, "status", None)
    if status is None:
        return
    s = status()
    since = time.strftime("%H:%M:%S", time.localtime(s["since"]))
    if s["state"] == "connected":
        st.success(f"New runs train on the Ray cluster at {s['address']} (since {since}).", icon=":material/lan:")
    elif s["state"] == "connecting":
        st.info(f"Connecting to the training cluster at {s['address']} (since {since}); new runs train on this "
                "server meanwhile.", icon=":material/lan:")
    else:
        st.warning(f"New runs train on this server (since {since}): {s['reason']} CNN Lab tries the cluster again "
                   "every half minute.", icon=":material/lan:")
    if s["details"]:
        with st.expander("Details (for the person running the cluster)"):
            st.code(s["details"], language=None)


@st.fragment(run_every=2.0)
def runs_ui() -> None:
    """Every run of the class, on every server: running and queued first, then those that ended in the last hours;
    Stop any."""
    engine = runs.engine()
    cap = engine.capacity()
    try:
        listed = records.recent_runs(db.database(), time.time() - RECENT_S)
        others = [s for s in records.servers(db.database()) if engine.recorder is None
                  or s["id"] != engine.recorder.server]
    except db.DatabaseError as e:
        st.error(f"The class database cannot be read: {e}")
        return
    st.caption(f"This server's queue: {cap['running']} training, {cap['waiting']} waiting; at most {cap['limit']} at "
               f"once ({cap['where']})." + (f" {len(others)} other server{'s' if len(others) != 1 else ''} of this "
                                            "class: " + ", ".join(s["id"] for s in others) + "." if others else ""))
    engine_status_ui(engine)
    if not listed:
        st.info("No runs yet. When students press Train, their runs appear here.")
        return
    for run in [r for r in listed if not r.finished]:
        c1, c2 = st.columns([6, 1], vertical_alignment="center")
        fraction, line = _record_line(run)
        c1.progress(fraction, text=f"{plain(run.owner_name) or '(no name)'} · {plain(run.label)} · {line}")
        if c2.button("Stop", key=f"cls_stop_{run.id}", icon=":material/stop_circle:",
                     help="Ends this student's run after its current batch; they see that you stopped it."):
            stop_run(run)
            st.rerun(scope="fragment")
    st.dataframe([_row(r) for r in listed], hide_index=True, width="stretch")


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
    name = models.delete_model_ui(deletable, store.Actor(teacher=True), "cls_del", label="Delete a model")
    st.caption(f"Feature maps of a model on the projector: {present_link('Inspect', model=name)}")


def challenge_ui(datasets: list[str], titles: dict[str, str]) -> classroom.Challenge | None:
    """Set or clear the class challenge (saved on the server: every student's Leaderboard shows it)."""
    current = classroom.load_challenge()
    with st.form("cls_challenge", border=True):
        st.markdown("**Challenge**")
        c1, c2, c3 = st.columns(3)
        ds = c1.selectbox("Dataset", datasets, index=datasets.index(current.dataset) if current and current.dataset in
                          datasets else 0, format_func=lambda n: titles[n])
        epochs = c2.number_input("Most epochs (0: any)", 0, int(hyperparams.PARAMS["epochs"].hi),
                                 current.max_epochs if current else 0)
        params = c3.number_input("Most parameters (0: any)", 0, architectures.MAX_PARAMS,
                                 current.max_params if current else 0, step=10_000)
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
