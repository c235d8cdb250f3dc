"""Drawing-like digits from stroke paths: the test set for reading hand drawing.

Each digit 0-9 is a few strokes in a unit box (x right, y down). :func:`render` draws one
at canvas scale with a thick round brush, at a given size, place, slant and rotation, white
on black or dark on light. The browser test replays the same strokes with the mouse.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.5 + 0.32 * math.sin(t), 0.5 - 0.46 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 28)]],
    1: [[(0.42, 0.18), (0.56, 0.04), (0.56, 0.97)]],
    2: [[(0.18, 0.25), (0.3, 0.09), (0.5, 0.03), (0.7, 0.09), (0.78, 0.26), (0.7, 0.45), (0.45, 0.68),
         (0.18, 0.95), (0.85, 0.95)]],
    3: [[(0.2, 0.12), (0.45, 0.02), (0.72, 0.1), (0.76, 0.28), (0.62, 0.43), (0.42, 0.48), (0.68, 0.56),
         (0.8, 0.75), (0.7, 0.92), (0.45, 0.98), (0.18, 0.88)]],
    4: [[(0.3, 0.03), (0.15, 0.6), (0.85, 0.6)], [(0.66, 0.25), (0.66, 0.98)]],
    5: [[(0.78, 0.04), (0.3, 0.04), (0.25, 0.45), (0.48, 0.38), (0.7, 0.46), (0.8, 0.68), (0.7, 0.9),
         (0.45, 0.98), (0.18, 0.88)]],
    6: [[(0.7, 0.03), (0.45, 0.2), (0.3, 0.45), (0.24, 0.7), (0.33, 0.92), (0.53, 0.98), (0.72, 0.87),
         (0.74, 0.67), (0.57, 0.53), (0.37, 0.57), (0.26, 0.72)]],
    7: [[(0.15, 0.06), (0.85, 0.06), (0.6, 0.5), (0.42, 0.97)]],
    8: [[(0.68, 0.14), (0.5, 0.03), (0.31, 0.13), (0.32, 0.33), (0.5, 0.48), (0.7, 0.63), (0.72, 0.86),
         (0.5, 0.98), (0.28, 0.86), (0.3, 0.63), (0.5, 0.48), (0.67, 0.33), (0.68, 0.14)]],
    9: [[(0.72, 0.2), (0.55, 0.04), (0.36, 0.08), (0.28, 0.25), (0.36, 0.43), (0.55, 0.46), (0.72, 0.35),
         (0.72, 0.2), (0.7, 0.6), (0.62, 0.98)]],
}


def transform(strokes, *, size: float, cx: float, cy: float, slant: float = 0.0, angle_deg: float = 0.0,
              aspect: float = 1.0) -> list[list[tuple[float, float]]]:
    """Stroke points in canvas pixels: digit height ``size`` centred at (cx, cy), sheared by
    ``slant`` (x += slant * -y) and rotated by ``angle_deg``."""
    a = math.radians(angle_deg)
    out = []
    for stroke in strokes:
        pts = []
        for x, y in stroke:
            u, v = (x - 0.5) * aspect, y - 0.5
            u -= slant * v
            u, v = u * math.cos(a) - v * math.sin(a), u * math.sin(a) + v * math.cos(a)
            pts.append((cx + u * size, cy + v * size))
        out.append(pts)
    return out


def draw(strokes_px, width: int, canvas: int = 280, dark_on_light: bool = False, mode: str = "L") -> Image.Image:
    """Render pixel strokes with a round brush; ``mode="RGBA"`` mimics the canvas (ink in alpha)."""
    if mode == "RGBA":
        img = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
        ink = (255, 255, 255, 255)
    else:
        img = Image.new("L", (canvas, canvas), 255 if dark_on_light else 0)
        ink = 20 if dark_on_light else 255
    d = ImageDraw.Draw(img)
    r = width / 2
    for pts in strokes_px:
        d.line(pts, fill=ink, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]):
            d.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    return img


def drawn_set(n_per_digit: int = 20, seed: int = 0, canvas: int = 280) -> tuple[list[Image.Image], np.ndarray]:
    """A varied set: sizes, places, slants, rotations, brush widths, both polarities, RGBA canvases."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit, strokes in STROKES.items():
        for k in range(n_per_digit):
            size = rng.uniform(0.35, 0.85) * canvas
            margin = size / 2 + 10
            cx = rng.uniform(margin * 0.7, canvas - margin * 0.7)
            cy = rng.uniform(margin, canvas - margin) if canvas - margin > margin else canvas / 2
            pts = transform(strokes, size=size, cx=cx, cy=cy, slant=rng.uniform(-0.3, 0.3),
                            angle_deg=rng.uniform(-12, 12), aspect=rng.uniform(0.8, 1.2))
            width = int(rng.uniform(0.07, 0.16) * size)
            style = k % 3  # canvas RGBA, white on black, dark on light
            img = draw(pts, max(4, width), canvas, dark_on_light=style == 2, mode="RGBA" if style == 0 else "L")
            images.append(img)
            labels.append(digit)
    return images, np.array(labels)


def paper_photo(strokes, rng: np.random.Generator) -> Image.Image:
    """One digit written with a pen on paper and photographed: uneven light, paper grain, a tint, thin or thick
    pens in black, blue or grey, a little blur and JPEG. Strokes are in the unit box (see STROKES)."""
    import io

    from PIL import ImageFilter

    w, h = int(rng.uniform(320, 900)), int(rng.uniform(320, 900))
    size = rng.uniform(0.35, 0.8) * min(w, h)
    pts = transform(strokes, size=size, cx=w / 2 + rng.uniform(-0.15, 0.15) * w,
                    cy=h / 2 + rng.uniform(-0.12, 0.12) * h, slant=rng.uniform(-0.3, 0.3),
                    angle_deg=rng.uniform(-12, 12), aspect=rng.uniform(0.8, 1.2))
    pen = max(2, int(rng.uniform(0.025, 0.13) * size))
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    for stroke in pts:
        d.line(stroke, fill=255, width=pen, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            d.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=255)
    m = np.asarray(mask, np.float32)[..., None] / 255.0 * rng.uniform(0.75, 1.0)  # a pen is not fully opaque
    paper = rng.uniform(165, 250) + rng.uniform(-12, 12, size=3)  # white to grey, warm or cool
    ink = {0: [20, 20, 25], 1: [30, 40, 120], 2: [80, 80, 80]}[int(rng.integers(0, 3))] + rng.uniform(-15, 15, 3)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - rng.uniform(0, 0.35) * (np.cos(angle) * xx + np.sin(angle) * yy)  # light from one side
    light *= 1 - rng.uniform(0, 0.25) * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2  # darker corners
    img = (paper * (1 - m) + ink * m) * light[..., None]
    img += rng.normal(0, rng.uniform(1, 6), img.shape)  # grain and sensor noise
    photo = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=int(rng.uniform(50, 95)))
    return Image.open(io.BytesIO(buf.getvalue()))


def photo_set(n_per_digit: int = 10, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    """Photos of digits written on paper (see :func:`paper_photo`), ``n_per_digit`` of each digit."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit, strokes in STROKES.items():
        for _ in range(n_per_digit):
            images.append(paper_photo(strokes, rng))
            labels.append(digit)
    return images, np.array(labels)


def on_paper(image: Image.Image) -> Image.Image:
    """A white-on-black drawing as the same drawing in dark ink on light paper (greyscale inverse)."""
    from PIL import ImageOps

    return ImageOps.invert(image.convert("L"))


# Shapes a student might draw for a dataset of their own (the My data page), as strokes in the unit box.
SHAPE_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "circle": [[(0.5 + 0.45 * math.sin(t), 0.5 - 0.45 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 30)]],
    "square": [[(0.08, 0.08), (0.92, 0.08), (0.92, 0.92), (0.08, 0.92), (0.08, 0.08)]],
    "triangle": [[(0.5, 0.05), (0.95, 0.92), (0.05, 0.92), (0.5, 0.05)]],
}


def wobble(strokes, rng: np.random.Generator, amount: float = 0.03):
    """A hand's imprecision: every point moved a little, in the unit box."""
    return [[(x + rng.normal(0, amount), y + rng.normal(0, amount)) for x, y in stroke] for stroke in strokes]


def shape_drawing(kind: str, rng: np.random.Generator, canvas: int = 280) -> tuple[list, int]:
    """One hand-drawn shape as canvas strokes (pixels) and a brush width, placed and sized like a student's."""
    size = rng.uniform(0.45, 0.8) * canvas
    margin = size / 2 + 8
    pts = transform(wobble(SHAPE_STROKES[kind], rng), size=size, cx=rng.uniform(margin, canvas - margin),
                    cy=rng.uniform(margin, canvas - margin), slant=rng.uniform(-0.15, 0.15),
                    angle_deg=rng.uniform(-15, 15), aspect=rng.uniform(0.85, 1.15))
    return pts, int(rng.uniform(10, 26))


def shapes_set(n_per_class: int, seed: int) -> tuple[list[Image.Image], np.ndarray]:
    """Hand-drawn circles, squares and triangles as the canvas sends them (RGBA, ink in alpha)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k, kind in enumerate(SHAPE_STROKES):
        for _ in range(n_per_class):
            pts, width = shape_drawing(kind, rng)
            images.append(draw(pts, width, 280, mode="RGBA"))
            labels.append(k)
    return images, np.array(labels)


# Stroke fonts the project's own strokes were not drawn from (the Hershey fonts: single-line digits of 14 styles,
# sans, serif, script, italic, bold triplex, Greek and Cyrillic sets): a check on new hands.
STROKE_FONTS = ("futural", "futuram", "rowmans", "rowmand", "rowmant", "scripts", "scriptc", "cursive", "timesr",
                "timesi", "timesrb", "timesib", "greek", "cyrillic")


def font_strokes(font: str, digit: int) -> list[list[tuple[float, float]]]:
    """A digit of a Hershey stroke font as strokes in a unit box (y down), as :data:`STROKES` are."""
    from HersheyFonts import HersheyFonts

    h = HersheyFonts()
    h.load_default_font(font)
    h.normalize_rendering(100)  # y up, as the unit box flips it
    segments = list(h.strokes_for_text(str(digit)))
    pts = np.array([p for s in segments for p in s], float)
    lo, span = pts.min(0), (pts.max(0) - pts.min(0)).max()
    return [[((x - lo[0]) / span, 1 - (y - lo[1]) / span) for x, y in s] for s in segments]


def stroke_font_set(n_per_digit: int = 30, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    """Every digit of every :data:`STROKE_FONTS` font ``n_per_digit`` times: sizes 120-240 px, anywhere near the
    middle of a 280 px canvas, brushes 10-27 px, every other one dark ink on light paper."""
    images, labels = [], []
    for k, (strokes, width, digit) in enumerate(_font_digits(n_per_digit, np.random.default_rng(seed))):
        images.append(draw(strokes, width, 280, dark_on_light=bool(k % 2)))
        labels.append(digit)
    return images, np.array(labels)


def _font_digits(n_per_digit: int, rng: np.random.Generator):
    """(strokes in canvas pixels, brush width, digit) for every stroke font's digits, ``n_per_digit`` of each:
    sizes 120-240 px, anywhere near the middle of a 280 px canvas, brushes 10-27 px."""
    for font in STROKE_FONTS:
        for digit in range(10):
            unit = font_strokes(font, digit)
            for _ in range(n_per_digit):
                size, cx, cy = rng.uniform(120, 240), rng.uniform(100, 180), rng.uniform(100, 180)
                yield ([[(cx + (x - 0.5) * size, cy + (y - 0.5) * size) for x, y in s] for s in unit],
                       int(rng.integers(10, 28)), digit)


def pad_drawings(n_per_font_digit: int = 3, n_per_hand_digit: int = 10, seed: int = 0
                 ) -> tuple[list[tuple[list, int]], np.ndarray]:
    """Strokes (canvas pixels) and brush widths as students draw them on the Draw page's 280 px pad, for a browser
    to draw: every stroke font's digits, then the hand-made :data:`STROKES`, varied in size, place, slant,
    rotation and brush as in :func:`stroke_font_set` and :func:`drawn_set`."""
    rng = np.random.default_rng(seed)
    drawings, labels = [], []
    for strokes, width, digit in _font_digits(n_per_font_digit, rng):
        drawings.append((strokes, width))
        labels.append(digit)
    for digit, strokes in STROKES.items():
        for _ in range(n_per_hand_digit):
            size = rng.uniform(0.35, 0.85) * 280
            margin = size / 2 + 10
            pts = transform(strokes, size=size, cx=rng.uniform(margin * 0.7, 280 - margin * 0.7),
                            cy=rng.uniform(margin, 280 - margin) if 280 - margin > margin else 140,
                            slant=rng.uniform(-0.3, 0.3), angle_deg=rng.uniform(-12, 12), aspect=rng.uniform(0.8, 1.2))
            drawings.append((pts, max(4, int(rng.uniform(0.07, 0.16) * size))))
            labels.append(digit)
    return drawings, np.array(labels)
