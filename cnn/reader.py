"""The Draw page's reader of one drawing at a time: the model converted by the export path and run by ONNX
Runtime, its first layer's feature maps with each answer; Keras when the converter cannot."""
from __future__ import annotations

import numpy as np

from cnn import export, inside, keras_files
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

    FORMAT = "layers-1"  # what the ONNX file holds (every shown layer's output, by name): part of its published name
    AGREEMENT = 1e-4  # largest difference in any class probability or activation (relative above 1) on the probes

    def __init__(self, model) -> None:
        self.model, self.onnx, self.runtime, self.why = model, b"", None, ""
        self.first: tuple[str, str] | None = None  # (name, type) of the layer whose maps come with each answer
        self.network: inside.Network | None = None  # every layer's output, for the Draw page's live view
        try:
            reference = keras_files.float32_copy(model)  # as every saved model computes, and the export path converts
            self.network = inside.describe(reference)
            first = next((e for e in self.network.layers[1:] if len(e["shape"]) == 3), None)
            self.first = (first["name"], first["type"]) if first else None
        except Exception as e:  # a model the live view cannot lay out (nested layers): only its answer is read
            self.why = str(e) or type(e).__name__
            return
        try:
            net = self.network.model
            data = inside.rename_onnx_outputs(export.convert(net, "onnx"), self.network.names)
            runtime = export.Runtime("onnx", data)
            probe = np.random.default_rng(0).random((4, *model_input_shape(model)), dtype=np.float32)
            ours, theirs = runtime.outputs(probe), net.predict_on_batch(probe)
            theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
            difference = max(float((np.abs(a - np.asarray(b)) / np.maximum(1.0, np.abs(b))).max())
                              for a, b in zip(ours, theirs, strict=True))
            if not difference <= self.AGREEMENT:
                raise export.ExportError(_("its ONNX answers differ from Keras' by {difference:.2g}",
                                           difference=difference))
            self.onnx, self.runtime = data, runtime
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
        if not self.first:
            return outs[0], None
        index = self.network.names.index(self.first[0])
        return outs[0], FeatureMaps(self.first[0], self.first[1], outs[index][0])

    def layers(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every shown layer's output for one image ``x`` (1, H, W, C), by layer name (the live view's values when
        the browser cannot compute them); empty when the model could not be laid out."""
        if self.network is None:
            return {}
        x = np.asarray(x[:1], np.float32)
        if self.runtime is not None:
            return inside.values(self.network, self.runtime.outputs(x))
        outs = self.network.model.predict_on_batch(x)
        return inside.values(self.network, outs if isinstance(outs, (list, tuple)) else [outs])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for a few float images (N, H, W, C) in [0, 1]."""
        return self.read(x)[0]

