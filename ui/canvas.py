"""The drawing canvas (Draw, My data): streamlit-drawable-canvas, answering as soon as a stroke ends.

The component waits 200 ms after each stroke before it sends the drawing to the server (a debounce for
apps that redraw on every change). A student waits for the prediction through all of it, so CNN Lab
loads the very same component code (the pinned version's own file, served by Streamlit) with that wait
set to 0; if the file ever changes so that the wait cannot be found, it loads the code unchanged.
The drawing square sits under a band where the component's toolbar floats (it swallows strokes).
"""
from __future__ import annotations

import base64
import functools
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import streamlit as st

CANVAS, BAND = 280, 40
PACKAGE = Path(importlib.util.find_spec("streamlit_drawable_canvas").origin).parent  # its files, not imported
ORIGINAL = "streamlit-drawable-canvas.streamlit_drawable_canvas"  # as the package registers it
DEBOUNCE = "Bc = 200"  # the component's send delay in its pinned build (streamlit-drawable-canvas 0.13.0)

LOADER = """
let module = null;
const load = () => {
  if (module) return module;
  const prefix = window.location.pathname.replace(/\\/[^/]*$/, "");
  const url = `${window.location.origin}${prefix}/_stcore/bidi-components/%(component)s/%(js)s`;
  module = fetch(url).then((r) => r.text()).then((source) => {
    const fast = source.includes(%(debounce)s) ? source.replace(%(debounce)s, "Bc = 0") : source;
    return import(URL.createObjectURL(new Blob([fast], {type: "text/javascript"})));
  });
  return module;
};
export default function (component) {
  let cleanup = null, gone = false;
  load().then((m) => { if (!gone) cleanup = m.default(component); });
  return () => { gone = true; if (cleanup) cleanup(); };
}
"""


@functools.cache
def _component():
    """The canvas component, registered once per server."""
    js_file = sorted((PACKAGE / "frontend" / "build").glob("index-*.js"))[0].name
    css = "\n".join(p.read_text() for p in sorted((PACKAGE / "frontend" / "build").glob("index-*.css")))
    return st.components.v2.component(
        "cnnlab.fast_canvas", html='<div class="canvas-root"></div>', css=css, isolate_styles=True,
        js=LOADER % {"component": ORIGINAL, "js": js_file, "debounce": json.dumps(DEBOUNCE)})


@st.cache_data
def background() -> bytes:
    """Black drawing square under a labelled band where the canvas toolbar floats."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (CANVAS, CANVAS + BAND), "black")
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, CANVAS, BAND - 1], fill=(38, 39, 48))
    draw.text((8, 13), "canvas toolbar (undo, redo, clear) - draw below", fill=(150, 150, 160))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def read_canvas(key: str, stroke_width: int) -> np.ndarray | None:
    """Draw the canvas; the RGBA of the strokes so far (the background is not sent back), or None."""
    drawing = {"objects": [], "background": ""}
    data = {  # what streamlit_drawable_canvas.st_canvas sends for freedraw with these settings
        "fillColor": "#eee", "strokeWidth": stroke_width, "strokeColor": "#FFFFFF", "backgroundColor": "",
        "backgroundImageURL": "data:image/png;base64," + base64.b64encode(background()).decode("ascii"),
        "realtimeUpdateStreamlit": True, "canvasWidth": CANVAS, "canvasHeight": CANVAS + BAND,
        "drawingMode": "freedraw", "initialDrawing": drawing, "displayRadius": 3, "returnImageData": True,
        "disabled": False, "backgroundImageFit": "stretch", "maxDisplayHeight": None, "fontSize": 20, "label": ""}
    result = _component()(data=data, key=key, default={"drawing": {"raw": drawing, "data": None},
                                                         "backgroundFit": None},
                          on_drawing_change=lambda: None, on_backgroundFit_change=lambda: None,
                          width="content", height="content")
    url = (result.get("drawing") or {}).get("data")
    if not url or ";base64," not in url:
        return None
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1]))))


def canvas_ui(key: str, stroke_width: int) -> np.ndarray | None:
    """The canvas; the RGBA of the strokes drawn so far, or None. (Tests replace ``read_canvas``.)"""
    return read_canvas(key, stroke_width)


def has_ink(image: np.ndarray | None) -> bool:
    return image is not None and np.asarray(image)[..., -1].max() > 0
