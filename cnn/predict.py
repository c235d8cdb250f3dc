"""Predictions: ``predict_on_batch`` for a few images (a compiled call, ~2 ms for one drawing, where
an eager model call takes ~20 ms and ``predict`` ~50 ms), batched ``predict`` for many."""
from __future__ import annotations

from typing import Any

import numpy as np


def predict_proba(model, x: np.ndarray, batch_size: int = 512, mirror: bool = False) -> np.ndarray:
    """Class probabilities for float images (N, H, W, C) in [0, 1].

    ``mirror``: average each image's probabilities with its left-right mirror image's (test-time
    augmentation, for models trained on mirrored images too; see :func:`mirrors_at_test`).
    """
    x = np.asarray(x, np.float32)
    if mirror:
        return (predict_proba(model, x, batch_size) + predict_proba(model, x[:, :, ::-1], batch_size)) / 2
    if len(x) <= 64:
        return np.asarray(model.predict_on_batch(x), np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def mirrors_at_test(meta: dict[str, Any] | None) -> bool:
    """True for a model trained with left-right flips (a saved model's metadata says so): its test-set
    predictions average each image and its mirror, the same on the Evaluate page, in the command line's
    ``evaluate`` and in the test accuracy measured when training ends."""
    from cnn.augment import default_params

    config = (meta or {}).get("config") or {}
    if not config.get("augment"):
        return False
    params = config.get("augment_params") or default_params(str(config.get("dataset", ""))).as_dict()
    return bool(params.get("flip"))


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
