"""Screenshots of every page, as a student sees them, in headless Chromium.

    python scripts/screenshots.py [OUT_DIR]     (default: artifacts/screens)

Starts the app on a free loopback port, draws a 7 on the Draw page, trains the fast preset on
the bundled sample (during and after), clicks a confusion-matrix cell, shows a dataset of drawn
shapes on My data, the leaderboard, the teacher's Class page, and Train, Draw, Evaluate and the
leaderboard in presentation mode at a projector's 1280x720; one PNG per view.
``docs/screenshot-draw.png`` (the README's picture) is refreshed too.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from browser.helpers import draw_digit  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402
from drawn_digits import SHAPE_STROKES, shapes_set  # noqa: E402

PASSPHRASE = "screenshots-only"


def shapes_dataset(folder: Path) -> None:
    """A My-data dataset of 12 hand-drawn circles, squares and triangles each, in ``folder``."""
    os.environ["CNN_USER_DATA_DIR"] = str(folder)
    from cnn import userdata

    userdata.create("shapes", list(SHAPE_STROKES), (28, 28, 1))
    images, labels = shapes_set(12, seed=3)
    for k, kind in enumerate(SHAPE_STROKES):
        userdata.add_images("shapes", kind, [userdata.prepare(im, (28, 28, 1))
                                             for im, y in zip(images, labels, strict=True) if y == k])


def idle(pg) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=180_000)
    pg.wait_for_timeout(1200)  # charts and images finish painting


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    user_data = Path(tempfile.mkdtemp(prefix="cnnlab-screens-"))
    shapes_dataset(user_data)
    with running_app(CNN_USER_DATA_DIR=str(user_data), CNN_TEACHER_PASSWORD=PASSPHRASE) as app, \
            sync_playwright() as p:
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
        maps = pg.locator('.inside section[data-layer="conv2"] .stage canvas')  # a value's arithmetic
        maps.scroll_into_view_if_needed()
        box = maps.bounding_box()
        maps.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.2})
        pg.locator(".inside-explain .check").wait_for()
        pg.set_viewport_size({"width": 1400, "height": 1500})
        pg.locator(".inside h2").scroll_into_view_if_needed()
        pg.locator(".inside h2").evaluate("h => h.scrollIntoView()")
        pg.screenshot(path=str(out / "draw-inside.png"))
        pg.set_viewport_size({"width": 1400, "height": 1800})
        pg.goto(f"{url}/Evaluate")
        idle(pg)
        plot = pg.locator(".js-plotly-plot").first
        plot.scroll_into_view_if_needed()
        pg.wait_for_timeout(1000)
        area = plot.locator(".nsewdrag").first.bounding_box()
        pg.mouse.click(area["x"] + 9.5 * area["width"] / 10, area["y"] + 4.5 * area["height"] / 10)
        pg.get_by_text(re.compile("test images of 4 predicted as 9")).first.wait_for()
        idle(pg)
        pg.screenshot(path=str(out / "evaluate.png"))
        pg.goto(f"{url}/Train?arch=fast&epochs=20&limit=all")
        idle(pg)
        pg.get_by_role("button", name="Train", exact=True).click()
        pg.get_by_text(re.compile(r"Epoch \d+/20 · batch")).first.wait_for(timeout=300_000)
        pg.wait_for_timeout(1500)
        pg.screenshot(path=str(out / "train-during.png"))
        pg.get_by_text(re.compile("Finished 20 epochs")).wait_for(timeout=300_000)
        idle(pg)
        pg.screenshot(path=str(out / "train-after.png"))
        pg.goto(f"{url}/My_data")
        idle(pg)
        pg.get_by_role("combobox", name="Dataset").click()
        pg.get_by_role("option", name="My data: shapes").click()
        idle(pg)
        pg.screenshot(path=str(out / "my-data.png"))
        pg.goto(f"{url}/Leaderboard")
        idle(pg)
        pg.screenshot(path=str(out / "leaderboard.png"))
        pg.goto(f"{url}/Class")
        idle(pg)
        pg.get_by_label("Teacher passphrase").fill(PASSPHRASE)
        pg.get_by_role("button", name="Enter teacher mode").click()
        pg.get_by_role("heading", name="Runs").wait_for()
        idle(pg)
        pg.screenshot(path=str(out / "class.png"))
        projector = browser.new_page(viewport={"width": 1280, "height": 720})  # a classroom projector
        for path, name in [("Train", "present-train"), ("Evaluate", "present-evaluate"),
                           ("Leaderboard", "present-leaderboard"), ("Draw", "present-draw")]:
            projector.goto(f"{url}/{path}?present=1")
            idle(projector)
            if path == "Draw":
                draw_digit(projector, 3, size=200, cx=130, cy=170)
                projector.get_by_text("Prediction: 3", exact=True).wait_for()
                idle(projector)
            projector.screenshot(path=str(out / f"{name}.png"))
        browser.close()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main()
