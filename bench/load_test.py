"""Classroom load: 30 browser sessions at once, 10 of them training while 20 draw.

    python bench/load_test.py [--trainers 10] [--drawers 20] [--rounds 1]

Loopback only, bounded (fixed sessions × rounds, hard timeouts) and self-stopping. Prints
how many runs finished and how long each student waited, the queue waits, where drawings were read
(in the browser, as the Draw page does where it can, or on the server) and how long that took, the
messages pages sent the server while a pen was down (the pad sends only when it lifts), the round trip
from mouse-up to the prediction on screen, and the server's memory.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.helpers import COUNT_SENDS_WHILE_DRAWING, draw_digit  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _idle(pg, timeout=180_000) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def run_load(browser, url: str, server_pid: int, trainers: int = 10, drawers: int = 20, rounds: int = 1,
             jobs_log: Path | None = None, finish_timeout_s: float = 600) -> dict:
    """``trainers`` sessions each train the fast preset (1 epoch, bundled sample) while ``drawers`` draw."""
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(trainers + drawers)]
    for c in contexts:
        c.add_init_script(COUNT_SENDS_WHILE_DRAWING)
    pages = [c.new_page() for c in contexts]
    for pg in pages:
        pg.set_default_timeout(300_000)
    rss_start = rss_mb(server_pid)
    trainer_pages, drawer_pages = pages[:trainers], pages[trainers:]
    for pg in pages:  # everyone arrives at once
        pg.goto(f"{url}/Train?arch=fast&epochs=1&limit=all" if pg in trainer_pages else url, wait_until="commit")
    for pg in trainer_pages:
        _idle(pg)
    pressed = {}
    for i, pg in enumerate(trainer_pages):  # ten students press Train within a second or two
        pg.get_by_role("button", name="Train", exact=True).click()
        pressed[i] = time.perf_counter()
    for pg in drawer_pages:
        pg.get_by_role("heading", name="CNN Lab").first.wait_for()
    for pg in drawer_pages:  # ...and twenty open Draw from the menu
        pg.locator("[data-testid=stSidebar]").get_by_role("link", name="Draw", exact=True).first.click()
    for pg in drawer_pages:
        pg.get_by_text("Draw one digit in the black square").wait_for()
    server_ms, browser_ms, round_trip_ms, correct, total, errors = [], [], [], 0, 0, 0
    digits = [1, 7, 0, 4, 2, 3, 8, 6, 9, 5]
    for r in range(rounds):
        started = {}
        for i, pg in enumerate(drawer_pages):  # all draw before anyone's prediction is awaited
            if r:
                pg.get_by_role("button", name="Clear the drawing").click()
                pg.get_by_text("Draw one digit in the black square").wait_for()
            draw_digit(pg, digits[(i + r) % len(digits)], steps=3)
            started[i] = time.perf_counter()
        for i, pg in enumerate(drawer_pages):
            want = digits[(i + r) % len(digits)]
            head = pg.get_by_text(re.compile(r"^Prediction: ")).first
            head.wait_for()
            round_trip_ms.append((time.perf_counter() - started[i]) * 1000)
            said = pg.get_by_text(re.compile(r"sure · model .* · read (in your browser|on the server) in \d+ ms"))
            said = said.first.inner_text()
            ms = float(re.search(r"(\d+) ms", said).group(1))
            (browser_ms if "in your browser" in said else server_ms).append(ms)
            total += 1
            correct += head.inner_text().strip() == f"Prediction: {want}"
    queue_wait_s, run_s, finished = [], [], 0
    for i, pg in enumerate(trainer_pages):  # every run ends: done, or queued then done
        pg.get_by_text(re.compile(r"Finished 1 epoch|Stopped|failed|ended unexpectedly")).first.wait_for(
            timeout=finish_timeout_s * 1000)
        body = pg.inner_text("body")
        finished += "Finished 1 epoch" in body
        run_s.append(time.perf_counter() - pressed[i])
    rss_end = rss_mb(server_pid)
    sends = [pg.evaluate("() => window.__cnnlabSends") for pg in drawer_pages]
    waits = _queue_waits(jobs_log)
    for pg in pages:
        errors += pg.locator("[data-testid=stException]").count() + ("Traceback" in pg.inner_text("body"))
    for c in contexts:
        c.close()
    return {"trainers": trainers, "drawers": drawers, "runs_finished": finished, "predictions": total,
            "correct": correct, "errors": errors, "server_ms": server_ms, "browser_ms": browser_ms,
            "round_trip_ms": round_trip_ms, "sent_while_drawing": sum(x["all"] for x in sends),
            "pad_sent_while_drawing": sum(x["pad"] for x in sends),
            "press_to_done_s": run_s, "queue_wait_s": waits or queue_wait_s, "rss_start_mb": rss_start,
            "rss_end_mb": rss_end}


def _queue_waits(jobs_log: Path | None) -> list[float]:
    """Each run's wait for a free slot, as the server measured it (its CNN_JOBS_LOG, a JSON line per job)."""
    if jobs_log is None or not jobs_log.exists():
        return []
    return [json.loads(line)["wait_s"] for line in jobs_log.read_text().splitlines() if line.strip()]


def summary(stats: dict) -> str:
    rt, done = np.array(stats["round_trip_ms"]), np.array(stats["press_to_done_s"])
    lines = [f"{stats['trainers']} sessions training (fast preset, 1 epoch, bundled sample) while "
             f"{stats['drawers']} draw: {stats['runs_finished']}/{stats['trainers']} runs finished, "
             f"{stats['predictions']} predictions ({stats['correct']} read correctly), {stats['errors']} errors"]
    if len(done):  # --trainers 0: drawers only
        lines.append(f"Train pressed -> run finished, per student: p50 {np.percentile(done, 50):.0f} s · "
                     f"p90 {np.percentile(done, 90):.0f} s · max {done.max():.0f} s (the queue runs CNN_MAX_JOBS at "
                     "once)")
    for where, key in (("in the browser", "browser_ms"), ("on the server", "server_ms")):
        if stats[key]:
            s = np.array(stats[key])
            lines.append(f"drawings read {where}: {len(s)}, preprocess + predict p50 {np.percentile(s, 50):.0f} ms · "
                         f"p90 {np.percentile(s, 90):.0f} ms · max {s.max():.0f} ms")
    lines += [f"messages to the server while a pen was down: {stats['sent_while_drawing']} "
              f"({stats['pad_sent_while_drawing']} carrying the drawing)",
              f"mouse-up to prediction on screen (timed from Python, all sessions at once): "
              f"p50 {statistics.median(rt) / 1000:.2f} s · p90 {np.percentile(rt, 90) / 1000:.2f} s",
              f"server memory: {stats['rss_start_mb']:.0f} MB before → {stats['rss_end_mb']:.0f} MB after"]
    if stats["queue_wait_s"]:
        w = np.array(stats["queue_wait_s"])
        lines.insert(2, f"queue wait: p50 {np.percentile(w, 50):.0f} s · p90 {np.percentile(w, 90):.0f} s · "
                        f"max {w.max():.0f} s")
    return "\n".join(lines)


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser()
    p.add_argument("--trainers", type=int, default=10)
    p.add_argument("--drawers", type=int, default=20)
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    log = Path(tempfile.mkdtemp(prefix="cnnlab-load-")) / "jobs.jsonl"
    with running_app(CNN_JOBS_LOG=str(log)) as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(summary(run_load(browser, app["url"], app["pid"], args.trainers, args.drawers, args.rounds, log)))
        browser.close()


if __name__ == "__main__":
    main()
