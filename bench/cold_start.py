"""Cold start, as a teacher's server meets its first student: from ``streamlit run app.py`` to the Train page ready
to press Train in Chromium (the Train button enabled, the page idle). Prints a table.

    python bench/cold_start.py [--repeats 3]

Each repeat starts a new server on a new data folder (nothing cached in the process: the first page run imports
what the page needs): once as a fresh clone on a new machine would (an empty measurement cache, ``CNN_CACHE_DIR``),
once as a restart (this machine's measurements kept). "Start → Train ready" is timed from the server's start;
"the next student" opens the Train page on the same, now warm, server.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def ready(pg, url: str) -> float:
    """Seconds from opening the Train page to its Train button enabled and the page idle."""
    from browser.helpers import wait_idle

    t0 = time.perf_counter()
    pg.goto(f"{url}/Train")
    button = pg.get_by_role("button", name="Train", exact=True)
    button.wait_for(timeout=120_000)
    pg.wait_for_function("b => !b.disabled", arg=button.element_handle(), timeout=120_000)
    wait_idle(pg)
    return time.perf_counter() - t0 - 0.3  # wait_idle's own pause


def main() -> None:
    from playwright.sync_api import sync_playwright

    from cnn.precision import cpu_name

    from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(2 * args.repeats):
            fresh = i % 2 == 0
            env = {"CNN_CACHE_DIR": tempfile.mkdtemp(prefix="cnnlab-cache-")} if fresh else {}
            t0 = time.perf_counter()
            with running_app(**env) as app:
                up = time.perf_counter() - t0
                first = browser.new_page(viewport={"width": 1400, "height": 1000})
                page = ready(first, app["url"])
                total = time.perf_counter() - t0
                second = browser.new_page(viewport={"width": 1400, "height": 1000})
                warm = ready(second, app["url"])
                rows.append(("fresh machine" if fresh else "restart", up, page, total, warm))
                first.close()
                second.close()
        browser.close()
    print(f"CPU: {cpu_name()}")
    print("| start | server up (health) | first Train page | start → Train ready | the next student's Train page |")
    print("|---|---|---|---|---|")
    for kind, up, page, total, warm in rows:
        print(f"| {kind} | {up:.1f} s | {page:.1f} s | **{total:.1f} s** | {warm:.1f} s |")
    for kind in ("fresh machine", "restart"):
        print(f"median start → Train ready, {kind}: {statistics.median(r[3] for r in rows if r[0] == kind):.1f} s")


if __name__ == "__main__":
    main()
