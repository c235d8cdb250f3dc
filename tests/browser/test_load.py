"""A classroom at once: 9 browser sessions, 3 training while 6 draw, on one server (2 training slots).

Bounded and loopback-only. bench/load_test.py runs the same load at a whole class's size (30 sessions, 10 training)
and prints the figures; here a smaller class keeps the test suite's time in bounds with the same checks.
"""
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from browser.server import copy_models, running_app
from load_test import run_load, summary

pytestmark = pytest.mark.browser


def test_nine_sessions_three_train_while_six_draw(browser, tmp_path):
    log = tmp_path / "jobs.jsonl"
    with running_app(copy_models(tmp_path / "models"), tmp_path / "streamlit.log", CNN_MAX_JOBS="2",
                     CNN_DATA_DIR=str(tmp_path / "no-data"), CNN_JOBS_LOG=str(log)) as app:
        stats = run_load(browser, app["url"], app["pid"], trainers=3, drawers=6, rounds=1, jobs_log=log)
    print("\n" + summary(stats))
    assert stats["errors"] == 0
    assert stats["runs_finished"] == 3, "every run ends: done, or queued then done"
    assert len(stats["queue_wait_s"]) == 3 and max(stats["queue_wait_s"]) > 0, "a queue formed and drained"
    assert stats["predictions"] == 6 and stats["correct"] >= 5
    assert len(stats["browser_ms"]) == 6, "every drawing was read in its browser"
    assert stats["pad_sent_while_drawing"] == 0, "nothing reaches the server's predict path while a pen is down"
    assert stats["rss_end_mb"] < 8 * 1024  # bounded: one shared copy of models and data, not one per session
