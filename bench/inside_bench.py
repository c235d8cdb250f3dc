"""The Draw page's "Inside the network" view, timed in Chromium against the real app: from a pen movement to every
layer painted, while drawing, for the tutorial and fast presets' networks (and the shipped digit model), and the
messages the page sends the server while a pen is down. Prints a table.

    python bench/inside_bench.py [--strokes 12]

Each update is timed on the page's own clock: from the pointer move that starts a reading (the pad reads at most
every 50 ms while the pen moves) through ONNX Runtime Web's one call for every layer, to the animation frame that
paints the view. The networks' weights do not change the work, so the presets are built, not trained.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _save_presets(home: Path) -> None:
    """Save the tutorial and fast networks where the server started on ``home`` will list them."""
    os.environ.update(CNN_MODELS_DIR=str(home / "models"), CNN_DATABASE_URL=f"sqlite:///{home / 'cnnlab.db'}",
                      CNN_USER_DATA_DIR=str(home / "user-data"))
    import keras

    from cnn import architectures, store

    for preset in ("tutorial", "fast"):
        keras.utils.set_random_seed(0)
        model = architectures.build_model(architectures.preset(preset), (28, 28, 1), 10)
        store.save_model(model, f"bench-{preset}", {"dataset": "mnist", "input_shape": [28, 28, 1],
                                                     "class_names": [str(i) for i in range(10)], "preset": preset},
                         overwrite=True)


def measure(pg, strokes: int) -> tuple[list[float], int]:
    """Draw ``strokes`` strokes; the page's times of every view update while a pen was down, and the messages sent."""
    from browser.helpers import DRAW_PAD, wait_idle
    from drawn_digits import STROKES, transform

    times: list[float] = []
    sent = 0
    for i in range(strokes):
        if i and i % 4 == 0:
            pg.locator(".draw-pad").get_by_role("button", name="Clear the drawing").click()
            wait_idle(pg)
        box = pg.locator(DRAW_PAD).first.bounding_box()
        digit = [3, 8, 5, 2][(i // 4) % 4]
        stroke = transform(STROKES[digit], size=210 - 15 * (i % 4), cx=140, cy=140)[0]
        pts = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        pg.mouse.move(*pts[0])
        before = pg.evaluate("(window.__cnnlabInsidePaints || []).length")
        pg.evaluate("window.__cnnlabSends.all = 0")
        pg.mouse.down()
        for x, y in pts[1:]:
            pg.mouse.move(x, y, steps=8)
            pg.wait_for_timeout(16)
        during = pg.evaluate(f"window.__cnnlabInsidePaints.slice({before})")
        sent += pg.evaluate("window.__cnnlabSends.all")
        pg.mouse.up()
        times += during
        wait_idle(pg)
    return times, sent


def main() -> None:
    from playwright.sync_api import sync_playwright

    from cnn.precision import cpu_name

    from browser.helpers import COUNT_SENDS_WHILE_DRAWING, DRAW_PAD, wait_idle
    from browser.server import CHROMIUM, CHROMIUM_ARGS, copy_models, running_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strokes", type=int, default=12)
    args = p.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cnnlab-inside-"))
    copy_models(home / "models")
    _save_presets(home)
    rows = []
    with running_app(home=home) as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.add_init_script(COUNT_SENDS_WHILE_DRAWING)
        for title, option in (("tutorial preset", "bench-tutorial"), ("fast preset", "bench-fast"),
                              ("shipped mnist", "mnist — mnist")):
            pg.goto(f"{app['url']}/Draw")
            wait_idle(pg)
            pg.get_by_label("Model").first.click()
            pg.get_by_role("option", name=option).first.click()
            wait_idle(pg)
            pg.locator(DRAW_PAD).first.wait_for()
            pg.locator(".inside section.layer").first.wait_for()
            pg.wait_for_timeout(1500)
            measure(pg, 2)  # warm-up: the model's session and the view's first paints
            times, sent = measure(pg, args.strokes)
            layers = pg.locator(".inside section.layer").count()
            rows.append((title, layers, times, sent))
        browser.close()
    print(f"CPU: {cpu_name()}")
    print("| network | layers shown | updates while drawing | median | p90 | max | messages to the server while "
          "a pen was down |")
    print("|---|---|---|---|---|---|---|")
    for title, layers, times, sent in rows:
        ordered = sorted(times)
        print(f"| {title} | {layers} | {len(times)} | {statistics.median(times):.1f} ms | "
              f"{ordered[int(0.9 * len(ordered)) - 1]:.1f} ms | {max(times):.1f} ms | {sent} |")


if __name__ == "__main__":
    main()
