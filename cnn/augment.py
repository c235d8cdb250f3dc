"""Data augmentation: the one implementation used by training and by the Data page preview.

Random rotation, shift and zoom (plus horizontal flips for photos) as Keras preprocessing
layers, applied to whole batches inside the tf.data pipeline so they cost little.
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


def build_augmenter(params: AugmentParams, seed: int | None = None):
    """A Keras Sequential of random layers; active only when called with ``training=True``."""
    import keras
    from keras import layers

    fill = "constant"
    stack = []
    if params.rotation_deg:
        stack.append(layers.RandomRotation(params.rotation_deg / 360.0, fill_mode=fill, seed=seed, name="rotate"))
    if params.shift:
        # Whole-pixel moves ("nearest"): a bilinear move by a fraction of a pixel also blurs the image,
        # which test images never are (the classic random crop of CIFAR training moves whole pixels too).
        # The border comes back reflected, as in airbench's crops and in test-time augmentation (cnn/predict.py):
        # a photo keeps its colours to the edge; a digit's black margin stays black.
        stack.append(layers.RandomTranslation(params.shift, params.shift, fill_mode="reflect",
                                              interpolation="nearest", seed=seed, name="shift"))
    if params.zoom:
        stack.append(layers.RandomZoom((-params.zoom, params.zoom), fill_mode=fill, seed=seed, name="zoom"))
    if params.flip:
        stack.append(layers.RandomFlip("horizontal", seed=seed, name="flip"))
    return keras.Sequential(stack, name="augmentation")


def augment_images(images: np.ndarray, params: AugmentParams, seed: int = 0) -> np.ndarray:
    """Apply the training augmentation to float images (N, H, W, C); for previews and tests."""
    aug = build_augmenter(params, seed)
    if not aug.layers:
        return np.asarray(images, np.float32)
    out = aug(np.asarray(images, np.float32), training=True)
    return np.clip(np.asarray(out), 0.0, 1.0)
