"""Predictions: ``predict_on_batch`` for a few images (a compiled call, ~2 ms for one drawing, where
an eager model call takes ~20 ms and ``predict`` ~50 ms), eager calls batch by batch for many."""
from __future__ import annotations

from typing import Any

import numpy as np

from cnn.i18n import N_, _


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


class QuickReader:
    """A model's answer for one drawing at a time, at once, with its first layer's feature maps: the model in ONNX
    Runtime (made by the export path; about 0.3 ms for a digit model), else Keras.

    Why not Keras: Streamlit clears the Keras session after every script run (``keras.backend.clear_session``),
    and TensorFlow's next call then rebuilds its kernels: about 55 ms of both cores after each stroke, just when
    the browser paints the answer. ONNX Runtime keeps its own. The ONNX bytes are kept (:attr:`onnx`) for the
    browser to run the same file. A model the converter cannot translate, or whose converted answers differ, is
    read by Keras.
    """

    AGREEMENT = 1e-4  # largest difference in any class probability or activation on the probe images

    def __init__(self, model) -> None:
        from cnn import export, inspection, store

        self.model, self.onnx, self.runtime, self.why = model, b"", None, ""
        self.first: tuple[str, str] | None = None  # (name, type) of the layer whose maps come with each answer
        try:
            reference = store.float32_copy(model)  # as every saved model computes, and the export path converts
            net, first = _with_first_maps(reference, inspection.feature_map_layers(reference))
            data = export.convert(net, "onnx")
            runtime = export.Runtime("onnx", data)
            probe = np.random.default_rng(0).random((4, *model_input_shape(model)), dtype=np.float32)
            ours, theirs = runtime.outputs(probe), net.predict_on_batch(probe)
            theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
            difference = max(float(np.abs(a - np.asarray(b)).max()) for a, b in zip(ours, theirs, strict=True))
            if not difference <= self.AGREEMENT:
                raise export.ExportError(_("its ONNX answers differ from Keras' by {difference:.2g}",
                                           difference=difference))
            self.onnx, self.runtime = data, runtime
            self.first = (first.name, type(first).__name__) if first is not None else None
        except Exception as e:  # any converter or runtime failure: Keras reads the drawings, a little slower
            self.why = str(e) or type(e).__name__

    @property
    def engine(self) -> str:
        return "ONNX Runtime" if self.runtime is not None else "Keras"

    def read(self, x: np.ndarray):
        """(class probabilities, the first feature-map layer's :class:`~cnn.inspection.FeatureMaps` of ``x[0]``,
        or None when they do not come with the answer) for a few float images (N, H, W, C) in [0, 1]."""
        from cnn.inspection import FeatureMaps

        x = np.asarray(x, np.float32)
        if self.runtime is None:
            return predict_proba(self.model, x), None
        outs = self.runtime.outputs(x)
        maps = FeatureMaps(self.first[0], self.first[1], outs[1][0]) if self.first and len(outs) > 1 else None
        return outs[0], maps

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for a few float images (N, H, W, C) in [0, 1]."""
        return self.read(x)[0]


def _with_first_maps(model, layers: list):
    """``model`` with its first feature-map layer's output as a second output (the model alone, and None, when it
    has none or that layer sits inside a nested model)."""
    import keras

    if layers:
        try:
            return keras.Model(model.inputs, [model.outputs[0], layers[0].output], name="with_maps"), layers[0]
        except Exception:  # a layer of a nested model (a transfer model's base) is not an output of this graph
            pass
    return model, None


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
