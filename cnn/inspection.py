"""Looking inside a model: layer table, feature maps, filters, Grad-CAM and saliency.

All functions take a Keras model and plain arrays and return plain arrays, so the pages only
render. Layers are picked by type, never by name.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from cnn.errors import LabError
from cnn.i18n import _

_SPATIAL_SKIP = ("InputLayer", "Dropout", "SpatialDropout2D")
_extractors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class InspectionError(LabError, ValueError):
    """The model cannot be inspected this way; the message says why."""


def _shape_str(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def layer_table(model) -> list[dict]:
    """One row per layer: name, type, output shape and parameter count (like model.summary())."""
    rows = []
    for layer in model.layers:
        try:
            shape = _shape_str(layer.output.shape)
        except (AttributeError, ValueError):
            shape = "?"
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output_shape": shape,
                     "params": int(layer.count_params())})
    return rows


def conv_layers(model) -> list:
    """The model's convolution layers in order: Conv2D and its kinds, and CNN Lab's whitened convolution."""
    import keras

    from cnn.airbench import WhitenedConv2D

    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, WhitenedConv2D))]


def feature_map_layers(model) -> list:
    """Layers whose output is a stack of feature maps (conv, pooling, activation, batch norm)."""
    out = []
    for layer in model.layers:
        if type(layer).__name__ in _SPATIAL_SKIP:
            continue
        try:
            if len(layer.output.shape) == 4:
                out.append(layer)
        except (AttributeError, ValueError):
            continue
    return out


def _extractor(model):
    """A model returning every feature-map layer's output; built once per model."""
    import keras

    ex = _extractors.get(model)
    if ex is None:
        layers = feature_map_layers(model)
        if not conv_layers(model):
            raise InspectionError(_("This model has no convolutional layer, so it has no feature maps or filters "
                                    "to show. Try a preset such as 'fast' or 'tutorial'."))
        ex = keras.Model(model.inputs, [layer.output for layer in layers])
        _extractors[model] = ex
    return ex


@dataclass(frozen=True)
class FeatureMaps:
    """One layer's activations for one image: (H, W, C)."""

    layer: str
    type: str
    maps: np.ndarray


def feature_maps(model, x: np.ndarray) -> list[FeatureMaps]:
    """Activations of every feature-map layer for one input x of shape (1, H, W, C)."""
    ex = _extractor(model)
    outs = ex.predict_on_batch(np.asarray(x, np.float32))  # compiled: fast on every rerun
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    layers = feature_map_layers(model)
    return [FeatureMaps(layer.name, type(layer).__name__, np.asarray(o, np.float32)[0])
            for layer, o in zip(layers, outs, strict=True)]


def filters(layer) -> tuple[np.ndarray, np.ndarray | None]:
    """A conv layer's kernel (kh, kw, in, out) and bias, exactly the layer's weights; for a whitened convolution
    the 4×4 kernel and bias it computes with (its whitening and 3×3 kernel merged: filters of the image itself)."""
    from cnn.airbench import WhitenedConv2D

    if isinstance(layer, WhitenedConv2D):
        kernel, bias = layer.merged()
        return np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
    weights = layer.get_weights()
    if not weights:
        raise InspectionError(_("Layer {name} has no weights.", name=layer.name))
    return np.asarray(weights[0], np.float32), (np.asarray(weights[1], np.float32) if len(weights) > 1 else None)


def _logits_model(model, conv_layer):
    """Outputs (conv activations, class scores before softmax when the head is Dense+softmax)."""
    import keras

    head = model.layers[-1]
    if isinstance(head, keras.layers.Dense) and getattr(head.activation, "__name__", "") == "softmax":
        return keras.Model(model.inputs, [conv_layer.output, head.input]), head
    return keras.Model(model.inputs, [conv_layer.output, model.outputs[0]]), None


def _scores(head, pre):
    import tensorflow as tf

    pre = tf.cast(pre, tf.float32)  # bfloat16 models: score in float32
    if head is None:
        return pre
    kernel, bias = head.kernel, head.bias
    return tf.matmul(pre, tf.cast(kernel, tf.float32)) + (tf.cast(bias, tf.float32) if bias is not None else 0.0)


def grad_cam(model, x: np.ndarray, class_index: int, conv_layer=None) -> np.ndarray:
    """Grad-CAM heatmap (H, W) of the input's size, in [0, 1], for ``class_index``.

    Uses the last conv layer by default and the class score before softmax.
    """
    import tensorflow as tf

    convs = conv_layers(model)
    if not convs:
        raise InspectionError(_("Grad-CAM needs a convolutional layer; this model has none."))
    conv_layer = conv_layer or convs[-1]
    grad_model, head = _logits_model(model, conv_layer)
    xt = tf.convert_to_tensor(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        conv_out, pre = grad_model(xt, training=False)
        score = _scores(head, pre)[:, class_index]
    grads = tf.cast(tape.gradient(score, conv_out), tf.float32)  # (1, h, w, c)
    conv_out = tf.cast(conv_out, tf.float32)
    weights = tf.reduce_mean(grads, axis=(1, 2))  # (1, c)
    cam = tf.nn.relu(tf.reduce_sum(conv_out * weights[:, None, None, :], axis=-1))[0]
    cam = tf.image.resize(cam[..., None], xt.shape[1:3], method="bilinear")[..., 0].numpy()
    top = cam.max()
    return (cam / top if top > 0 else cam).astype(np.float32)


def saliency(model, x: np.ndarray, class_index: int) -> np.ndarray:
    """|d score / d pixel|, max over channels, normalised to [0, 1]: which pixels matter most."""
    import tensorflow as tf

    convs = conv_layers(model)
    grad_model, head = _logits_model(model, convs[-1] if convs else model.layers[-1])
    xt = tf.convert_to_tensor(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        _, pre = grad_model(xt, training=False)
        score = _scores(head, pre)[:, class_index]
    g = tf.reduce_max(tf.abs(tape.gradient(score, xt)), axis=-1)[0].numpy()
    top = g.max()
    return (g / top if top > 0 else g).astype(np.float32)


def mosaic(maps: np.ndarray, cols: int = 8, cell: int = 56, gap: int = 2, per_channel: bool = True) -> np.ndarray:
    """Tile (H, W, C) maps into one uint8 grey image, each channel scaled to its own range.

    One image per layer renders far faster in a browser than hundreds of small ones.
    """
    from PIL import Image

    maps = np.asarray(maps, np.float32)
    h, w, c = maps.shape
    rows = -(-c // cols)
    ch, cw = max(1, round(h * cell / max(h, w))), max(1, round(w * cell / max(h, w)))  # each map ~cell px
    out = np.full((rows * (ch + gap) - gap, min(c, cols) * (cw + gap) - gap), 40, np.uint8)
    lo_all, hi_all = float(maps.min()), float(maps.max())
    for k in range(c):
        m = maps[..., k]
        lo, hi = (float(m.min()), float(m.max())) if per_channel else (lo_all, hi_all)
        norm = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        tile = np.asarray(Image.fromarray((norm * 255).astype(np.uint8)).resize((cw, ch), Image.Resampling.NEAREST))
        r, q = divmod(k, cols)
        out[r * (ch + gap):r * (ch + gap) + ch, q * (cw + gap):q * (cw + gap) + cw] = tile
    return out


def diverging_rgb(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Map values to RGB uint8, blue (negative) – white (zero) – red (positive), centred on zero."""
    v = np.asarray(values, np.float32)
    m = float(limit if limit is not None else np.abs(v).max()) or 1.0
    t = np.clip(v / m, -1, 1)[..., None]
    white, red, blue = np.array([1, 1, 1]), np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.3, 0.8])
    rgb = np.where(t >= 0, white + t * (red - white), white + (-t) * (blue - white))
    return (rgb * 255).astype(np.uint8)


def kernel_mosaic(kernel: np.ndarray, out_channel: int | None = None, cell: int = 42, gap: int = 3) -> np.ndarray:
    """Filters as an RGB image. First-layer RGB kernels as colour images; otherwise, for one output
    channel, its kernel slice for every input channel in a diverging colour scale centred on zero."""
    from PIL import Image

    _kh, _kw, cin, cout = kernel.shape
    if out_channel is None and cin == 3:
        tiles = []
        for k in range(cout):
            f = kernel[..., k]
            f = (f - f.min()) / (f.max() - f.min() + 1e-8)
            tiles.append((f * 255).astype(np.uint8))
    elif out_channel is None:
        limit = float(np.abs(kernel).max())
        tiles = [diverging_rgb(kernel[:, :, 0, k], limit) for k in range(cout)]
    else:
        limit = float(np.abs(kernel[..., out_channel]).max())
        tiles = [diverging_rgb(kernel[:, :, i, out_channel], limit) for i in range(cin)]
    cols = min(16, len(tiles))
    rows = -(-len(tiles) // cols)
    out = np.full((rows * (cell + gap) - gap, cols * (cell + gap) - gap, 3), 235, np.uint8)
    for n, tile in enumerate(tiles):
        big = np.asarray(Image.fromarray(tile).resize((cell, cell), Image.Resampling.NEAREST))
        r, q = divmod(n, cols)
        out[r * (cell + gap):r * (cell + gap) + cell, q * (cell + gap):q * (cell + gap) + cell] = big
    return out


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0, 1] heatmap (jet-like colours) over an image; returns RGB uint8."""
    img = np.asarray(image, np.float32)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    h = np.clip(heat, 0, 1)[..., None]
    jet = np.concatenate([np.clip(1.5 - np.abs(4 * h - 3), 0, 1), np.clip(1.5 - np.abs(4 * h - 2), 0, 1),
                          np.clip(1.5 - np.abs(4 * h - 1), 0, 1)], axis=-1)
    return (np.clip((1 - alpha) * img + alpha * jet, 0, 1) * 255).astype(np.uint8)
