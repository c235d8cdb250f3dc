"""Helpers for driving the app in Chromium: waiting for the script, drawing with the mouse."""
from __future__ import annotations

import itertools

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from drawn_digits import STROKES, transform

DRAW_PAD = ".draw-pad canvas"  # the Draw page's own pad (inside its component's shadow root)
EXAMPLES_CANVAS = "canvas.upper-canvas"  # My data's streamlit-drawable-canvas (fabric's event layer)

# An init script: counts the messages the page sends the server while a pointer is down (all of them, and those
# that carry the Draw pad's state). The pad reads in the browser while the pen moves and sends only on lifting it.
COUNT_SENDS_WHILE_DRAWING = """(() => {
  let down = 0;
  window.__cnnlabSends = { all: 0, pad: 0 };
  addEventListener("pointerdown", () => { down += 1; }, true);
  const up = () => { down = Math.max(0, down - 1); };
  for (const end of ["pointerup", "pointercancel"]) addEventListener(end, up, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (message) {
    if (down) {
      window.__cnnlabSends.all += 1;
      const bytes = message instanceof ArrayBuffer ? new Uint8Array(message) : ArrayBuffer.isView(message)
        ? new Uint8Array(message.buffer, message.byteOffset, message.byteLength) : null;
      const text = bytes ? String.fromCharCode(...bytes.subarray(0, 4096)) : String(message);
      if (text.includes("dr_pad")) window.__cnnlabSends.pad += 1;
    }
    return send.call(this, message);
  };
})()"""


def in_page_reading(each: str) -> str:
    """A page function ``([drawings, modelUrl]) => results``: it draws each drawing (strokes, brush) on a 280 px canvas
    exactly as the Draw pad does, preprocesses it with static/cnnlab/preprocess.mjs and gives ``x`` (its model
    input), ``session``, ``ort`` and ``b64`` (float32 to base64) to ``each``, JavaScript that pushes onto ``out``."""
    return """async ([drawings, modelUrl]) => {
  const pre = await import(new URL("/app/static/cnnlab/preprocess.mjs", location.origin).href);
  const ort = await import(new URL("/app/static/ort/ort.wasm.min.mjs", location.origin).href);
  ort.env.wasm.wasmPaths = new URL("/app/static/ort/", location.origin).href;
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new URL(modelUrl, location.origin).href);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 280;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const b64 = (floats) => {
    const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
    let s = "";
    for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768));
    return btoa(s);
  };
  const out = [];
  for (const [strokes, width] of drawings) {
    ctx.clearRect(0, 0, 280, 280);
    ctx.strokeStyle = ctx.fillStyle = "#ffffff";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = width;
    for (const s of strokes) {
      ctx.beginPath();
      ctx.arc(s[0][0], s[0][1], width / 2, 0, 2 * Math.PI);
      ctx.fill();
      for (let i = 1; i < s.length; i++) {
        ctx.beginPath();
        ctx.moveTo(s[i - 1][0], s[i - 1][1]);
        ctx.lineTo(s[i][0], s[i][1]);
        ctx.stroke();
      }
    }
    const x = pre.preprocessDrawing(ctx.getImageData(0, 0, 280, 280).data, 280, 280);
""" + each + """
  }
  return out;
}"""


def wait_idle(pg, timeout: float = 120_000) -> None:
    """Wait until the script has finished running (and a moment for the page to paint)."""
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    pg.wait_for_timeout(300)
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def settled_box(pg, locator, timeout_ms: int = 10_000) -> dict:
    """The element's bounding box once it has stopped moving (two readings 250 ms apart agree)."""
    box = locator.bounding_box()
    for _ in range(timeout_ms // 250):
        pg.wait_for_timeout(250)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    return box


def act_until_shown(act, shown, what: str, tries: int = 3, timeout_ms: int = 20_000) -> None:
    """Do ``act`` (a click or a tap on a table cell) until ``shown`` is visible: a click while a busy server redraws
    the element lands on the old one and is lost, as a person would click again."""
    for attempt in range(tries):
        act()
        try:
            shown.wait_for(timeout=timeout_ms)
            return
        except PlaywrightTimeout:
            assert attempt < tries - 1, f"{what} never showed what it should"


def open_sidebar(pg) -> None:
    """Unfold the sidebar if it is folded (presentation mode folds it), as a person clicks » at the top left."""
    expand = pg.locator("[data-testid=stExpandSidebarButton], [data-testid=stSidebarCollapsedControl] button")
    if expand.count() and expand.first.is_visible():
        expand.first.click()
        pg.wait_for_timeout(500)


def menu(pg, name: str) -> None:
    """Open a page from the sidebar menu, as a student does (same browser session, no reload)."""
    open_sidebar(pg)
    pg.locator("[data-testid=stSidebar]").get_by_role("link", name=name, exact=True).first.click()
    wait_idle(pg)


def assert_no_error(pg) -> None:
    errors = pg.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()
    assert "Traceback" not in pg.inner_text("body")


def draw_digit(pg, digit: int, *, steps: int = 6, **placement) -> None:
    """Draw a digit's strokes with the mouse on the Draw page's pad.

    ``placement``: size, cx, cy, slant, angle_deg in canvas pixels (see drawn_digits.transform).
    """
    placement = {"size": 220, "cx": 140, "cy": 140, **placement}
    draw_strokes(pg, transform(STROKES[digit], **placement), steps=steps)


def draw_and_read(pg, url: str, digit: int) -> None:
    """Open the Draw page, draw ``digit`` with the mouse and wait until it is read and the page is idle."""
    pg.goto(f"{url}/Draw")
    wait_idle(pg)
    pg.locator(DRAW_PAD).first.wait_for()
    pg.wait_for_timeout(300)
    draw_digit(pg, digit)
    pg.get_by_text(f"Prediction: {digit}", exact=True).wait_for()
    wait_idle(pg)


def draw_strokes(pg, strokes_px, *, steps: int = 6, target: str = DRAW_PAD) -> None:
    """Draw strokes (canvas pixels from its top left corner) with the mouse on ``target``."""
    box = pg.locator(target).first.bounding_box()
    for stroke in strokes_px:
        pts = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        pg.mouse.move(*pts[0])
        pg.mouse.down()
        for x, y in pts[1:]:
            pg.mouse.move(x, y, steps=steps)
        pg.mouse.up()
        pg.wait_for_timeout(100)


def touch_strokes(pg, strokes_px, *, target: str = DRAW_PAD) -> None:
    """Draw strokes (canvas pixels, scaled to the canvas's size on screen) with a finger: touch events, as a phone
    sends them (the page's context needs ``has_touch=True``)."""
    box = pg.locator(target).first.bounding_box()
    scale = box["width"] / 280
    cdp = pg.context.new_cdp_session(pg)
    for stroke in strokes_px:
        pts = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": pts[0][0], "y": pts[0][1]}]})
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            for t in (0.25, 0.5, 0.75, 1.0):
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                    {"x": x0 + (x1 - x0) * t, "y": y0 + (y1 - y0) * t}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        pg.wait_for_timeout(50)


def enter_teacher_mode(pg, url: str, passphrase: str, say=lambda text: text) -> None:
    """Open the Class page at ``url`` and enter teacher mode with the passphrase, as a teacher does; ``say``: the
    page's words for an English text (a page in another language)."""
    pg.goto(f"{url}/Class")
    wait_idle(pg)
    pg.get_by_label(say("Teacher passphrase")).fill(passphrase)
    pg.get_by_role("button", name=say("Enter teacher mode")).click()
    pg.get_by_role("heading", name=say("Runs")).wait_for()


def new_student(browser, url: str, name: str):
    """A new browser (its own identity) on ``url``, its name typed in the sidebar: (context, page)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    pg.goto(url)
    wait_idle(pg)
    box = pg.locator("[data-testid=stSidebar]").get_by_role("textbox", name="Your name")
    box.fill(name)
    box.press("Enter")
    wait_idle(pg)
    return ctx, pg


def save_model_as(pg, name: str, replace: bool = False) -> None:
    """Save the run's model from the Train page's form, as a student does."""
    form = pg.locator("[data-testid=stForm]", has_text="Save as")
    form.get_by_role("textbox", name="Save as").fill(name)
    if replace:
        form.get_by_text("Replace my own model of that name").click()
    form.get_by_role("button", name="Save model").click()
    wait_idle(pg)
