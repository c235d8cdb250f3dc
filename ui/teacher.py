"""The teacher's view: the passphrase prompt, every run on the server live, every saved model."""
from __future__ import annotations

import math
import time
from urllib.parse import urlencode

import streamlit as st

from cnn import architectures, classroom, db, run_config, store
from cnn.i18n import _, n_, number, said
from cnn.jobs import records
from ui import identity, models, runs
from ui.chrome import plain
from ui.state import fragment

RECENT_S = 3 * 3600  # finished runs listed this long


def passphrase_ui() -> None:
    """The only thing the Class page shows without teacher mode."""
    expected = classroom.configured_passphrase(_secrets())
    if not expected:
        st.info(_("This server has no teacher mode: no teacher passphrase is set. The person running CNN Lab can "
                  "set `CNN_TEACHER_PASSWORD` (or `teacher_password` in `.streamlit/secrets.toml`) and restart it."),
                icon=":material/lock:")
        return
    with st.form("teacher_login", border=True):
        attempt = st.text_input(_("Teacher passphrase"), type="password", max_chars=None, key="cls_pass")
        if st.form_submit_button(_("Enter teacher mode"), icon=":material/key:"):
            try:
                ok = classroom.GATE.check(db.database(), attempt, expected, st.session_state["owner"])
                if ok:
                    identity.become_teacher()  # kept over a reload for a school day, for this browser only
                else:
                    wait = math.ceil(classroom.GATE.wait_left(db.database(), st.session_state["owner"]))
            except (classroom.ClassroomError, db.DatabaseError) as e:
                st.error(str(e))
                return
            if ok:
                st.rerun()
            st.error(_("That is not the passphrase. Wait {wait_left:.0f} s before the next try.", wait_left=wait))


def _secrets():
    try:
        return st.secrets
    except Exception:  # no secrets file: that is fine
        return None


def how_it_stands(run: records.RunRecord) -> str:
    """A run's state in words, telling apart the ways a run can end."""
    if not run.finished:
        return _(run.state)
    if run.stop_reason in ("restart", "lost"):
        return _("interrupted (server restart)")
    if run.state == "cancelled":
        return _("removed from queue")
    if run.state == "error":
        return _("failed")
    status = run.result.get("status")
    if status == "stopped":
        return {"teacher": _("stopped by you"), "abandoned": _("stopped (tab closed)"),
                "shutdown": _("stopped (shutdown)")}.get(run.stop_reason or "", _("stopped by student"))
    return _("diverged") if status == "nan" else _("finished")


def _row(run: records.RunRecord) -> dict:
    last = run.latest()
    acc = run.test_accuracy if run.finished else (last.logs.get("accuracy") if last else None)
    waited = ((run.started or run.ended or time.time()) - run.submitted) if run.state != "queued" else \
        time.time() - run.submitted
    return {_("student"): run.owner_name or _("(no name)"), _("run"): _(run.label), _("state"): how_it_stands(run),
            _("how it ended"): said(run.message), _("dataset"): run.dataset, _("architecture"): run.arch,
            _("epoch"): _("{epoch}/{epochs} · batch {batch}/{batches}", epoch=last.epoch, epochs=last.epochs,
                          batch=last.batch, batches=last.batches) if last else "—",
            _("accuracy"): number(acc, ".1%") if acc is not None else "—",
            _("waited"): runs.fmt_seconds(max(0.0, waited)),
            _("where"): f"{said(run.worker) if run.worker else _('queue')} · {run.server}"}


def _record_line(run: records.RunRecord) -> tuple[float, str]:
    """(fraction, line) of a run: live from the engine when it trains here, else from its record (another server)."""
    job = runs.engine().get(run.id)
    if job is not None:
        return runs.status_line(job)
    last = run.latest()
    if run.state == "queued":
        return 0.0, _("Waiting for a free training slot.")
    if last is None:
        return 0.0, _("Preparing the data and building the model…")
    return last.fraction, runs.batch_line(last)


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
        st.success(_("New runs train on the Ray cluster at {address} (since {since}).",
                     address=s['address'], since=since), icon=":material/lan:")
    elif s["state"] == "connecting":
        st.info(_("Connecting to the training cluster at {address} (since {since}); new runs train on this server "
                  "meanwhile.", address=s['address'], since=since), icon=":material/lan:")
    else:
        st.warning(_("New runs train on this server (since {since}): {reason} CNN Lab tries the cluster again every "
                     "half minute.", since=since, reason=said(s["reason"])), icon=":material/lan:")
    if s["details"]:
        with st.expander(_("Details (for the person running the cluster)")):
            st.code(s["details"], language=None)


@fragment(run_every=2.0)
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
        st.error(_("The class database cannot be read: {e}", e=e))
        return
    line = _("This server's queue: {running} training, {waiting} waiting; at most {limit} at once ({where}).",
             running=cap["running"], waiting=cap["waiting"], limit=cap["limit"], where=cap["where"])
    if others:
        line += " " + n_("{n} other server of this class: {names}.", "{n} other servers of this class: {names}.",
                         len(others), names=", ".join(s["id"] for s in others))
    st.caption(line)
    engine_status_ui(engine)
    if not listed:
        st.info(_("No runs yet. When students press Train, their runs appear here."))
        return
    for run in [r for r in listed if not r.finished]:
        c1, c2 = st.columns([6, 1], vertical_alignment="center")
        fraction, line = _record_line(run)
        c1.progress(fraction, text=f"{plain(run.owner_name) or _('(no name)')} · {plain(_(run.label))} · {line}")
        if c2.button(_("Stop"), key=f"cls_stop_{run.id}", icon=":material/stop_circle:",
                     help=_("Ends this student's run after its current batch; they see that you stopped it.")):
            stop_run(run)
            st.rerun(scope="fragment")
    st.dataframe([_row(r) for r in listed], hide_index=True, width="stretch")


def present_link(page: str, **params: str) -> str:
    """A link that opens a page full-screen in presentation mode (for the projector)."""
    return f"/{page}?{urlencode({**params, 'present': 1})}"


def models_ui() -> None:
    """Every saved model with its student; delete any (the shipped ones excepted); presentation links."""
    entries = store.list_models()
    st.dataframe([{_("model"): e.name, _("student"): e.meta.get("owner_name") or ("CNN Lab" if e.meta.get("shipped")
                                                                                  else "—"),
                   _("dataset"): e.dataset,
                   _("test accuracy"): number(e.test_accuracy, ".2%") if isinstance(e.test_accuracy, float) else "—",
                   _("saved"): e.meta.get("saved", ""),
                   "present": present_link("Evaluate", model=e.name)} for e in entries],
                 hide_index=True, width="stretch",
                 column_config={"present": st.column_config.LinkColumn(_("present"),
                                                                       display_text=_("open on Evaluate"))})
    deletable = [e.name for e in entries if not e.meta.get("shipped")]
    if not deletable:
        return
    name = models.delete_model_ui(deletable, store.Actor(teacher=True), "cls_del", label=_("Delete a model"))
    st.caption(_("Feature maps of a model on the projector: {present_link}",
                 present_link=present_link("Inspect", model=name)))


def challenge_ui(datasets: list[str], titles: dict[str, str]) -> classroom.Challenge | None:
    """Set or clear the class challenge (saved on the server: every student's Leaderboard shows it)."""
    current = classroom.load_challenge()
    with st.form("cls_challenge", border=True):
        st.markdown(_("**Challenge**"))
        c1, c2, c3 = st.columns(3)
        ds = c1.selectbox(_("Dataset"), datasets, index=datasets.index(current.dataset)
                          if current and current.dataset in datasets else 0, format_func=lambda n: titles[n])
        epochs = c2.number_input(_("Most epochs (0: any)"), 0, int(run_config.PARAMS["epochs"].hi),
                                 current.max_epochs if current else 0)
        params = c3.number_input(_("Most parameters (0: any)"), 0, architectures.MAX_PARAMS,
                                 current.max_params if current else 0, step=10_000)
        title = st.text_input(_("Title (optional)"), current.title if current else "", max_chars=120,
                              placeholder=_("Best CIFAR-10 accuracy with your own architecture in 3 epochs"))
        set_it, clear_it = st.columns(2)
        if set_it.form_submit_button(_("Set the challenge"), icon=":material/flag:"):
            classroom.save_challenge(classroom.Challenge(ds, int(epochs), int(params), classroom.clean_title(title)))
            st.rerun()
        if clear_it.form_submit_button(_("No challenge"), icon=":material/flag_circle:"):
            classroom.save_challenge(None)
            st.rerun()
    return classroom.load_challenge()
