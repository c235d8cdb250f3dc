"""Small crops first: the first epochs of a run train on random crops of 3/4 of each image's side.

A network that ends in global pooling has the same weights for images of any size, and each of its convolutions
costs in proportion to the pixels it reads. So its first epochs can train on crops, 24×24 of CIFAR's 32×32 photos
(each image cropped at its own random place, and mirrored when the augmentation mirrors), at about 0.55× the work
per photo, and its last epochs and testing read whole images. The crops keep the photos' scale (nothing is
resized), so what the network learns on them holds on whole photos. CIFAR small's recipe trains its first 40% of
epochs so (AMD EPYC, AVX2, float32, its whitening merged into its first convolution): an epoch on crops took 24.5 s
and a whole one 43 s, and 16 epochs, 6 on crops, read 88.16% and 87.86% of test photos (seeds 42, 43) in 9.8-10.1
min, where 13 whole epochs, as many as fit 10 minutes, read 87.93% (seed 42; bench/README.md, "small crops first").

:func:`crop_view` is the network that trains on the crops: the same layers and weights, on an input of any size.
"""
from __future__ import annotations

from typing import Any

CROP_SIDE = 0.75  # a crop's side as a share of the image's
EPOCH_COST = 0.57  # an epoch on crops against a whole one: CIFAR small on the AVX2 EPYC, 24.5 s against 43 s


def crop_side(image_shape: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of the crops of images of ``image_shape`` (H, W, C)."""
    return max(1, round(image_shape[0] * CROP_SIDE)), max(1, round(image_shape[1] * CROP_SIDE))


def crop_epochs(share: float, epochs: int) -> int:
    """How many of ``epochs``, from the first, train on crops: ``share`` of them, rounded, and never the last."""
    return max(0, min(round(share * epochs), epochs - 1)) if share > 0 else 0


def fits(spec: list[dict[str, Any]], image_shape: tuple[int, int, int], num_classes: int) -> bool:
    """Whether the network of ``spec`` has the same weights on crops as on whole images (it ends in global pooling,
    not Flatten) and its pooling leaves something of a crop."""
    from cnn import architectures

    try:
        whole = architectures.validate(spec, image_shape, num_classes)
        crop = architectures.validate(spec, (*crop_side(image_shape), image_shape[2]), num_classes)
    except architectures.SpecError:
        return False
    return [s.params for s in whole] == [s.params for s in crop] and whole[-1].output_shape == crop[-1].output_shape


def crop_view(model):
    """``model`` on images of any size: the very same layers (and so weights), for training on crops."""
    import keras

    image = keras.Input((None, None, model.input_shape[-1]), name=model.inputs[0].name)
    return keras.models.clone_model(model, input_tensors=image, clone_function=lambda layer: layer)


def random_crops(side: tuple[int, int], flip: bool, seed: int, flips: Any = None):
    """The training pipeline's augmentation for the crop epochs: each image of a batch (N, H, W, C) cropped to
    ``side`` at its own random place, and mirrored left-right when ``flip`` (by ``flips``, a
    :class:`cnn.augment.AlternatingFlips`, when given, else at random); read by the augmentation's gather
    (:func:`cnn.augment.windows`). Keras' RandomCrop crops a whole batch at one place."""
    import tensorflow as tf

    from cnn import augment

    generator = tf.random.Generator.from_seed(seed)
    ch, cw = side

    def crop(images, training: bool = True, indices=None):
        n = tf.shape(images)[0]
        rows = tf.range(ch)[None] + generator.uniform((n, 1), 0, images.shape[1] - ch + 1, tf.int32)
        cols = tf.range(cw)[None] + generator.uniform((n, 1), 0, images.shape[2] - cw + 1, tf.int32)
        cols = augment.mirrored(cols, augment.mirror_mask(n, generator, flips, indices)) if flip else cols
        return augment.windows(images, rows, cols)

    return crop
