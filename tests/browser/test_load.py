"""A classroom at once: 20 browser sessions use Home and Draw while another session trains.

Bounded and loopback-only (see bench/load_test.py, which also prints the latency percentiles).
"""
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from load_test import run_load, summary  # noqa: E402

pytestmark = pytest.mark.browser


def test_twenty_sessions_draw_while_one_trains(browser, server):
    stats = run_load(browser, server["url"], server["pid"], sessions=20, rounds=1)
    print("\n" + summary(stats))
    assert stats["errors"] == 0
    assert stats["predictions"] == 20 and stats["correct"] >= 19
    assert stats["rss_end_mb"] < 8 * 1024  # bounded: one shared copy of models and data, not one per session
