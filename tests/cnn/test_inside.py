"""cnn.inside lays a model out for the Draw page's live view: which layers are shown, what feeds each, and weights
and windows that give back every value Keras computes (the browser redoes the same arithmetic)."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn import architectures, inside


def _built(spec, shape=(28, 28, 1)):
    keras.utils.set_random_seed(0)
    return architectures.build_model(spec, shape, 10)


def _outputs(net: inside.Network, x: np.ndarray) -> dict[str, np.ndarray]:
    outs = net.model.predict_on_batch(x)
    return inside.values(net, outs if isinstance(outs, (list, tuple)) else [outs])


def test_the_tutorial_network_is_laid_out_layer_by_layer():
    net = inside.describe(_built(architectures.preset("tutorial")))
    by_name = {e["name"]: e for e in net.layers}
    assert [e["name"] for e in net.layers] == ["input", "conv1", "pool1", "conv2", "pool2", "conv3", "dense1",
                                               "predictions"]  # Flatten and Dropout change nothing when reading
    assert net.names[0] == "predictions" and by_name["predictions"]["output"] == 0
    assert by_name["conv1"]["inputs"] == ["input"] and by_name["conv1"]["pads"] == [1, 1]
    assert by_name["dense1"]["inputs"] == ["conv3"] and by_name["dense1"]["sourceShape"] == [7, 7, 128]
    assert by_name["predictions"]["inputs"] == ["dense1"]  # through the dropout
    assert by_name["pool2"] == {**by_name["pool2"], "kind": "pool", "op": "max", "size": [2, 2], "strides": [2, 2]}
    assert len(net.weights) == 4 * sum(int(np.prod(w.shape)) for w in net.model.weights)


def _window_value(entry, src, weights, y, x, c):
    """One convolution value, computed as static/cnnlab/inside.mjs does."""
    kh, kw = entry["size"]
    (sy, sx), (py, px) = entry["strides"], entry["pads"]
    cin = src.shape[2]
    kernel = weights[entry["kernel"] + c * kh * kw * cin:entry["kernel"] + (c + 1) * kh * kw * cin].reshape(kh, kw, cin)
    padded = np.pad(src, ((py, kh), (px, kw), (0, 0)))
    patch = padded[y * sy:y * sy + kh, x * sx:x * sx + kw]
    return float((patch * kernel).sum() + weights[entry["bias"] + c])


@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, "same"), (4, 2, "same"), (2, 1, "valid"), (5, 2, "valid")])
def test_windows_and_weights_give_back_every_convolution_value(kernel, stride, padding):
    spec = [{"type": "conv2d", "filters": 4, "kernel": kernel, "stride": stride, "padding": padding,
             "activation": "linear"}, {"type": "batchnorm"}, {"type": "activation", "activation": "relu"},
            {"type": "gap"}]
    model = _built(spec)
    net = inside.describe(model)
    weights = np.frombuffer(net.weights, "<f4")
    x = np.random.default_rng(1).random((1, 28, 28, 1), np.float32)
    outs = _outputs(net, x)
    conv = next(e for e in net.layers if e["kind"] == "conv")
    h, w, _filters = conv["shape"]
    for y, xx, ch in [(0, 0, 0), (h - 1, w - 1, 3), (h // 2, 1, 2), (1, w - 1, 1)]:
        assert _window_value(conv, x[0], weights, y, xx, ch) == pytest.approx(float(outs["conv1"][y, xx, ch]),
                                                                               abs=1e-5)
    bn = next(e for e in net.layers if e["kind"] == "bn")
    scale, shift = weights[bn["scale"]:bn["scale"] + 4], weights[bn["shift"]:bn["shift"] + 4]
    np.testing.assert_allclose(outs["conv1"] * scale + shift, outs["bn1"], atol=1e-5)
    assert next(e for e in net.layers if e["kind"] == "act")["activation"] == "relu"


def test_the_onnx_file_names_its_outputs_after_the_layers():
    import onnx

    from cnn.reader import QuickReader

    reader = QuickReader(_built(architectures.preset("fast")))
    assert reader.onnx, reader.why
    assert [o.name for o in onnx.load_from_string(reader.onnx).graph.output] == reader.network.names
    x = np.random.default_rng(2).random((1, 28, 28, 1), np.float32)
    ours, theirs = reader.layers(x), _outputs(reader.network, x)
    assert set(ours) == set(theirs) == {"predictions", "conv1", "pool1", "conv2", "pool2", "dense1"}
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], atol=1e-5)
    probs, first = reader.read(x)
    assert first.layer == "conv1" and first.maps.shape == (24, 24, 8)
    np.testing.assert_allclose(probs[0], ours["predictions"], atol=1e-6)


def test_a_layer_the_view_cannot_explain_is_still_shown():
    inputs = keras.Input((28, 28, 1), name="image")
    y = keras.layers.DepthwiseConv2D(3, name="depthwise")(inputs)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="predictions")(y))
    net = inside.describe(model)
    assert {e["name"]: e["kind"] for e in net.layers} == {"input": "input", "depthwise": "other", "gap": "gpool",
                                                           "predictions": "dense"}
