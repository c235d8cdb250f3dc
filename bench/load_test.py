"""Classroom load: many browser sessions use Home and Draw while one session trains.

    python bench/load_test.py [--sessions 20] [--rounds 2]

Loopback only, bounded (fixed sessions × rounds, hard timeouts) and self-stopping. Prints
the server-side draw latency percentiles (the page reports preprocess + predict time), the
browser round trip from mouse-up to the prediction on screen, and the server's memory.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.helpers import draw_digit  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _idle(pg, timeout=180_000) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def run_load(browser, url: str, server_pid: int, sessions: int = 20, rounds: int = 2) -> dict:
    """Drive ``sessions`` Draw pages (plus one training page) against the server at ``url``."""
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(sessions + 1)]
    pages = [c.new_page() for c in contexts]
    for pg in pages:
        pg.set_default_timeout(180_000)
    rss_start = rss_mb(server_pid)
    trainer, drawers = pages[0], pages[1:]
    trainer.goto(f"{url}/Train?arch=fast&epochs=2&limit=all")
    _idle(trainer)
    trainer.get_by_role("button", name="▶ Train").click()
    trainer.get_by_text(re.compile(r"Epoch 1/2 · batch")).first.wait_for()
    for pg in drawers:  # everyone arrives on Home at once...
        pg.goto(url, wait_until="commit")
    for pg in drawers:
        pg.get_by_role("heading", name="CNN Lab").first.wait_for()
    for pg in drawers:  # ...then opens Draw
        pg.locator("[data-testid=stSidebarNav] a", has_text="Draw").first.click()
    for pg in drawers:
        pg.get_by_text("Draw a digit on the canvas").wait_for()
    server_ms, round_trip_ms, correct, total, errors = [], [], 0, 0, 0
    digits = [1, 7, 0, 4, 2, 3, 8, 6, 9, 5]
    for r in range(rounds):
        started = {}
        for i, pg in enumerate(drawers):  # all draw before anyone's prediction is awaited
            if r:
                pg.get_by_role("button", name="🧹 Clear").click()
                pg.get_by_text("Draw a digit on the canvas").wait_for()
            draw_digit(pg, digits[(i + r) % len(digits)], steps=3)
            started[i] = time.perf_counter()
        for i, pg in enumerate(drawers):
            want = digits[(i + r) % len(digits)]
            head = pg.get_by_text(re.compile(r"^Prediction: ")).first
            head.wait_for()
            round_trip_ms.append((time.perf_counter() - started[i]) * 1000)
            caption = pg.get_by_text(re.compile(r"sure · model .* · \d+ ms")).first.inner_text()
            server_ms.append(float(re.search(r"(\d+) ms", caption).group(1)))
            total += 1
            correct += head.inner_text().strip() == f"Prediction: {want}"
    trainer.get_by_text(re.compile(r"Finished 2 epochs|Stopped|Result:")).first.wait_for(timeout=600_000)
    for pg in pages:
        errors += pg.locator("[data-testid=stException]").count() + ("Traceback" in pg.inner_text("body"))
    rss_end = rss_mb(server_pid)
    for c in contexts:
        c.close()
    return {"sessions": sessions, "predictions": total, "correct": correct, "errors": errors,
            "server_ms": server_ms, "round_trip_ms": round_trip_ms, "rss_start_mb": rss_start,
            "rss_end_mb": rss_end}


def summary(stats: dict) -> str:
    s, rt = np.array(stats["server_ms"]), np.array(stats["round_trip_ms"])
    return (f"{stats['sessions']} sessions drawing while one trains: {stats['predictions']} predictions, "
            f"{stats['correct']} read correctly, {stats['errors']} errors\n"
            f"server-side preprocess + predict: p50 {np.percentile(s, 50):.0f} ms · p90 {np.percentile(s, 90):.0f} ms"
            f" · max {s.max():.0f} ms\n"
            f"browser round trip (mouse-up to prediction on screen, all sessions at once): "
            f"p50 {statistics.median(rt) / 1000:.1f} s · p90 {np.percentile(rt, 90) / 1000:.1f} s\n"
            f"server memory: {stats['rss_start_mb']:.0f} MB before → {stats['rss_end_mb']:.0f} MB after")


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser()
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    with running_app() as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(summary(run_load(browser, app["url"], app["pid"], args.sessions, args.rounds)))
        browser.close()


if __name__ == "__main__":
    main()
