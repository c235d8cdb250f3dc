"""Turn a drawing or a photo of a digit into an MNIST-like 28×28 image, step by step.

The steps follow how MNIST itself was made: take the ink, crop to its bounding box, scale
the longer side to 20 px keeping the aspect ratio (anti-aliased), paste into a 28×28 field
and shift the centre of mass to the centre (no wrap-around). Photos of paper are first evened
out (uneven light, grain, specks), and strokes thinner than MNIST's are widened to its width. The Draw page, the Inspect
page and ``python -m cnn predict`` all call :func:`preprocess_digit`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# scipy.ndimage is imported where it is used: its import took 0.15 s of a fresh server's first Train page, which
# imports this module (through students' own datasets) and needs none of it
from cnn.errors import LabError
from cnn.i18n import _

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression-bomb guard)
INK_THRESHOLD = 0.08
SMALL_SHARE = 0.3  # a drawing whose digit is smaller than this share of its pad is too small to read well
WORK_SIZE = 400  # photos are brought to this longer side first: a drawing's size, whatever the camera
TARGET_STROKE = 0.12  # MNIST strokes are about 2.5 px in its 20 px box
WORK_BOX = 20  # the digit's longer side in the 28×28 field, as in MNIST


class ImageError(LabError, ValueError):
    """An image could not be used; the message says why."""


class EmptyDrawing(ImageError):
    """There is no ink to read."""


@dataclass(frozen=True)
class DigitSteps:
    """Every stage of :func:`preprocess_digit`, each a float32 array in [0, 1] (ink = 1)."""

    ink: np.ndarray  # as drawn, ink extracted (H, W)
    cropped: np.ndarray  # bounding box of the ink
    scaled: np.ndarray  # longer side 20 px
    centered: np.ndarray  # 28×28, centre of mass in the middle: what the model sees

    @property
    def small(self) -> bool:
        """The digit fills less than :data:`SMALL_SHARE` of the drawing's shorter side. Scaled up to 20 px, its
        strokes grow as thick as the digit is wide, and a network trained on MNIST's pen strokes reads it badly (a
        tiny 8 read as "1, 96.6 %"): the page asks for a bigger one."""
        return max(self.cropped.shape) < SMALL_SHARE * min(self.ink.shape)

    @property
    def model_input(self) -> np.ndarray:
        """(1, 28, 28, 1) float32, ready for the model."""
        return self.centered[None, :, :, None].astype(np.float32)


def open_image(data: bytes | str | Path) -> Image.Image:
    """Decode an uploaded image safely: size limits first, then EXIF orientation applied."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        try:
            data = path.read_bytes()
        except OSError as e:
            # callers name the file
            raise ImageError(_("The file cannot be read ({why}).", why=e.strerror)) from None
    if not data:
        raise ImageError(_("The file is empty (0 bytes)."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(_("The image is {n_data:.1f} MB; the limit is {max_upload_bytes} MB.",
                           n_data=len(data) / 2**20, max_upload_bytes=MAX_UPLOAD_BYTES // 2**20))
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ImageError(_("The image is {w}×{h} pixels, too large to process; use one under {max_pixels} "
                               "megapixels.", w=w, h=h, max_pixels=MAX_PIXELS // 1_000_000))
        if w < 1 or h < 1:
            raise ImageError(_("The image has no pixels."))
        img.load()
        img = ImageOps.exif_transpose(img)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(_("The image is too large to process (decompression-bomb guard).")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageError(_("This file is not an image CNN Lab can read: use a PNG, JPEG, GIF, BMP, WebP or TIFF "
                           "file.")) from None
    return img


def _to_float_channels(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Luminance in [0, 1] and alpha in [0, 1] (None if opaque), for any Pillow mode incl. 16-bit."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        return np.clip(arr / top, 0, 1).astype(np.float32), None
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        return np.clip(arr / max(1.0, float(arr.max())), 0, 1), None
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    lum = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    alpha = rgba[..., 3] if has_alpha else None
    if alpha is not None and alpha.min() > 0.99:
        alpha = None
    return lum.astype(np.float32), alpha


def _shrink(arr: np.ndarray, longest: int = WORK_SIZE) -> np.ndarray:
    """A big photo at drawing size (its longer side ``longest`` px): the result is 28×28 anyway."""
    h, w = arr.shape
    if max(h, w) <= longest:
        return arr
    scale = longest / max(h, w)
    img = Image.fromarray(arr.astype(np.float32), mode="F")
    return np.asarray(img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX),
                      np.float32)


def _even_out(ink: np.ndarray) -> np.ndarray:
    """Take away uneven light (a shadow, a brighter side, dark corners): what a grey opening with a window
    wider than any stroke keeps is the background, not the ink."""
    from scipy import ndimage

    k = max(3, round(max(ink.shape) / 5))
    small = ink[::2, ::2] if min(ink.shape) >= 64 else ink  # the light varies slowly: half resolution is enough
    kk = max(3, k // 2) if small is not ink else k
    background = ndimage.gaussian_filter(ndimage.grey_opening(small, size=(kk, kk)), kk / 4)
    if small is not ink:
        background = np.asarray(Image.fromarray(background, mode="F").resize(ink.shape[::-1],
                                                                              Image.Resampling.BILINEAR))
    return np.clip(ink - background, 0, None)


def _keep_strokes(ink: np.ndarray) -> np.ndarray:
    """Drop specks (paper grain, dust, JPEG blocks): parts much smaller than the largest stroke go."""
    from scipy import ndimage

    mask = ink > 0.3
    labels, n = ndimage.label(mask)
    if n <= 1:
        return ink
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= max(0.08 * sizes.max(), 4)) + 1
    near = ndimage.binary_dilation(np.isin(labels, keep), iterations=2)  # keep their soft edges too
    return np.where(near, ink, 0.0).astype(np.float32)


def extract_ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 1] (ink = 1): from alpha when the background is transparent (the canvas), else
    from luminance, inverted when the background is light (dark ink on paper). Photos of paper are evened
    out (uneven light subtracted), cleaned of specks, and scaled so the strokes' own contrast is 0–1."""
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.dtype != np.uint8:
            arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        image = Image.fromarray(arr)
    lum, alpha = _to_float_channels(image)
    if alpha is not None:
        return np.clip(_shrink(alpha), 0, 1).astype(np.float32)
    lum = _shrink(lum)
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    ink = (1.0 - lum) if float(np.median(border)) > 0.5 else lum
    ink = _even_out(ink)
    top = float(ink.max())
    if top < 0.12:  # no contrast: nothing written
        return np.zeros_like(ink, dtype=np.float32)
    # the noise left on the background: its median and spread (most pixels are background)
    med = float(np.median(ink))
    spread = 1.4826 * float(np.median(np.abs(ink - med)))
    floor = min(max(med + 4 * spread, 0.15 * top), 0.5 * top)
    ink = np.clip((ink - floor) / max(top - floor, 1e-6), 0, 1).astype(np.float32)
    return _keep_strokes(ink)


def stroke_width(ink: np.ndarray, threshold: float = 0.5) -> float:
    """Typical stroke width in pixels, from the mean distance of an ink pixel to the paper."""
    from scipy import ndimage

    mask = np.pad(ink > threshold, 1)  # the crop's edge is not paper: the border around it is
    if not mask.any():
        return 0.0
    return max(1.0, 4.0 * float(ndimage.distance_transform_edt(mask)[mask].mean()) - 2.0)  # w px: mean (w + 2)/4


def thicken(cropped: np.ndarray, target: float | None = None) -> np.ndarray:
    """Widen strokes thinner than MNIST's (about 1/8 of the digit's height) so a thin pen reads like a
    marker after the downscale, as MNIST's digits do. Thick enough strokes are left as they are."""
    from scipy import ndimage

    target = TARGET_STROKE if target is None else target
    small = _shrink(cropped, 4 * WORK_BOX)  # measure and widen at 4× the final size: as good, and fast
    width = stroke_width(small)
    wanted = target * max(small.shape)
    if width <= 0 or width >= 0.75 * wanted:
        return cropped
    radius = max(1, round((wanted - width) / 2))
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disk = (yy ** 2 + xx ** 2) <= radius ** 2
    return ndimage.grey_dilation(np.pad(small, radius), footprint=disk).astype(np.float32)


def thin(cropped: np.ndarray, target: float | None = None, above: float = 1.4) -> np.ndarray:
    """Narrow strokes much thicker than MNIST's (a marker on a small digit fills the loops of a 6 or an 8) to about
    MNIST's width; strokes up to ``above`` times that are left as they are."""
    from scipy import ndimage

    target = TARGET_STROKE if target is None else target
    small = _shrink(cropped, 4 * WORK_BOX)
    width = stroke_width(small)
    wanted = target * max(small.shape)
    if width <= above * wanted:
        return cropped
    radius = max(1, round((width - wanted) / 2))
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return ndimage.grey_erosion(small, footprint=(yy ** 2 + xx ** 2) <= radius ** 2).astype(np.float32)


def normalize_width(cropped: np.ndarray) -> np.ndarray:
    """Strokes about as wide, relative to the digit, as MNIST's: thin ones widened, very thick ones narrowed."""
    return thin(thicken(cropped))


def crop_to_ink(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """The bounding box of the ink; raises EmptyDrawing when there is none."""
    mask = ink > threshold
    if not mask.any():
        raise EmptyDrawing(_("Nothing drawn yet: draw a digit."))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def scale_longer_side(cropped: np.ndarray, size: int = WORK_BOX) -> np.ndarray:
    """Resize so the longer side is ``size`` px, keeping the aspect ratio, with anti-aliasing (Lanczos, in floats:
    the browser's copy in ``static/cnnlab/preprocess.mjs`` computes the very same numbers)."""
    h, w = cropped.shape
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray(np.clip(cropped, 0, 1).astype(np.float32), mode="F")
    return np.clip(np.asarray(img.resize((nw, nh), Image.Resampling.LANCZOS), np.float32), 0, 1)


def center_by_mass(scaled: np.ndarray, field: int = 28) -> np.ndarray:
    """Paste into a ``field``×``field`` box, then move the centre of mass to the centre (no wrap)."""
    from scipy import ndimage

    out = np.zeros((field, field), np.float32)
    h, w = scaled.shape
    top, left = (field - h) // 2, (field - w) // 2
    out[top:top + h, left:left + w] = scaled
    if out.sum() <= 0:
        return out
    cy, cx = ndimage.center_of_mass(out)
    shifted = ndimage.shift(out, ((field - 1) / 2 - cy, (field - 1) / 2 - cx), order=1, mode="constant", cval=0.0)
    return np.clip(shifted, 0, 1).astype(np.float32)


def preprocess_digit(image: Image.Image | np.ndarray | bytes) -> DigitSteps:
    """Drawing or photo -> MNIST-like 28×28 image, keeping each step for display."""
    if isinstance(image, (bytes, bytearray)):
        image = open_image(bytes(image))
    ink = extract_ink(image)
    if ink.size == 0:
        raise EmptyDrawing(_("The image has no pixels."))
    cropped = crop_to_ink(ink)
    scaled = scale_longer_side(normalize_width(cropped))
    centered = center_by_mass(scaled)
    if centered.max() < INK_THRESHOLD:
        raise EmptyDrawing(_("Too little ink to read: draw a bigger digit."))
    return DigitSteps(ink, cropped, scaled, np.clip(centered / centered.max(), 0, 1))


def prepare_image(image: Image.Image, input_shape: tuple[int, int, int]) -> np.ndarray:
    """Any image -> one model input of ``input_shape`` (for photos: resize, keep colour or grey).

    28×28×1 models get the digit preprocessing; other shapes a plain resize, scaled to [0, 1].
    """
    h, w, c = input_shape
    if (h, w, c) == (28, 28, 1):
        return preprocess_digit(image).model_input
    if c not in (1, 3):
        raise ImageError(_("The model expects {c} channels per pixel; CNN Lab can feed 1 (grey) or 3 (colour).", c=c))
    img = image.convert("RGB" if c == 3 else "L").resize((w, h), Image.Resampling.LANCZOS)
    arr = np.asarray(img, np.float32) / 255.0
    return arr.reshape(1, h, w, c)
