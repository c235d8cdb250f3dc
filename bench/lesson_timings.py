"""Time each lesson in Chromium as a student runs it: open the lesson, press its button if it has
one, wait for the result. Prints "  lesson: seconds" and saves a screenshot of each."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

LESSONS = ["Convolution", "Pooling", "Activation functions", "Fully connected layers", "Dropout",
           "Batch normalisation", "Data augmentation", "Transfer learning"]
COMPARISONS = {"Dropout", "Batch normalisation", "Data augmentation", "Transfer learning"}


def idle(pg) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=300_000)


def main() -> None:
    out = ROOT / "artifacts" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    # as a class server runs: a training slot per core (the test helper's default is one)
    with running_app(CNN_MAX_JOBS=str(os.cpu_count() or 1)) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1600})
        pg.set_default_timeout(300_000)
        only = set(sys.argv[1:])
        for lesson in LESSONS:
            if only and lesson.split()[0] not in only:
                continue
            pg.goto(f"{app['url']}/Lessons?lesson={lesson.split()[0]}")
            pg.get_by_role("heading", name=lesson).first.wait_for()
            idle(pg)
            t0 = time.perf_counter()
            if lesson in COMPARISONS:
                pg.get_by_role("button", name="Run the comparison").click()
                runs = 3 if lesson == "Transfer learning" else 2  # every run's test accuracy, then the verdict
                pg.locator("[data-testid=stMetricLabel]", has_text="test accuracy").nth(runs - 1).wait_for(
                    timeout=600_000)
            idle(pg)
            pg.wait_for_timeout(1000)
            print(f"  {lesson}: {time.perf_counter() - t0:.1f} s", flush=True)
            pg.screenshot(path=str(out / f"lesson-{lesson.split()[0].lower()}.png"))
        browser.close()


if __name__ == "__main__":
    main()
