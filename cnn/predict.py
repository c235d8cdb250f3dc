"""Predictions: ``predict_on_batch`` for a few images (a compiled call, ~2 ms for one drawing, where
an eager model call takes ~20 ms and ``predict`` ~50 ms), eager calls batch by batch for many. The Draw page's
faster reader of one drawing is :mod:`cnn.reader`."""
from __future__ import annotations

from typing import Any

import numpy as np

from cnn.i18n import N_


def predict_proba(model, x: np.ndarray, batch_size: int = 512, tta: int = 0) -> np.ndarray:
    """Class probabilities for float images (N, H, W, C) in [0, 1].

    ``tta`` (test-time augmentation, airbench's levels; :func:`tta_level` says which a model gets): 1 averages
    each image's probabilities with its left-right mirror image's; 2 also moves the image one pixel up-left
    and one down-right (borders reflected), each with its mirror, weighted a quarter each against the
    half of the unmoved pair.
    """
    x = np.asarray(x, np.float32)
    if tta >= 2:
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        h, w = x.shape[1:3]
        down_right, up_left = padded[:, :h, :w], padded[:, 2:, 2:]
        return (predict_proba(model, x, batch_size, 1) / 2 + predict_proba(model, up_left, batch_size, 1) / 4
                + predict_proba(model, down_right, batch_size, 1) / 4)
    if tta == 1:
        return (predict_proba(model, x, batch_size) + predict_proba(model, x[:, :, ::-1], batch_size)) / 2
    if len(x) <= 64:
        return np.asarray(model.predict_on_batch(x), np.float32)
    # Many images: the model called batch by batch, eagerly. ``predict`` would first trace a graph (0.1-0.2 s of
    # the test at the end of a one-epoch MNIST run, bench/README.md) for a single pass over the data.
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False), np.float32)
                           for i in range(0, len(x), batch_size)])


TTA_WORDS = {
    1: N_("each test image is predicted as it is and mirrored, and the two answers averaged"),
    2: N_("each test image is predicted as it is, mirrored, and moved by one pixel each way (mirrored too), and "
          "the answers averaged"),
}


def tta_level(meta: dict[str, Any] | None) -> int:
    """Test-time augmentation for a saved model (its metadata says how it was trained): 1 (mirror) for a
    model trained with left-right flips, 2 (mirror and one-pixel moves) if it was trained with shifts too,
    else 0. The same on the Evaluate page, in the command line's ``evaluate`` and in the test accuracy
    measured when training ends (bench/README.md has what each level adds on the shipped CIFAR-10 model)."""
    from cnn.augment import default_params

    config = (meta or {}).get("config") or {}
    if not config.get("augment"):
        return 0
    params = config.get("augment_params") or default_params(str(config.get("dataset", ""))).as_dict()
    if not params.get("flip"):
        return 0
    return 2 if params.get("shift") else 1


def model_input_shape(model) -> tuple[int, ...]:
    """(H, W, C) of a Keras model's single image input."""
    shape = tuple(model.inputs[0].shape[1:])
    return tuple(int(s) if s is not None else -1 for s in shape)


def model_num_classes(model) -> int:
    return int(model.outputs[0].shape[-1])


def top_k(probs: np.ndarray, class_names: tuple[str, ...] | list[str], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable (label, probability) pairs of one probability vector."""
    order = np.argsort(probs)[::-1][:k]
    return [(str(class_names[i]) if i < len(class_names) else str(i), float(probs[i])) for i in order]
