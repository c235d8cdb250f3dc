"""Accuracy of a saved model on drawing-like digits: the numbers behind the Draw page.

    python scripts/drawn_accuracy.py [--model mnist] [--n 50]

Two sets, both through the Draw page's own preprocessing (cnn.preprocess.preprocess_digit):
- strokes: digits drawn from stroke paths with a round brush at canvas scale (tests/drawn_digits.py):
  different sizes, places, slants, rotations and brush widths; RGBA canvas, white on black, dark on light;
- the same drawings all white on black, and all as dark ink on light paper;
- photos of digits written on paper (tests/drawn_digits.py paper_photo): uneven light, grain, tinted paper,
  thin to thick pens in black, blue or grey, blur and JPEG;
- digits of stroke fonts the project's strokes were not drawn from (tests/drawn_digits.py stroke_font_set);
- handwriting at canvas scale: real MNIST test digits (the data folder's, else the bundled sample), enlarged
  to 100-250 px, thickened like a brush stroke, placed off-centre on a 280×280 canvas, half dark on light.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from cnn import dataset_sources, preprocess, store  # noqa: E402
from cnn.predict import predict_proba  # noqa: E402

from drawn_digits import drawn_set, on_paper, photo_set, stroke_font_set  # noqa: E402


def handwriting_at_canvas_scale(n: int, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    rng = np.random.default_rng(seed)
    ds = dataset_sources.load_dataset("mnist", allow_download=False)
    idx = rng.choice(len(ds.test_images), size=n, replace=False)
    images = []
    for k, i in enumerate(idx):
        digit = Image.fromarray(ds.test_images[i][..., 0])
        size = int(rng.uniform(100, 250))
        big = digit.resize((size, size), Image.Resampling.BICUBIC)
        big = big.filter(ImageFilter.MaxFilter(int(rng.choice([1, 3, 5]))))  # thicker, like a brush
        canvas = Image.new("L", (280, 280), 0)
        canvas.paste(big, (int(rng.uniform(0, 280 - size)), int(rng.uniform(0, 280 - size))))
        images.append(Image.eval(canvas, lambda v: 255 - v) if k % 2 else canvas)
    return images, ds.y_test[idx]


def accuracy(model, images, labels) -> float:
    x = np.concatenate([preprocess.preprocess_digit(im).model_input for im in images])
    return float(np.mean(predict_proba(model, x).argmax(1) == labels))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="mnist")
    p.add_argument("--n", type=int, default=50, help="stroke digits per class")
    args = p.parse_args()
    model = store.load_model(args.model)
    strokes, ys = drawn_set(args.n, seed=123)
    white = [im.getchannel("A") if im.mode == "RGBA" else im for im in strokes]
    white = [im if np.asarray(im).mean() < 128 else on_paper(im) for im in white]  # all white on black
    photos, yp = photo_set(args.n * 2, seed=5)
    hand, yh = handwriting_at_canvas_scale(20 * args.n)
    print(f"stroke-drawn digits, mixed canvas/white-on-black/dark-on-light ({len(ys)}): "
          f"{accuracy(model, strokes, ys):.2%}")
    print(f"the same drawings, all white on black ({len(ys)}): {accuracy(model, white, ys):.2%}")
    print(f"the same drawings, all dark ink on light paper ({len(ys)}): "
          f"{accuracy(model, [on_paper(im) for im in white], ys):.2%}")
    print(f"photos of digits written on paper ({len(yp)}): {accuracy(model, photos, yp):.2%}")
    print(f"handwriting at canvas scale ({len(yh)}): {accuracy(model, hand, yh):.2%}")
    fonts, yf = stroke_font_set(30, seed=0)
    print(f"digits of 14 stroke fonts never drawn from, half dark on light ({len(yf)}): "
          f"{accuracy(model, fonts, yf):.2%}")


if __name__ == "__main__":
    main()
