"""cnn.inspection against references: layers applied by hand, raw weights, Grad-CAM's gradient."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from cnn import architectures as arch
from cnn import inspection


@pytest.fixture(scope="module")
def fast_model():
    return arch.build_model(arch.preset("fast"), (28, 28, 1))


def x_input(shape=(28, 28, 1), seed=0):
    return np.random.default_rng(seed).random((1, *shape), dtype=np.float32)


@pytest.mark.parametrize("preset", ["fast", "vgg"])  # vgg: batch norm, activations, global pooling
def test_feature_maps_equal_layers_applied_by_hand(preset):
    fast_model = arch.build_model(arch.preset(preset), (28, 28, 1))
    x = x_input()
    maps = {fm.layer: fm.maps for fm in inspection.feature_maps(fast_model, x)}
    h = tf.convert_to_tensor(x)
    for layer in fast_model.layers[1:]:
        h = layer(h, training=False)
        if layer.name in maps:
            np.testing.assert_allclose(maps[layer.name], np.asarray(h)[0], rtol=1e-4, atol=1e-5)
    assert list(maps) == [layer.name for layer in inspection.feature_map_layers(fast_model)]
    assert {"conv1", "pool1", "conv2"} <= set(maps)


def test_filters_are_the_layer_weights(fast_model):
    conv = inspection.conv_layers(fast_model)[0]
    kernel, bias = inspection.filters(conv)
    np.testing.assert_array_equal(kernel, conv.kernel.numpy())
    np.testing.assert_array_equal(bias, conv.bias.numpy())
    assert kernel.shape == (5, 5, 1, 8)


def test_a_whitened_convolution_shows_the_4x4_filters_it_applies_to_the_photo():
    model = arch.build_model(arch.preset("cifar_small"), (32, 32, 3))
    first = inspection.conv_layers(model)[0]
    assert first.name == "wconv1"
    kernel, bias = inspection.filters(first)
    assert kernel.shape == (4, 4, 3, 32) and bias.shape == (32,)
    x = x_input((32, 32, 3))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    by_hand = np.asarray(keras.ops.conv(padded, kernel, padding="valid")) + bias
    np.testing.assert_allclose(by_hand, np.asarray(first(x)), atol=1e-5)  # exactly what the layer computes


def _manual_grad_cam(model, x, k):
    conv = inspection.conv_layers(model)[-1]
    m = keras.Model(model.inputs, [conv.output, model.layers[-1].input])
    head = model.layers[-1]
    with tf.GradientTape() as tape:
        a, pre = m(x, training=False)
        score = (tf.matmul(pre, head.kernel) + head.bias)[:, k]
    g = tape.gradient(score, a)
    cam = tf.nn.relu(tf.reduce_sum(a * tf.reduce_mean(g, axis=(1, 2))[:, None, None, :], -1))[0]
    cam = tf.image.resize(cam[..., None], x.shape[1:3])[..., 0].numpy()
    return cam / cam.max() if cam.max() > 0 else cam


@pytest.mark.parametrize("k", [0, 3, 7])
def test_grad_cam_shape_range_and_class(fast_model, k):
    x = x_input()
    cam = inspection.grad_cam(fast_model, x, k)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() <= 1
    np.testing.assert_allclose(cam, _manual_grad_cam(fast_model, x, k), atol=1e-4)


def test_grad_cam_differs_between_classes(fast_model):
    x = x_input(seed=2)
    maps = [inspection.grad_cam(fast_model, x, k) for k in range(10)]
    assert len({m.round(4).tobytes() for m in maps}) > 1


def test_saliency_is_the_normalised_gradient_of_the_class_score():
    """Against a finite-difference reference: nudge single pixels and watch the class score (pre-softmax).
    LeNet (tanh, average pooling) is smooth, so central differences are accurate."""
    model = arch.build_model(arch.preset("lenet"), (28, 28, 1))
    x = x_input()
    s = inspection.saliency(model, x, 1)
    assert s.shape == (28, 28) and s.max() == pytest.approx(1.0) and s.min() >= 0
    logits = keras.Model(model.inputs, model.layers[-1].input)
    head = model.layers[-1]
    kernel, bias = (np.asarray(w, np.float64) for w in head.get_weights())

    def score(img):
        return float((np.asarray(logits(img), np.float64) @ kernel + bias)[0, 1])

    eps = 1e-2
    raw = {}
    for r, c in [(14, 14), (10, 16), (20, 8), (5, 5), (22, 20)]:
        up, down = x.copy(), x.copy()
        up[0, r, c, 0] += eps
        down[0, r, c, 0] -= eps
        raw[(r, c)] = abs(score(up) - score(down)) / (2 * eps)
    grads = np.array(list(raw.values()))
    sal = np.array([s[r, c] for r, c in raw])
    # saliency = |gradient| / max|gradient|: the ratios between pixels match the finite differences
    top = int(np.argmax(grads))
    np.testing.assert_allclose(sal / sal[top], grads / grads[top], atol=0.05)


@pytest.mark.parametrize("name,shape", [("tutorial", (28, 28, 1)), ("lenet", (28, 28, 1)), ("cifar", (32, 32, 3)),
                                        ("vgg", (28, 28, 1)), ("cifar_small", (32, 32, 3))])
def test_every_preset_is_inspectable(name, shape):
    model = arch.build_model(arch.preset(name), shape)
    x = x_input(shape)
    maps = inspection.feature_maps(model, x)
    assert maps and all(fm.maps.ndim == 3 for fm in maps)
    assert inspection.grad_cam(model, x, 0).shape == shape[:2]
    rows = inspection.layer_table(model)
    assert sum(r["params"] for r in rows) == model.count_params()


def test_model_without_conv_layers_gets_a_clear_message():
    model = arch.build_model([{"type": "flatten"}, {"type": "dense", "units": 8, "activation": "relu"}], (28, 28, 1))
    with pytest.raises(inspection.InspectionError, match="no convolutional layer"):
        inspection.feature_maps(model, x_input())
    with pytest.raises(inspection.InspectionError):
        inspection.grad_cam(model, x_input(), 0)


def test_sequential_upload_is_inspectable():
    seq = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    assert inspection.feature_maps(seq, x_input())[0].maps.shape == (26, 26, 4)
    assert inspection.grad_cam(seq, x_input(), 2).shape == (28, 28)


def test_mosaics():
    maps = np.random.default_rng(0).random((7, 7, 20)).astype(np.float32)
    img = inspection.mosaic(maps, cols=8, cell=28)
    assert img.dtype == np.uint8 and img.shape == (3 * 28 + 2 * 2, 8 * 28 + 7 * 2)
    assert inspection.mosaic(maps, cols=8, cell=48).shape == (3 * 48 + 2 * 2, 8 * 48 + 7 * 2)
    kernel = np.random.default_rng(1).normal(size=(3, 3, 3, 16)).astype(np.float32)
    assert inspection.kernel_mosaic(kernel).shape[-1] == 3
    assert inspection.kernel_mosaic(kernel, out_channel=2).shape[-1] == 3
    rgb = inspection.diverging_rgb(np.array([-1.0, 0.0, 1.0]))
    assert tuple(rgb[1]) == (255, 255, 255) and rgb[0][2] > rgb[0][0] and rgb[2][0] > rgb[2][2]


def test_bfloat16_models_are_inspectable():
    model = arch.build_model(arch.preset("vgg"), (28, 28, 1), dtype="mixed_bfloat16")
    x = x_input()
    assert inspection.feature_maps(model, x)[0].maps.dtype == np.float32
    cam = inspection.grad_cam(model, x, 3)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() <= 1
    assert inspection.filters(inspection.conv_layers(model)[0])[0].dtype == np.float32
