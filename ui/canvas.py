"""The drawing canvas (Draw, My data): a black square under a band where the canvas's toolbar floats."""
from __future__ import annotations

import io

import numpy as np
import streamlit as st
import streamlit_drawable_canvas  # called through the module, so tests can put a fake canvas in its place

CANVAS, BAND = 280, 40  # the top band sits under the canvas's floating toolbar, which swallows strokes


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


def canvas_ui(key: str, stroke_width: int) -> np.ndarray | None:
    """The canvas; the RGBA of the strokes drawn so far (the background is not sent back), or None."""
    result = streamlit_drawable_canvas.st_canvas(
        stroke_width=stroke_width, stroke_color="#FFFFFF", background_image=background(), height=CANVAS + BAND,
        width=CANVAS, drawing_mode="freedraw", return_image_data=True, key=key)
    if result is not None and result.image_data is not None:
        return result.image_data
    return None


def has_ink(image: np.ndarray | None) -> bool:
    return image is not None and np.asarray(image)[..., -1].max() > 0
