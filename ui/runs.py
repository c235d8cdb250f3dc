"""This browser session's training runs: start them, follow them on every page, collect their models.

Runs belong to the session, not to a page: a group of runs (the Train page's run, a lesson's
comparison) lives in session state under a key, its jobs in the server's engine
(:func:`cnn.jobs.engine`). Every page's sidebar polls the session's unfinished jobs once a second
(:func:`sidebar_ui`): that poll is the jobs' heartbeat, so a run ends early only when no page of
the session is open (the tab was closed). Finished models are added to the session's models
wherever the student is.
"""
from __future__ import annotations

import contextlib
import html
import math
import time
from dataclasses import dataclass, field

import streamlit as st

from cnn import jobs, run_config, run_results, training
from cnn.i18n import N_, _, number, said
from cnn.jobs import Job, JobRequest
from ui import charts, figures
from ui.state import fragment

POLL_S = 1.0  # the sidebar and the live charts redraw once a second
FIRST_BATCH_WAIT_S = 15.0  # for this long after Train, the live view waits for the first batch instead of polling
# ... and the first drawing after Train waits this long for it once a worker has the run: else the rest of the page
# was drawn first, and two students pressing at once on 2 cores saw their first batch 1-5 s after it came
FIRST_BATCH_HOLD_S = 2.5
PAGE_OF_GROUP = {"train": "pages/2_Train.py"}  # other groups (lessons) link to Lessons
TITLE_OF_GROUP = {"train": N_("Train")}
STATES = (N_("queued"), N_("running"), N_("done"), N_("error"), N_("cancelled"))  # a run's state, as people read it


@dataclass
class RunGroup:
    """Runs started together (one on Train, two for a lesson); finished when all are."""

    key: str
    jobs: list[Job]
    register: bool  # add the trained models to the session's models
    collected: set[str] = field(default_factory=set)  # job ids whose results were taken

    @property
    def finished(self) -> bool:
        return all(j.finished for j in self.jobs)

    def results(self) -> list[tuple[str, run_results.TrainResult]]:
        return [(j.label, j.result) for j in self.jobs if j.state == "done" and j.result is not None]

    def errors(self) -> list[str]:
        return [said(j.message) for j in self.jobs if j.state in ("error", "cancelled")]


def engine() -> jobs.Engine:
    return jobs.engine()


def get_ready(config: run_config.TrainConfig, ds) -> None:
    """Tell the engine the run this Train page shows (once per change of settings): an idle worker builds,
    compiles and traces its model before Train is pressed (:func:`cnn.training.prepare`)."""
    n = len(ds.train_images)
    key = training.prepare_key(config, ds.image_shape, ds.num_classes, n)
    if st.session_state.get("_ready_for") != key:
        st.session_state["_ready_for"] = key
        with contextlib.suppress(jobs.EngineError):
            engine().prepare(config, ds)


def start(key: str, requests: list[JobRequest], register: bool = False) -> RunGroup:
    """Submit these runs for this session (replacing a finished group under ``key``)."""
    owner = st.session_state["owner"]
    name = st.session_state.get("display_name", "")
    for r in requests:
        r.owner, r.owner_name = owner, name
        r.extra.setdefault("group", key)
    group = RunGroup(key, [engine().submit(r) for r in requests], register)
    st.session_state["runs"][key] = group
    return group


def group(key: str) -> RunGroup | None:
    return st.session_state["runs"].get(key)


def is_running(key: str) -> bool:
    g = group(key)
    return g is not None and not g.finished


def stop(key: str) -> None:
    g = group(key)
    if g is not None:
        for j in g.jobs:
            j.stop("user")


def active_jobs() -> list[tuple[str, Job]]:
    return [(key, j) for key, g in st.session_state["runs"].items() for j in g.jobs if not j.finished]


def poll() -> bool:
    """Heartbeat for every unfinished job of the session; collect finished models. True if any finished."""
    changed = False
    for key, g in st.session_state["runs"].items():
        for j in g.jobs:
            if not j.finished:
                j.touch()
            elif j.id not in g.collected:
                g.collected.add(j.id)
                changed = True
                if g.register and j.state == "done" and j.result is not None and j.result.model is not None:
                    _collect(key, j)
    return changed


def _collect(key: str, job: Job) -> None:
    """The finished run's model joins the session's models and becomes the current one."""
    result = job.result
    meta = run_results.result_metadata(result, made_by="CNN Lab Train page")
    meta.update(owner=job.owner, owner_name=job.owner_name)
    st.session_state["session_models"][job.label] = {"model": result.model, "meta": meta, "token": f"job:{job.id}",
                                                     "saved_as": "", "run": job.id}
    st.session_state["current_model"] = f"session:{job.label}"
    if key == "train":
        st.session_state["train_result"] = (job.label, result, meta)
    job.release_model()  # the session holds it now; the engine need not


def fmt_seconds(seconds: float) -> str:
    if math.isnan(seconds):
        return "…"
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def status_line(job: Job) -> tuple[float, str]:
    """(fraction done, one line) for a job: its queue place, epoch and batch, accuracy so far."""
    if job.state == "queued":
        if job.note:
            return 0.0, said(job.note)
        place = job.place
        if place:
            return 0.0, _("Waiting for a free training slot: number {place} in the queue.", place=place)
        return 0.0, _("Starting…")
    last = job.latest()
    if job.state == "running" and last is None:
        return 0.0, _("Preparing the data and building the model…")
    if job.finished:
        if job.state == "done" and job.result is not None and job.result.status == "finished":
            acc = job.result.test_accuracy
            return 1.0, _("Finished.") if math.isnan(acc) else _("Finished: test accuracy {acc:.1%}.", acc=acc)
        return 1.0, said(job.message)
    return last.fraction, batch_line(last)


def batch_line(last) -> str:
    """"Epoch 2/5 · batch 100/469 · accuracy 97.1%": where a running job is (here and on the Class page)."""
    line = _("Epoch {epoch}/{epochs} · batch {batch}/{batches}", epoch=last.epoch, epochs=last.epochs,
             batch=last.batch, batches=last.batches)
    acc = last.logs.get("accuracy")
    return line + (_(" · accuracy {acc:.1%}", acc=acc) if acc is not None else "")


def _sidebar_body() -> None:
    active = active_jobs()
    if not active:
        return
    st.markdown(_("**Your training**"))
    for key, job in active:
        fraction, line = status_line(job)
        st.progress(fraction, text=f"**{_(job.label)}** · {line}")
        left, right = st.columns(2)
        left.page_link(PAGE_OF_GROUP.get(key, "pages/6_Lessons.py"), label=_(TITLE_OF_GROUP.get(key, "Lessons")),
                       icon=":material/monitoring:")
        if right.button(_("Stop"), key=f"side_stop_{job.id}", icon=":material/stop_circle:",
                        help=_("Ends after the current batch, keeping the model so far.")):
            job.stop("user")


@fragment(run_every=POLL_S)
def _sidebar_live() -> None:
    if poll() or not active_jobs():
        st.rerun(scope="app")  # a run finished: every page shows its model
    _sidebar_body()


def sidebar_ui() -> None:
    """The session's runs in the sidebar of every page; live (and their heartbeat) while any is unfinished."""
    poll()  # models of runs that finished meanwhile are collected before the page draws
    with st.sidebar:
        if active_jobs():
            _sidebar_live()
        if engine().notice:
            st.warning(said(engine().notice), icon=":material/lan:")


def epoch_news(job: Job) -> str:
    """What a screen reader announces about a run: it changes only when an epoch ends (or the run does), so a
    polite live region speaks once an epoch, never once a batch."""
    epochs = job.epoch_events()
    label = _(job.label)
    if job.finished:
        return f"{label}: {said(job.message) if job.message else _('finished')}"
    if not epochs:
        return _("{label}: training started", label=label) if job.state == "running" else \
            _("{label}: waiting to start", label=label)
    e = epochs[-1]
    names = {"loss": _("loss"), "accuracy": _("accuracy"), "val_loss": _("val loss"), "val_accuracy": _("val accuracy")}
    figures_ = ", ".join(f"{names[k]} {number(v, '.1%') if 'accuracy' in k else number(v, '.3f')}"
                         for k, v in e.logs.items() if k in names)
    return _("{label}: epoch {epoch} of {epochs} done", label=label, epoch=e.epoch, epochs=e.epochs) + (
        f": {figures_}" if figures_ else "")


@fragment(run_every=POLL_S)
def progress_ui(key: str, title: str = "") -> None:
    """Progress bars, status and the two live charts of the runs under ``key`` (for the page that started them)."""
    g = group(key)
    if g is None:
        return
    if poll() or g.finished:
        st.rerun(scope="app")  # show the results with the rest of the page
    fresh = [j for j in g.jobs if not j.finished and time.time() - j.submitted < FIRST_BATCH_WAIT_S]
    if fresh and fresh[0].latest() is None:  # a run just started: its first batch shows as it comes
        fresh[0].wait_for_progress(FIRST_BATCH_HOLD_S if fresh[0].place == 0 else 0.9 * POLL_S)
    for job in g.jobs:
        job.touch()
        fraction, line = status_line(job)
        st.markdown(f"**{title or _('Training')} {_(job.label)}**")
        last = job.latest()
        if last is not None and not job.finished:
            line += _(" · {speed:,.0f} images/s · ETA {eta}", speed=last.images_per_sec, eta=fmt_seconds(last.eta))
        st.progress(fraction, text=line)
        st.markdown(f'<div class="cnnlab-sr-only" role="status" aria-live="polite">{html.escape(epoch_news(job))}'
                    "</div>", unsafe_allow_html=True)
        if job.state == "running" and last is not None:
            st.caption(_("Training on {where} · elapsed {elapsed}", where=said(job.where),
                         elapsed=fmt_seconds(last.elapsed)))
            history, points = job.curves()
            if len(points) > 1 or history:  # the first batch's line is painted first; the chart follows
                figures.plot(st, charts.history_figure(history, points), key=f"{key}_{job.id}_live_chart")


def my_runs() -> list:
    """This identity's runs as the class database keeps them (newest first; [] when it cannot be read): read once
    per page run, for the notice at the top and the "Your runs" box at the bottom."""
    from cnn import db
    from cnn.jobs import records

    run = st.session_state.get("page_run", 0)
    kept = st.session_state.get("my_runs")
    if kept is not None and kept[0] == run:
        return kept[1]
    try:
        mine = records.runs_of(db.database(), st.session_state["owner"])
    except db.DatabaseError:
        mine = []
    st.session_state["my_runs"] = (run, mine)
    return mine


INTERRUPTED_NOTICE_S = 2 * 3600  # a run a restart ended is told at the top of the pages for this long


def interrupted_ui() -> None:
    """A run of this student that a server restart (or a lost server) ended lately: said at the top of the page,
    where she looks, until she has read it (it was only in the folded "Your runs" box at the bottom)."""
    told = st.session_state.setdefault("told_interrupted", set())
    now = time.time()
    for r in my_runs():
        recent = r.ended is not None and now - r.ended < INTERRUPTED_NOTICE_S
        if r.stop_reason in ("restart", "lost") and r.id not in told and recent:
            box = st.container(border=True)
            box.warning(_("**{run}**: {message}", run=_(r.label), message=said(r.message)),
                        icon=":material/restart_alt:")
            if box.button(_("Got it"), key=f"told_{r.id}"):
                told.add(r.id)
                st.rerun()


def your_runs_ui(key: str = "your_runs") -> None:
    """This identity's runs as the class database keeps them (over reloads and restarts), with one run's curves."""
    mine = my_runs()
    if not mine:
        return
    with st.expander(_("Your runs ({n})", n=len(mine)), icon=":material/history:"):
        held = {entry.get("run") for entry in st.session_state["session_models"].values()}
        rows = []
        for r in mine:
            acc = r.test_accuracy
            if r.saved_as:
                weights = _("saved as {name}", name=r.saved_as)
            elif r.id in held:
                weights = _("in this browser, not saved (a server restart loses it)")
            elif r.finished:
                weights = _("not kept")
            else:
                weights = _("training")
            rows.append({_("run"): _(r.label), _("dataset"): r.dataset, _("architecture"): r.arch,
                         _("started"): time.strftime("%Y-%m-%d %H:%M", time.localtime(r.submitted)),
                         _("test accuracy"): number(acc, ".1%") if acc is not None else "—", _("model"): weights,
                         _("how it ended"): said(r.message) if r.message
                         else _("finished") if r.finished else _(r.state)})
        st.dataframe(rows, hide_index=True, width="stretch")
        with_curves = [r for r in mine if r.history or r.points]
        if with_curves:
            pick = st.selectbox(_("Curves of"), [r.id for r in with_curves], key=f"{key}_pick",
                                format_func=lambda i: next(_(r.label) for r in with_curves if r.id == i))
            run = next(r for r in with_curves if r.id == pick)
            figures.plot(st, charts.history_figure(run.history, run.points), key=f"{key}_chart")
