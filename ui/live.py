"""Live training view: the script thread polls a background TrainingJob and redraws in place."""
from __future__ import annotations

import time

import streamlit as st

from cnn import charts
from cnn.jobs import TrainingJob
from cnn.training import Progress

POLL_S = 0.4  # redraw at most this often: charts never slow training down


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


def watch_job_ui(job: TrainingJob, device: str) -> None:
    """Progress bar, status line and the two live charts, updated in place until the job ends."""
    status = st.empty()
    bar = st.progress(0.0, text="Waiting to start…")
    chart = st.empty()
    drawn = -1
    while True:
        state, events, place = job.snapshot()
        if state == "queued":
            bar.progress(0.0, text=f"Waiting for a free training slot: you are number {place} in the queue "
                                   f"({job.queue.running} training now).")
        last = next((e for e in reversed(events) if e.kind in ("batch", "epoch")), None)
        if last is not None and len(events) != drawn:
            drawn = len(events)
            bar.progress(last.fraction, text=f"Epoch {last.epoch}/{last.epochs} · batch {last.batch}/{last.batches}"
                                             f" · {last.images_per_sec:,.0f} images/s · ETA {_fmt_s(last.eta)}")
            status.caption(f"Training on {device} · elapsed {_fmt_s(last.elapsed)}")
            history, points = history_from_events(events)
            chart.plotly_chart(charts.history_figure(history, points), key=f"live_chart_{drawn}")
        if job.finished:
            break
        time.sleep(POLL_S)
    bar.empty()
    status.empty()
    chart.empty()
