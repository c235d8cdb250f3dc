"""Drawing latency as a person feels it, in Chromium against the real app: the Draw page reads the drawing in the
browser (ONNX Runtime Web), while the pen moves and when it lifts. Prints "  name: value" lines.

    python bench/draw_latency.py [--strokes 16]

Each stroke adds to the drawing. The page watches the pad's answer (a MutationObserver on its ``data-reads``
counter, set when a reading is shown) and takes the time of the next animation frame, the one that paints it, all
on the page's clock: from mouse-up to the final reading painted, and from mouse-down to the first reading painted
while the pen is still down. The same strokes are also timed from Python polling every 20 ms over Playwright: each
poll is a round trip through the driver, which adds its own delay on a 2-core machine. The WebSocket messages the
page sends to the server while the pen is down are counted (the server's predict path runs only after a stroke).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from cnn.precision import cpu_name  # noqa: E402

from browser.helpers import DRAW_PAD, wait_idle  # noqa: E402
from browser.server import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402
from drawn_digits import STROKES, transform  # noqa: E402

ARM = """() => {
  const host = [...document.querySelectorAll("*")].find((e) => e.shadowRoot?.querySelector(".draw-pad-answer"));
  const answer = host.shadowRoot.querySelector(".draw-pad-answer");
  const t = window.__stroke = {down: null, up: null, during: null, seen: null, sent: 0};
  const painted = (key) => requestAnimationFrame(() => { t[key] = performance.now(); });
  const watch = new MutationObserver(() => {
    if (t.up === null) {
      if (t.down !== null && t.during === null) { t.during = -1; painted("during"); }
    } else if (answer.dataset.final === "1" && t.seen === null) {
      t.seen = -1;
      painted("seen");
      watch.disconnect();
    }
  });
  watch.observe(answer, {attributes: true, attributeFilter: ["data-reads"]});
  window.addEventListener("pointerdown", () => { t.down = performance.now(); }, {capture: true, once: true});
  window.addEventListener("pointerup", () => { t.up = performance.now(); }, {capture: true, once: true});
}"""

@dataclass
class Latency:
    """Milliseconds from mouse-up to the new prediction, per stroke, taken on the page and from Python."""

    on_page: list[float] = field(default_factory=list)
    from_python: list[float] = field(default_factory=list)
    while_drawing: list[float] = field(default_factory=list)  # mouse-down -> first reading painted, pen still down
    sent_while_drawing: int = 0  # WebSocket messages from the page to the server while the pen was down


def measure(pg, strokes: int) -> Latency:
    """Draw ``strokes`` strokes and time each one."""
    box = pg.locator(DRAW_PAD).first.bounding_box()
    result = Latency()
    sent = pg.__cnnlab_sent
    digits = [7, 1, 4, 0, 3, 8]
    for i in range(strokes):
        if i and i % 6 == 0:  # a fresh canvas now and then, as a student clears it
            pg.get_by_role("button", name="Clear the drawing").click()
            wait_idle(pg)
            pg.locator(DRAW_PAD).first.wait_for()
            pg.wait_for_timeout(300)
            box = pg.locator(DRAW_PAD).first.bounding_box()
        stroke = transform(STROKES[digits[(i // 6) % len(digits)]], size=200 - 10 * (i % 6), cx=140, cy=140)[0]
        pts = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        pg.evaluate(ARM)
        pg.mouse.move(*pts[0])
        sent[0] = 0
        pg.mouse.down()
        for x, y in pts[1:]:
            pg.mouse.move(x, y, steps=2)
        result.sent_while_drawing += sent[0]
        pg.mouse.up()
        t0 = time.perf_counter()
        while not pg.evaluate("() => window.__stroke.seen > 0"):
            pg.wait_for_timeout(20)
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("no new prediction within 30 s")
        result.from_python.append((time.perf_counter() - t0) * 1000)
        up, during = pg.evaluate("() => [window.__stroke.seen - window.__stroke.up, "
                                 "window.__stroke.during > 0 ? window.__stroke.during - window.__stroke.down : null]")
        result.on_page.append(up)
        if during is not None:
            result.while_drawing.append(during)
        wait_idle(pg)
        pg.wait_for_timeout(200)
    return result


def run(strokes: int) -> Latency:
    """Start the app and Chromium, then time ``strokes`` strokes after two warm-up ones."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise OSError(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with running_app() as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.__cnnlab_sent = sent = [0]  # messages the page sends the server (counted while the pen is down)
            pg.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
            pg.goto(f"{app['url']}/Draw")
            wait_idle(pg)
            pg.locator(DRAW_PAD).first.wait_for()
            pg.wait_for_timeout(1000)
            measure(pg, 2)  # warm-up: the first predictions trace the model
            return measure(pg, strokes)
        finally:
            browser.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strokes", type=int, default=16)
    args = p.parse_args()
    result = run(args.strokes)
    print(f"  CPU: {cpu_name()}")
    print(f"  pen up → final prediction painted, page clock: {summary(result.on_page)}")
    print(f"  pen down → first prediction painted while drawing: {summary(result.while_drawing)}")
    print(f"  the same strokes polled from Python over Playwright: {summary(result.from_python)}")
    print(f"  messages sent to the server while the pen was down: {result.sent_while_drawing}")


def summary(times: list[float]) -> str:
    """"median 101 ms · p90 130 · max 160 (16 strokes)"."""
    return (f"median {statistics.median(times):.0f} ms · p90 {sorted(times)[int(0.9 * len(times)) - 1]:.0f} · "
            f"max {max(times):.0f} ({len(times)} strokes)")


if __name__ == "__main__":
    main()
