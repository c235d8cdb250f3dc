"""Time the real app in Chromium: server start to an interactive Home page, then each page's
first render when reached from the page menu (as a student clicks through). Prints "  name: value"."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

PAGES = [("Data", "Data"), ("Train", "Train a network"), ("Evaluate", "Evaluate"), ("Inspect", "Inspect a network"),
         ("Draw", "Draw a digit"), ("Lessons", "Lessons")]


def idle(pg) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=180_000)


def main() -> None:
    t0 = time.perf_counter()
    with running_app() as app, sync_playwright() as p:
        t_health = time.perf_counter() - t0
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(app["url"])
        pg.get_by_role("heading", name="CNN Lab").first.wait_for(timeout=180_000)
        idle(pg)
        print(f"  server start → health check: {t_health:.1f} s")
        print(f"  server start → Home interactive in the browser: {time.perf_counter() - t0:.1f} s")
        for path, heading in PAGES:
            t = time.perf_counter()
            pg.locator("[data-testid=stSidebar]").get_by_role("link", name=path, exact=True).first.click()
            pg.get_by_role("heading", name=heading).first.wait_for(timeout=180_000)
            pg.wait_for_timeout(100)
            idle(pg)
            print(f"  {path} page, first render: {time.perf_counter() - t:.2f} s")
        browser.close()


if __name__ == "__main__":
    main()
