"""Screenshots of every page, as a student sees them, in headless Chromium.

    python scripts/screenshots.py [OUT_DIR]     (default: artifacts/screens)

Starts the app on a free loopback port, draws a 7 on the Draw page, trains the fast preset on
the bundled sample (during and after), clicks a confusion-matrix cell, and saves one PNG per view.
``docs/screenshot-draw.png`` (the README's picture) is refreshed too.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.helpers import draw_digit  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402


def idle(pg) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=180_000)
    pg.wait_for_timeout(1200)  # charts and images finish painting


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    with running_app() as app, sync_playwright() as p:
        url = app["url"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1800})
        for path, name in [("", "home"), ("Data", "data"), ("Inspect", "inspect"), ("Lessons", "lessons")]:
            pg.goto(f"{url}/{path}")
            idle(pg)
            pg.screenshot(path=str(out / f"{name}.png"))
        pg.goto(f"{url}/Inspect")
        idle(pg)
        pg.get_by_role("tab", name="Grad-CAM and saliency").click()
        pg.wait_for_timeout(1500)
        pg.screenshot(path=str(out / "inspect-gradcam.png"))
        pg.goto(f"{url}/Draw")
        idle(pg)
        draw_digit(pg, 7, size=230, cx=140, cy=185, slant=0.1)
        pg.get_by_text("Prediction: 7", exact=True).wait_for()
        idle(pg)
        pg.screenshot(path=str(out / "draw.png"))
        (ROOT / "docs").mkdir(exist_ok=True)
        pg.set_viewport_size({"width": 1400, "height": 1000})
        pg.screenshot(path=str(ROOT / "docs" / "screenshot-draw.png"))
        pg.set_viewport_size({"width": 1400, "height": 1800})
        pg.goto(f"{url}/Evaluate")
        idle(pg)
        area = pg.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
        pg.mouse.click(area["x"] + 9.5 * area["width"] / 10, area["y"] + 4.5 * area["height"] / 10)
        pg.get_by_text(re.compile("test images of 4 predicted as 9")).first.wait_for()
        idle(pg)
        pg.screenshot(path=str(out / "evaluate.png"))
        pg.goto(f"{url}/Train?arch=fast&epochs=3&limit=all")
        idle(pg)
        pg.get_by_role("button", name="▶ Train").click()
        pg.get_by_text(re.compile(r"Epoch 2/3 · batch")).first.wait_for(timeout=300_000)
        pg.wait_for_timeout(1500)
        pg.screenshot(path=str(out / "train-during.png"))
        pg.get_by_text(re.compile("Finished 3 epochs")).wait_for(timeout=300_000)
        idle(pg)
        pg.screenshot(path=str(out / "train-after.png"))
        browser.close()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main()
