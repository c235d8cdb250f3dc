"""Live training view: background TrainingJobs, polled by a fragment that redraws in place.

A "run list" lives in session state under a key: runs waiting, the job running now, results.
Runs train one after another (a lesson compares two); every run goes through the server-wide
job queue. The fragment reruns every ``POLL_S`` seconds while the tab is open — that is the
job's heartbeat: close the tab and the job stops itself and frees its slot.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from cnn import charts
from cnn.data import Dataset
from cnn.jobs import TrainingJob
from cnn.training import Progress, TrainConfig, device_description

POLL_S = 1.0  # redraw at most once a second: each fragment run costs the training thread CPU time

Run = tuple[str, TrainConfig, Dataset, Callable[[], Any] | None]  # label, config, data, model factory


def start_runs(key: str, runs: list[Run]) -> None:
    """Queue these runs (in order) for this session; replaces any finished run list under ``key``."""
    st.session_state[key] = {"pending": list(runs), "current": None, "label": "", "results": [], "error": "",
                             "done": False}
    poll(key)


def poll(key: str) -> dict | None:
    """Advance the run list: collect a finished job, start the next run. Returns the state."""
    state = st.session_state.get(key)
    if not state or state["done"]:
        return state
    while state["current"] is None or state["current"].finished:
        job = state["current"]
        if job is not None:
            if job.state == "done":
                state["results"].append((state["label"], job.result))
                if job.result.status != "finished":  # stopped or NaN: don't start the rest
                    state["pending"].clear()
            else:
                state["error"] = job.error or "The training was cancelled."
                state["pending"].clear()
            state["current"] = None
        if not state["pending"]:
            state["done"] = True
            return state
        label, config, ds, factory = state["pending"].pop(0)
        state["label"] = label
        state["current"] = TrainingJob(config, ds, model=factory() if factory else None).start()
    return state


def is_running(key: str) -> bool:
    state = st.session_state.get(key)
    return bool(state) and not state["done"]


def stop(key: str) -> None:
    """Stop the running job after its current batch and drop the runs still waiting."""
    state = st.session_state.get(key)
    if state and state["current"] is not None:
        state["pending"].clear()
        state["current"].stop()


def _fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "…"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def history_from_events(events: list[Progress]) -> tuple[dict[str, list[float]], list[dict[str, float]]]:
    """Epoch history and running batch points from the progress events so far."""
    history: dict[str, list[float]] = {}
    points = []
    for e in events:
        if e.kind == "epoch":
            for k, v in e.logs.items():
                if k != "learning_rate":
                    history.setdefault(k, []).append(v)
        elif e.kind == "batch":
            points.append(e.logs)
    return history, points


@st.fragment(run_every=POLL_S)
def progress_ui(key: str) -> None:
    """Progress bar, status line and the two live charts of the run under ``key``."""
    state = poll(key)
    if not state:
        return
    if state["done"]:
        st.rerun(scope="app")  # show the results with the rest of the page
    job = state["current"]
    job_state, events, place = job.snapshot()
    st.markdown(f"**Training {state['label']}**")
    if job_state == "queued":
        st.progress(0.0, text=f"Waiting for a free training slot: you are number {place} in the queue "
                              f"({job.queue.running} training now on this server).")
        return
    last = next((e for e in reversed(events) if e.kind in ("batch", "epoch")), None)
    if last is None:
        st.progress(0.0, text="Preparing the data and building the model…")
        return
    st.progress(last.fraction, text=f"Epoch {last.epoch}/{last.epochs} · batch {last.batch}/{last.batches} · "
                                    f"{last.images_per_sec:,.0f} images/s · ETA {_fmt_s(last.eta)}")
    st.caption(f"Training on {device_description()} · elapsed {_fmt_s(last.elapsed)}")
    history, points = history_from_events(events)
    st.plotly_chart(charts.history_figure(history, points), key=f"{key}_live_chart")
