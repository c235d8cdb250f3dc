"""Small images on the pages: upscaled with crisp pixels, alone or in a grid."""
from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image


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


def image_grid_ui(images, captions: list[str] | None = None, cols: int = 8, size: int = 84) -> None:
    """Images in rows of ``cols`` columns, each upscaled crisply with an optional caption."""
    captions = captions or [""] * len(images)
    for start in range(0, len(images), cols):
        columns = st.columns(cols)
        for col, img, cap in zip(columns, images[start:start + cols], captions[start:start + cols], strict=False):
            col.image(pixels(img, size), caption=cap or None)
