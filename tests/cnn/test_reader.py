"""cnn.reader: the Draw page's reader answers as Keras does, with the first layer's maps, or falls back to Keras."""
import numpy as np

from cnn import architectures, predict, store
from cnn.reader import QuickReader

from conftest import tiny_dataset
from needs import need

need("onnxruntime", "the export packages are not installed (requirements-export.txt)")


def test_the_shipped_digit_model_is_read_by_onnx_runtime_with_its_first_maps():
    model = store.load_model("mnist")
    reader = QuickReader(model)
    x = tiny_dataset().x_test[:3]
    probs, maps = reader.read(x[:1])
    assert reader.engine == "ONNX Runtime" and reader.onnx.startswith(b"\x08")  # an ONNX protobuf
    np.testing.assert_allclose(probs, predict.predict_proba(model, x[:1]), atol=1e-4)
    assert maps is not None and maps.layer == reader.first[0] and maps.maps.ndim == 3
    np.testing.assert_allclose(reader(x), predict.predict_proba(model, x), atol=1e-4)


def test_a_model_the_converter_cannot_translate_is_read_by_keras():
    gelu = architectures.build_model([{"type": "conv2d", "filters": 4, "kernel": 3, "stride": 1, "padding": "same",
                                       "activation": "gelu"}, {"type": "gap"}], (28, 28, 1))
    reader = QuickReader(gelu)
    x = tiny_dataset().x_test[:2]
    assert reader.engine == "Keras" and "Erfc" in reader.why and reader.onnx == b""
    probs, maps = reader.read(x)
    assert maps is None and probs.shape == (2, 10)
