"""The Draw page's reader of one drawing at a time: the model converted by the export path and run by ONNX
Runtime, its first layer's feature maps with each answer; Keras when the converter cannot."""
from __future__ import annotations

import keras
import numpy as np

from cnn import export, inspection, keras_files
from cnn.i18n import _
from cnn.inspection import FeatureMaps
from cnn.predict import model_input_shape, predict_proba


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
        self.model, self.onnx, self.runtime, self.why = model, b"", None, ""
        self.first: tuple[str, str] | None = None  # (name, type) of the layer whose maps come with each answer
        try:
            reference = keras_files.float32_copy(model)  # as every saved model computes, and the export path converts
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
    if layers:
        try:
            return keras.Model(model.inputs, [model.outputs[0], layers[0].output], name="with_maps"), layers[0]
        except Exception:  # a layer of a nested model (a transfer model's base) is not an output of this graph
            pass
    return model, None
