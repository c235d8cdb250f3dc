"""Small images on the pages: upscaled with crisp pixels, alone or in a grid."""
from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnn.i18n import _


def pixels(image: np.ndarray, size: int = 112) -> Image.Image:
    """A small float or uint8 image, upscaled with crisp pixels for display."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    img = Image.fromarray(arr)
    scale = max(1, size // max(img.size))
    return img.resize((img.size[0] * scale, img.size[1] * scale), Image.Resampling.NEAREST)


def framed(image: np.ndarray, size: int = 140) -> Image.Image:
    """A float or uint8 image of any aspect, scaled to fit a ``size``×``size`` black square (crisp when
    enlarged), so a tall thin stroke is shown as tall and thin, not stretched to the column's width."""
    img = pixels(image, 1)
    scale = size / max(img.size)
    fitted = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))),
                        Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS)
    square = Image.new(fitted.mode, (size, size), 0)
    square.paste(fitted, ((size - fitted.size[0]) // 2, (size - fitted.size[1]) // 2))
    return square


def image_grid_ui(images, captions: list[str] | None = None, cols: int = 8, size: int = 84,
                  alts: list[str] | None = None) -> None:
    """Images side by side, each upscaled crisply with an optional caption, wrapping onto the next line where the
    page is narrow (a phone keeps a grid instead of one image a screen); ``cols`` caps a line (so a wide page keeps
    its rows); ``alts`` say what each shows to a screen reader (else its caption)."""
    captions = captions or [""] * len(images)
    alts = alts or [cap or _("Image") for cap in captions]
    for start in range(0, len(images), cols):
        with st.container(horizontal=True, wrap=True, gap="small"):
            for img, cap, alt in zip(images[start:start + cols], captions[start:start + cols],
                                     alts[start:start + cols], strict=False):
                st.image(pixels(img, size), caption=cap or None, alt=alt, width=size)


def image_pairs_ui(tops, bottoms, top_alts: list[str], bottom_alts: list[str], size: int = 84) -> None:
    """Each image above its counterpart (an image and its augmented copy), the pairs side by side, wrapping where
    the page is narrow: the two of a pair stay together on a phone."""
    with st.container(horizontal=True, wrap=True, gap="small"):
        for top, bottom, top_alt, bottom_alt in zip(tops, bottoms, top_alts, bottom_alts, strict=True):
            with st.container(width=size, gap="small"):
                st.image(pixels(top, size), alt=top_alt, width=size)
                st.image(pixels(bottom, size), alt=bottom_alt, width=size)


def test_image_ui(class_names, y_test: np.ndarray, key: str, label: str = "", columns=None) -> int | None:
    """Pick one test image, by class or by index (Evaluate, Inspect); None, with a message, when the class has no
    test image (a class of one's own dataset with too few examples)."""
    left, right = columns if columns is not None else (st, st)
    by_class = left.selectbox(label or _("Class"), ["any", *list(class_names)], key=f"{key}_cls",
                              format_func=lambda c: _("any") if c == "any" else c)
    pool = np.arange(len(y_test)) if by_class == "any" else np.flatnonzero(y_test == list(class_names).index(by_class))
    if len(pool) == 0:
        right.info(_("No test image of “{by_class}” yet: one example in five is kept for testing, so add a few more "
                     "examples of it on **My data**.", by_class=by_class), icon=":material/image_not_supported:")
        return None
    pos = right.number_input(_("Index (0–{last})", last=len(pool) - 1), 0, len(pool) - 1, 0,
                             key=f"{key}_idx_{by_class}")
    return int(pool[int(pos)])
