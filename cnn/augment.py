"""Data augmentation: the one implementation used by training and by the Data page preview.

Random rotation and zoom as Keras preprocessing layers, then random whole-pixel shifts (and left-right mirrors for
photos) as one gather per batch (:func:`windows`), applied to whole batches inside the tf.data pipeline so they cost
little. Small crops first (cnn/crops.py) reads its crops with the same gather.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentParams:
    """How strongly to distort training images; zero disables a transform."""

    rotation_deg: float = 10.0
    shift: float = 0.1
    zoom: float = 0.1
    flip: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def default_params(dataset: str) -> AugmentParams:
    """Sensible defaults: digits must not be flipped (a mirrored 7 is not a 7); photos may."""
    if dataset == "cifar10":
        return AugmentParams(rotation_deg=0.0, shift=0.0625, zoom=0.0, flip=True)  # 2 of 32 pixels, as airbench
    return AugmentParams()


def reflected(index, size: int):
    """Pixel indices of any integer value folded into 0..size-1 as a mirror folds them at the borders
    (-1 reads 1, size reads size-2: numpy's "reflect")."""
    import tensorflow as tf

    period = max(1, 2 * (size - 1))
    index = tf.math.floormod(index, period)
    return tf.where(index > size - 1, period - index, index)


def windows(images, rows, cols):
    """Each image of a batch (N, H, W, C) read at its own pixel rows (N, h) and columns (N, w): one gather that moves,
    crops and mirrors every image its own way. Keras' RandomTranslation resamples each image through a projective
    transform and RandomCrop crops a whole batch at one place; this took 1.0 s per epoch of CIFAR-10's 50,000 photos
    where RandomTranslation and RandomFlip took 3.3-4.0 s, on the 2 cores that also train (bench/augment_bench.py)."""
    import tensorflow as tf

    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    flat = (tf.range(n)[:, None, None] * h + rows[:, :, None]) * w + cols[:, None, :]
    return tf.gather(tf.reshape(images, (-1, images.shape[-1])), flat)


def mirrored(cols, mask):
    """Column indices (N, w) with the rows of the images where ``mask`` (N,) is true reversed: those images mirrored."""
    import tensorflow as tf

    return tf.where(mask[:, None], cols[:, ::-1], cols)


class AlternatingFlips:
    """Which images of each batch to mirror, as airbench mirrors them: in a run's first epoch a random half of the
    images (fixed by the seed), and from then on each image every other epoch, so that any two epochs in a row show
    every image both ways. Mirrors drawn at random each epoch show an image the same way two epochs running half the
    time. In airbench's ablations this took 94% on CIFAR-10 from 10.8 epochs to 9.9 (Keller Jordan, 2024).

    Called with each batch's image indices, batches in the order they are made (the pipeline makes them one at a
    time): it counts them to know the epoch. ``first_epoch``: the run's epoch its first batch belongs to."""

    def __init__(self, n_images: int, batches_per_epoch: int, seed: int, first_epoch: int = 0):
        import tensorflow as tf

        self.first = tf.constant(np.random.default_rng(seed).random(n_images) < 0.5)
        self.batches_per_epoch = max(1, int(batches_per_epoch))
        self.made = tf.Variable(first_epoch * self.batches_per_epoch, dtype=tf.int64, trainable=False)

    def __call__(self, indices):
        import tensorflow as tf

        epoch = (self.made.assign_add(1) - 1) // self.batches_per_epoch
        return tf.not_equal(tf.gather(self.first, indices), tf.equal(epoch % 2, 1))


def mirror_mask(n, generator, flips: AlternatingFlips | None, indices):
    """Which of a batch's ``n`` images to mirror: by ``flips`` when the batch's image indices are known, else half of
    them at random."""
    return flips(indices) if flips is not None and indices is not None else generator.uniform((n,)) < 0.5


def whole_pixels(moves):
    """Moves drawn evenly between two bounds, rounded to whole pixels: up to 2 pixels, moves of -2 and 2 come an
    eighth of the time each and -1, 0 and 1 a quarter each, as from Keras' RandomTranslation with "nearest" pixels."""
    import tensorflow as tf

    return tf.cast(tf.round(moves), tf.int32)


def random_shifts(shift: float, flip: bool, seed: int | None = None, flips: AlternatingFlips | None = None):
    """Each image of a batch moved by up to ``shift`` of its side each way, in whole pixels (:func:`whole_pixels`),
    its border reflected, and mirrored left-right when ``flip``: by ``flips`` (:class:`AlternatingFlips`) when given
    and called with the batch's image indices, else at random. Whole pixels: a move by a fraction of a pixel blurs,
    which test images never are. Reflected: a photo keeps its colours to the edge, a digit's black margin stays
    black; as airbench's crops and test-time augmentation (cnn/predict.py)."""
    import tensorflow as tf

    random = tf.random.Generator
    generator = random.from_seed(seed) if seed is not None else random.from_non_deterministic_state()

    def move(images, training: bool = True, indices=None):
        if not training:
            return images
        n, h, w = tf.shape(images)[0], images.shape[1], images.shape[2]
        rows = tf.range(h)[None] + whole_pixels(generator.uniform((n, 1), -shift * h, shift * h))
        cols = tf.range(w)[None] + whole_pixels(generator.uniform((n, 1), -shift * w, shift * w))
        cols = mirrored(cols, mirror_mask(n, generator, flips, indices)) if flip else cols
        return windows(images, reflected(rows, h), reflected(cols, w))

    return move


class Augmenter:
    """The training augmentation of :class:`AugmentParams`: Keras' random rotation and zoom, then
    :func:`random_shifts` (mirrors by ``flips`` when given); called on a batch with ``training=True``, as a Keras
    layer is, and with the batch's image indices in training."""

    def __init__(self, params: AugmentParams, seed: int | None = None, flips: AlternatingFlips | None = None):
        import keras
        from keras import layers

        stack = []
        if params.rotation_deg:
            stack.append(layers.RandomRotation(params.rotation_deg / 360.0, fill_mode="constant", seed=seed,
                                               name="rotate"))
        if params.zoom:
            stack.append(layers.RandomZoom((-params.zoom, params.zoom), fill_mode="constant", seed=seed, name="zoom"))
        self.keras = keras.Sequential(stack, name="augmentation") if stack else None
        self.move = random_shifts(params.shift, params.flip, seed, flips) if params.shift or params.flip else None

    def __call__(self, images, training: bool = True, indices=None):
        if self.keras is not None:
            images = self.keras(images, training=training)
        return self.move(images, training, indices) if self.move is not None else images

    @property
    def active(self) -> bool:
        """Whether it changes images at all."""
        return self.keras is not None or self.move is not None


def build_augmenter(params: AugmentParams, seed: int | None = None,
                    flips: AlternatingFlips | None = None) -> Augmenter:
    """The training augmentation of ``params``; changes images only when called with ``training=True``."""
    return Augmenter(params, seed, flips)


def augment_images(images: np.ndarray, params: AugmentParams, seed: int = 0) -> np.ndarray:
    """Apply the training augmentation to float images (N, H, W, C); for previews and tests."""
    aug = build_augmenter(params, seed)
    if not aug.active:
        return np.asarray(images, np.float32)
    out = aug(np.asarray(images, np.float32), training=True)
    return np.clip(np.asarray(out), 0.0, 1.0)
