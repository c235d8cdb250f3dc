"""Drawing latency as a person feels it: from releasing the mouse after a stroke to the new prediction on the
page, in Chromium against the real app. Prints "  name: value" lines.

    python bench/draw_latency.py [--strokes 16]

Each stroke adds to the drawing; after mouse-up the page text is polled every 20 ms until the prediction
line and its caption ("…% sure · model … · N ms") change.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser.helpers import wait_idle  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402
from drawn_digits import STROKES, transform  # noqa: E402


def prediction_text(pg) -> str:
    return pg.evaluate("""() => {
        const h = [...document.querySelectorAll('h2')].find(e => e.textContent.startsWith('Prediction: '));
        const c = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
            .find(e => e.textContent.includes('sure ·'));
        return (h ? h.textContent : '') + '|' + (c ? c.textContent : '');
    }""")


def measure(pg, strokes: int) -> list[float]:
    box = pg.locator("canvas.upper-canvas").first.bounding_box()
    times = []
    digits = [7, 1, 4, 0, 3, 8]
    for i in range(strokes):
        if i and i % 6 == 0:  # a fresh canvas now and then, as a student clears it
            pg.get_by_role("button", name="Clear").click()
            wait_idle(pg)
            pg.locator("canvas.upper-canvas").first.wait_for()
            pg.wait_for_timeout(300)
            box = pg.locator("canvas.upper-canvas").first.bounding_box()
        stroke = transform(STROKES[digits[(i // 6) % len(digits)]], size=200 - 10 * (i % 6), cx=140, cy=180)[0]
        before = prediction_text(pg)
        pts = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        pg.mouse.move(*pts[0])
        pg.mouse.down()
        for x, y in pts[1:]:
            pg.mouse.move(x, y, steps=2)
        pg.mouse.up()
        t0 = time.perf_counter()
        while prediction_text(pg) == before:
            pg.wait_for_timeout(20)
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("no new prediction within 30 s")
        times.append((time.perf_counter() - t0) * 1000)
        wait_idle(pg)
        pg.wait_for_timeout(200)
    return times


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strokes", type=int, default=16)
    args = p.parse_args()
    with running_app() as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(f"{app['url']}/Draw")
        wait_idle(pg)
        pg.locator("canvas.upper-canvas").first.wait_for()
        pg.wait_for_timeout(1000)
        measure(pg, 2)  # warm-up: the first predictions trace the model
        times = measure(pg, args.strokes)
        browser.close()
    print(f"  stroke → prediction on the page (median of {len(times)}): {statistics.median(times):.0f} ms "
          f"(p90 {sorted(times)[int(0.9 * len(times)) - 1]:.0f}, max {max(times):.0f})")


if __name__ == "__main__":
    main()
