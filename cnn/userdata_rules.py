"""What a student's dataset may hold: its name, 2 to 20 class names, one of three image sizes, at most
:data:`MAX_IMAGES` examples, each a PNG of the dataset's size. Every way in (the My data page, a zip, a class file,
an earlier version's folder) checks with these, so each refusal reads the same.
"""
from __future__ import annotations

import io
import re
import unicodedata

import numpy as np
from PIL import Image

from cnn import preprocess, store
from cnn.errors import LabError
from cnn.i18n import N_, _

SHAPES: dict[int, tuple[int, int, int]] = {28: (28, 28, 1), 32: (32, 32, 3), 64: (64, 64, 3)}  # by side


def size_label(shape: tuple[int, int, int]) -> str:
    """"28×28 grey (drawings)", "32×32 colour (photos)"."""
    h, w, c = shape
    return f"{h}×{w} grey (drawings)" if c == 1 else f"{h}×{w} colour (photos)"


SIZES: dict[str, tuple[int, int, int]] = {size_label(s): s for s in SHAPES.values()}  # as the page offers them


SIZE_WORDS = (N_("28×28 grey (drawings)"), N_("32×32 colour (photos)"), N_("64×64 colour (photos)"))  # translated there


MIN_CLASSES, MAX_CLASSES = 2, 20


MAX_IMAGES = 20_000  # per dataset


CLASS_RE = re.compile(r"^[\w][\w .'-]{0,29}$")


class UserDataError(LabError, ValueError):
    """A dataset, class, image or zip was refused; the message says why and what to do."""


def validate_name(name: str) -> str:
    """A dataset name: the same rules as model names (letters, digits, - and _)."""
    try:
        return store.validate_name(name, "dataset")
    except store.StoreError as e:
        raise UserDataError(str(e)) from None


def validate_classes(names: list[str]) -> list[str]:
    """2 to 20 class names, each 1-30 letters, digits, spaces or . ' - _, no two alike (case aside)."""
    clean = [unicodedata.normalize("NFC", " ".join(str(n).split())) for n in names]
    clean = [n for n in clean if n]
    if len(clean) < MIN_CLASSES:
        raise UserDataError(_("A dataset needs at least {min_classes} classes, got {n_clean}.",
                              min_classes=MIN_CLASSES, n_clean=len(clean)))
    if len(clean) > MAX_CLASSES:
        raise UserDataError(_("A dataset may have at most {max_classes} classes, got {n_clean}.",
                              max_classes=MAX_CLASSES, n_clean=len(clean)))
    for n in clean:
        if not CLASS_RE.match(n):
            raise UserDataError(_("Class name '{n}': use 1-30 letters, digits, spaces and . ' - _, starting with a "
                                  "letter or digit.", n=n[:40]))
    seen: dict[str, str] = {}
    for n in clean:
        if n.casefold() in seen:
            raise UserDataError(_("Two classes are named alike: '{seen}' and '{n}'. Give each class its own name.",
                                  seen=seen[n.casefold()], n=n))
        seen[n.casefold()] = n
    return clean


def prepare(image: Image.Image, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One example at the dataset's size as uint8 (H, W, C). Grey 28×28 uses the Draw page's own ink
    extraction (centred, MNIST-like), so drawings, photos of paper and the Draw page agree. An image already
    at the dataset's size (an exported dataset, an MNIST-like file) is kept as it is."""
    h, w, c = image_shape
    if image.size == (w, h):
        arr = np.asarray(image.convert("L" if c == 1 else "RGB"), np.uint8)
        return arr[..., None] if c == 1 else arr
    x = preprocess.prepare_image(image, image_shape)[0]
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def png_bytes(arr: np.ndarray) -> bytes:
    """An example (uint8, H×W×C) as the PNG the database keeps."""
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, format="PNG")
    return buf.getvalue()


def check_png(raw: bytes, shape: tuple[int, int, int]) -> None:
    """UserDataError unless ``raw`` is a PNG image of ``shape`` (what an example of a dataset is)."""
    if not raw.startswith(b"\x89PNG"):
        raise UserDataError(_("{name}: unreadable ({e}).", name="PNG", e="no PNG signature"))
    read_png(raw, "PNG", shape)


def read_png(raw: bytes, example_id: str, shape: tuple[int, int, int]) -> np.ndarray:
    """A stored example back as uint8 (H, W, C); UserDataError naming it when it is not a PNG of ``shape``."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            arr = np.asarray(img.convert("L" if shape[2] == 1 else "RGB"), np.uint8)
    except (OSError, ValueError) as e:
        raise UserDataError(_("{name}: unreadable ({e}).", name=example_id, e=e)) from None
    arr = arr[..., None] if arr.ndim == 2 else arr
    if arr.shape != shape:
        raise UserDataError(_("{name}: {shape}, expected {shape2}.", name=example_id, shape=arr.shape, shape2=shape))
    return arr

