"""Cold start, as a teacher's server meets its first student: from ``streamlit run app.py`` to the Train page ready
to press Train in Chromium (the Train button enabled, the page idle). Prints a table.

    python bench/cold_start.py [--repeats 3]

Each repeat starts a new server on a new data folder (nothing cached in the process: the first page run imports
what the page needs): once as a fresh clone on a new machine would (an empty measurement cache, ``CNN_CACHE_DIR``),
once as a restart (this machine's measurements kept). "Start → Train ready" is timed from the server's start;
"the next student" opens the Train page on the same, now warm, server.

The moment the page is ready is taken inside the page, as the student sees it (an observer on the page: the Train
button there and enabled, the script idle, and so for at least 0.3 s), on the same clock as the server's start
(the page's ``performance.timeOrigin``). Timing it from the test's side added 0.5-0.8 s of Playwright's own polling
and round trips here; those figures are printed too ("seen by the test").
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


# In the page from its first byte: the last moment it became ready (the Train button there and enabled, the script
# not running), in ms since the page's time origin; null while it is not.
READY_WATCH = """
window.cnnReadyAt = null;
const isReady = () => {
  const app = document.querySelector('[data-testid=stApp]');
  const train = [...document.querySelectorAll('button')].find(b => b.innerText.trim().endsWith('Train'));
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning' && !!train && !train.disabled;
};
const check = () => {
  const now = isReady();
  if (now && window.cnnReadyAt === null) window.cnnReadyAt = performance.now();
  if (!now) window.cnnReadyAt = null;
};
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true});
});
"""


def ready(pg, url: str) -> tuple[float, float, float]:
    """Opening the Train page until its Train button is enabled and the page idle: (the moment it became ready, as
    seen in the page, on time.time()'s clock; seconds from opening it, in the page; the same, seen by the test)."""
    from browser.helpers import wait_idle

    t0 = time.perf_counter()
    pg.goto(f"{url}/Train")
    button = pg.get_by_role("button", name="Train", exact=True)
    button.wait_for(timeout=120_000)
    pg.wait_for_function("b => !b.disabled", arg=button.element_handle(), timeout=120_000)
    wait_idle(pg)
    seen = time.perf_counter() - t0 - 0.3  # wait_idle's own pause
    origin, at = pg.evaluate("[performance.timeOrigin, window.cnnReadyAt]")
    return (origin + at) / 1000, at / 1000, seen


def new_page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(READY_WATCH)
    return ctx.new_page()


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
            t0 = time.time()
            with running_app(**env) as app:
                up = time.time() - t0
                first = new_page(browser)
                at, page, seen = ready(first, app["url"])
                total, total_seen = at - t0, time.time() - t0
                second = new_page(browser)
                warm = ready(second, app["url"])[1]
                rows.append(("fresh machine" if fresh else "restart", up, page, total, warm, total_seen))
                first.context.close()
                second.context.close()
        browser.close()
    print(f"CPU: {cpu_name()}")
    print("| start | server up (health) | first Train page | start → Train ready | the next student's Train page | "
          "start → Train ready, seen by the test |")
    print("|---|---|---|---|---|---|")
    for kind, up, page, total, warm, seen in rows:
        print(f"| {kind} | {up:.1f} s | {page:.2f} s | **{total:.2f} s** | {warm:.2f} s | {seen:.2f} s |")
    for kind in ("fresh machine", "restart"):
        mine = [r for r in rows if r[0] == kind]
        print(f"median start → Train ready, {kind}: {statistics.median(r[3] for r in mine):.2f} s "
              f"(max {max(r[3] for r in mine):.2f} s; seen by the test {statistics.median(r[5] for r in mine):.2f} s)")


if __name__ == "__main__":
    main()
