"""The drawing canvases: the Draw page's own pad, and streamlit-drawable-canvas for My data's examples.

The Draw page must answer the moment the pointer lifts, so it has a small component of the app's own
(``ui/draw_pad.js``, Components v2, plain JavaScript: pointer and touch drawing, Undo, Clear). My data, where
a short wait after a stroke does not matter, uses streamlit-drawable-canvas through its public ``st_canvas``.
Both give the strokes as RGBA with the ink in the alpha channel, which :mod:`cnn.preprocess` reads.
"""
from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from cnn import i18n
from cnn.i18n import _

CANVAS = 280
HERE = Path(__file__).resolve().parent
# Inline SVG (Material's "undo" and "close" shapes): no emoji font needed, drawn in the button's text colour.
_SVG = ('<svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="currentColor" '
        'style="vertical-align: -3px">{}</svg>')
UNDO_ICON = _SVG.format('<path d="M12.5 8c-2.65 0-5.05.99-6.9 2.6L2 7v9h9l-3.62-3.62c1.39-1.16 3.16-1.88 5.12-1.88 '
                        '3.54 0 6.55 2.31 7.6 5.5l2.37-.78C21.08 11.03 17.15 8 12.5 8z"/>')
CLEAR_ICON = _SVG.format('<path d="M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 '
                         '19 17.59 13.41 12z"/>')


@functools.cache
def _pad():
    """The Draw page's pad and the browser's answer beside it, registered once per server."""
    html = ('<div class="draw-pad"><div class="draw-pad-left"><canvas width="280" height="280" tabindex="0" '
            'role="img" aria-label="Drawing area"></canvas><div class="draw-pad-tools">'
            f'<button type="button" data-action="undo" aria-label="Undo the last stroke">{UNDO_ICON} Undo</button>'
            f'<button type="button" data-action="clear" aria-label="Clear the drawing">{CLEAR_ICON} Clear</button>'
            '</div></div><div class="draw-pad-answer" hidden><h2 hidden></h2><p class="note"></p>'
            '<p class="warn" hidden>The network is not sure. Try drawing bigger and more clearly, in the middle.</p>'
            '<div class="bars" role="list" aria-label="How sure the network is of each class"></div>'
            '<div class="sr-only" role="status" aria-live="polite"></div></div></div>')
    return st.components.v2.component("cnnlab_draw_pad", html=html, css=(HERE / "draw_pad.css").read_text(),
                                      js=(HERE / "draw_pad.js").read_text(), isolate_styles=True)


def _png_rgba(url: str | None) -> np.ndarray | None:
    """A ``data:image/png;base64,...`` URL as RGBA, or None (also for anything that is not a PNG)."""
    if not url or ";base64," not in url:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1]))).convert("RGBA"))
    except (UnidentifiedImageError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class BrowserRead:
    """What the browser read in the drawing (class index, probabilities, milliseconds) and with which model file."""

    top: int
    probs: tuple[float, ...]
    ms: float
    model: str


def _browser_read(value: Any) -> BrowserRead | None:
    """The pad's answer as sent, checked (it comes from the browser: anything malformed counts as no answer)."""
    try:
        probs = tuple(float(p) for p in value["probs"])
        read = BrowserRead(int(value["top"]), probs, float(value["ms"]), str(value["model"]))
    except (KeyError, TypeError, ValueError):
        return None
    return read if probs and 0 <= read.top < len(probs) else None


def pad_text() -> dict[str, str]:
    """What the pad says (ui/draw_pad.js's TEXT, same keys), in the student's language."""
    return {"area": _("Drawing area"), "undo": _("Undo"), "clear": _("Clear"), "undoLabel": _("Undo the last stroke"),
            "clearLabel": _("Clear the drawing"), "barsLabel": _("How sure the network is of each class"),
            "unsure": _("The network is not sure. Try drawing bigger and more clearly, in the middle."),
            "prediction": _("Prediction: {label}"), "news": _("Prediction: {label}, {p} sure"),
            "sure": _("{p} sure · model {title} · read in your browser in {ms} ms"),
            "nothing": _("Nothing drawn yet: draw {thing}."),
            "little": _("Too little ink to read: draw {thing} bigger."),
            "failed": _("your browser could not run the model"),
            "failedNote": _("The server reads your drawing when you lift the pen: {why}."),
            "server": _("This model is read on the server: {why}.")}


def read_pad(key: str, brush: int, label: str, model: dict[str, Any] | None = None
             ) -> tuple[np.ndarray | None, BrowserRead | None, str]:
    """Mount the pad (``model``: what the browser needs to read drawings itself, or None); the RGBA of its
    strokes so far or None, the browser's reading or None, and why the browser could not read (tests replace
    this)."""
    big = bool(st.session_state.get("present"))  # presentation mode: larger buttons and answer
    data = {"brush": int(brush), "label": label, "big": big, "lang": i18n.number_locale(), "text": pad_text(),
            **(model or {})}
    result = _pad()(data=data, key=key,
                    default={"drawing": None}, on_drawing_change=lambda: None)
    drawing = result.get("drawing") if hasattr(result, "get") else getattr(result, "drawing", None)
    drawing = drawing if isinstance(drawing, dict) else {}
    return _png_rgba(drawing.get("png")), _browser_read(drawing.get("read")), str(drawing.get("why") or "")


def draw_pad_ui(key: str, brush: int, label: str = "Drawing area", model: dict[str, Any] | None = None
                ) -> tuple[np.ndarray | None, BrowserRead | None, str]:
    """The Draw page's pad; the RGBA of the strokes drawn so far (or None), the browser's reading, and why the
    browser could not read the drawing."""
    return read_pad(key, brush, label, model)


@functools.cache
def _black() -> bytes:
    """The black square behind My data's strokes (a background image is not sent back: the ink stays alone in
    the alpha channel)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (CANVAS, CANVAS), "black").save(buf, format="PNG")
    return buf.getvalue()


def read_canvas(key: str, stroke_width: int) -> np.ndarray | None:
    """streamlit-drawable-canvas (public API); the RGBA of the strokes so far, or None (tests replace this)."""
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF", background_image=_black(),
                       height=CANVAS, width=CANVAS, drawing_mode="freedraw", return_image_data=True, key=key)
    image = getattr(result, "image_data", None) if result is not None else None
    return None if image is None else np.asarray(image)


def canvas_ui(key: str, stroke_width: int) -> np.ndarray | None:
    """My data's canvas; the RGBA of the strokes drawn so far, or None."""
    return read_canvas(key, stroke_width)


def has_ink(image: np.ndarray | None) -> bool:
    return image is not None and np.asarray(image)[..., -1].max() > 0
