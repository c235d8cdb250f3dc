"""Architectures as plain data: a spec is a list of JSON-serialisable dicts, one per layer.

A spec is validated in pure Python (instantly, naming the offending layer) before Keras
builds anything; :func:`build_model` turns it into a functional Keras model from
``keras.Input`` with readable layer names, and :func:`to_keras_code` into Python that
rebuilds the same model. The output layer ``Dense(num_classes, softmax)`` is always added
by the builder, so a spec describes the hidden layers only.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import Any

Spec = list[dict[str, Any]]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "linear")
PADDINGS = ("same", "valid")

def _conv_bn_relu(filters: int) -> list[dict[str, Any]]:
    """3x3 convolution, batch norm, ReLU: the block of the VGG-style presets."""
    return [{"type": "conv2d", "filters": filters, "kernel": 3, "stride": 1, "padding": "same", "activation": "linear"},
            {"type": "batchnorm"}, {"type": "activation", "activation": "relu"}]


# type -> (default parameters, one-line description for the editor)
LAYER_TYPES: dict[str, tuple[dict[str, Any], str]] = {
    "conv2d": ({"filters": 32, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
               "Convolution: slides learned filters over the image"),
    "maxpool": ({"size": 2}, "Max pooling: keeps the strongest response in each window"),
    "avgpool": ({"size": 2}, "Average pooling: averages each window"),
    "batchnorm": ({}, "Batch normalisation: rescales activations, speeds up training"),
    "activation": ({"activation": "relu"}, "Activation function on its own"),
    "dropout": ({"rate": 0.25}, "Dropout: randomly silences units while training"),
    "flatten": ({}, "Flatten: turns feature maps into one long vector"),
    "gap": ({}, "Global average pooling: one number per feature map"),
    "dense": ({"units": 128, "activation": "relu"}, "Fully connected layer"),
}

PRESETS: dict[str, Spec] = {
    # The classic Keras tutorial, layer for layer: 6,526,474 parameters on 28x28x1.
    "tutorial": [
        {"type": "conv2d", "filters": 32, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "conv2d", "filters": 64, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "conv2d", "filters": 128, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
        {"type": "flatten"},
        {"type": "dense", "units": 1024, "activation": "relu"},
        {"type": "dropout", "rate": 0.2},
    ],
    # Small and quick: no batch norm (slow on CPUs), 5x5 filters, one hidden dense layer.
    # With bfloat16 compute and label smoothing it passes 99% on MNIST in one epoch (bench/).
    "fast": [
        {"type": "conv2d", "filters": 32, "kernel": 5, "stride": 1, "padding": "valid", "activation": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "conv2d", "filters": 64, "kernel": 5, "stride": 1, "padding": "valid", "activation": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 128, "activation": "relu"},
    ],
    # LeNet-5 (LeCun et al. 1998) in a modern form: tanh, average pooling.
    "lenet": [
        {"type": "conv2d", "filters": 6, "kernel": 5, "stride": 1, "padding": "same", "activation": "tanh"},
        {"type": "avgpool", "size": 2},
        {"type": "conv2d", "filters": 16, "kernel": 5, "stride": 1, "padding": "valid", "activation": "tanh"},
        {"type": "avgpool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 120, "activation": "tanh"},
        {"type": "dense", "units": 84, "activation": "tanh"},
    ],
    # Small VGG-style network with batch norm, for CIFAR-10 (32x32x3) and the shipped models.
    # One convolution at full resolution (the costly one on a CPU), two per block after that.
    "cifar": [
        *_conv_bn_relu(32),
        {"type": "maxpool", "size": 2},
        *_conv_bn_relu(64),
        *_conv_bn_relu(64),
        {"type": "maxpool", "size": 2},
        *_conv_bn_relu(128),
        *_conv_bn_relu(128),
        {"type": "maxpool", "size": 2},
        {"type": "gap"},
    ],
}

# The small VGG of the shipped MNIST and Fashion-MNIST models: two convolutions per block.
PRESETS["vgg"] = [
    *_conv_bn_relu(32),
    *_conv_bn_relu(32),
    {"type": "maxpool", "size": 2},
    *_conv_bn_relu(64),
    *_conv_bn_relu(64),
    {"type": "maxpool", "size": 2},
    *_conv_bn_relu(128),
    {"type": "maxpool", "size": 2},
    {"type": "dropout", "rate": 0.2},
    {"type": "gap"},
    {"type": "dense", "units": 128, "activation": "relu"},
    {"type": "dropout", "rate": 0.3},
]

PRESET_TITLES = {
    "tutorial": "Tutorial (the classic Keras CNN, 6.5M parameters)",
    "fast": "Fast (small; 99% on MNIST in one epoch)",
    "lenet": "LeNet-5 (the 1998 classic)",
    "cifar": "CIFAR (small VGG with batch norm, for colour photos)",
    "vgg": "Small VGG (batch norm; the shipped MNIST and Fashion models)",
}


# Measured results shown next to a preset (bench/README.md has how they were measured).
PRESET_NOTES: dict[str, str] = {
    "fast": "Measured: 99.09–99.23% MNIST test accuracy after its default single epoch (3 seeds), "
            "7.1 s median training on 2 CPU cores with bfloat16 — 3.1× faster than the plain recipe.",
    "cifar": "Measured: 79.8% CIFAR-10 test accuracy after its default 10 epochs, 9.5 min on 2 CPU cores.",
    "tutorial": "The classic tutorial: about 34 s per epoch here with bfloat16 (82 s in plain float32 Keras).",
}


class SpecError(ValueError):
    """An invalid layer stack; ``index`` is the offending layer (or None for the whole spec)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class LayerShape:
    """A validated layer: its readable Keras name and output shape (without the batch axis)."""

    index: int
    name: str
    type: str
    output_shape: tuple[int, ...]


def preset(name: str) -> Spec:
    """A fresh copy of a preset spec, safe to edit."""
    try:
        return copy.deepcopy(PRESETS[name])
    except KeyError:
        raise SpecError(f"Unknown architecture '{name}'. Choose one of: {', '.join(PRESETS)}.") from None


def new_layer(layer_type: str) -> dict[str, Any]:
    """A layer of the given type with default parameters."""
    if layer_type not in LAYER_TYPES:
        raise SpecError(f"Unknown layer type '{layer_type}'.")
    return {"type": layer_type, **copy.deepcopy(LAYER_TYPES[layer_type][0])}


def _int_param(layer: dict, key: str, index: int, label: str, lo: int = 1, hi: int = 100_000) -> int:
    value = layer.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise SpecError(f"Layer {index + 1} ({label}): '{key}' must be a whole number, got {value!r}.", index)
    if not lo <= value <= hi:
        raise SpecError(f"Layer {index + 1} ({label}): '{key}' must be between {lo} and {hi:,}, got {int(value)}.", index)
    return int(value)


def _activation(layer: dict, index: int, label: str) -> str:
    act = layer.get("activation", "linear")
    if act not in ACTIVATIONS:
        raise SpecError(f"Layer {index + 1} ({label}): unknown activation '{act}'; "
                        f"use one of {', '.join(ACTIVATIONS)}.", index)
    return act


def _conv_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def layer_names(spec: Spec) -> list[str]:
    """Readable Keras layer names: conv1, pool1, bn1, dense1, ... in order of appearance."""
    prefixes = {"conv2d": "conv", "maxpool": "pool", "avgpool": "pool", "batchnorm": "bn",
                "activation": "act", "dropout": "dropout", "flatten": "flatten", "gap": "gap", "dense": "dense"}
    counts: dict[str, int] = {}
    names = []
    for layer in spec:
        prefix = prefixes.get(layer.get("type"), "layer")
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names


def validate(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10) -> list[LayerShape]:
    """Check a spec and infer every layer's output shape; raise :class:`SpecError` naming the layer."""
    if not isinstance(spec, list) or not spec:
        raise SpecError("The model has no layers. Add at least one layer.")
    if len(spec) > 200:
        raise SpecError(f"The model has {len(spec)} layers; the limit is 200.")
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise SpecError(f"Input shape must be (height, width, channels), got {input_shape}.")
    shape: tuple[int, ...] = tuple(int(s) for s in input_shape)
    names = layer_names(spec)
    out: list[LayerShape] = []
    params_estimate = 0
    for i, layer in enumerate(spec):
        if not isinstance(layer, dict) or layer.get("type") not in LAYER_TYPES:
            kind = layer.get("type") if isinstance(layer, dict) else layer
            raise SpecError(f"Layer {i + 1}: unknown layer type {kind!r}; "
                            f"use one of {', '.join(LAYER_TYPES)}.", i)
        t = layer["type"]
        label = f"{names[i]}, {t}"
        spatial = len(shape) == 3
        if t == "conv2d":
            if not spatial:
                raise SpecError(f"Layer {i + 1} ({label}): a convolution needs an image-shaped input, but the "
                                f"previous layer outputs a flat vector {shape}. Move it before Flatten/Dense.", i)
            filters = _int_param(layer, "filters", i, label, 1, 4096)
            k = _int_param(layer, "kernel", i, label, 1, 15)
            s = _int_param(layer, "stride", i, label, 1, 8)
            pad = layer.get("padding", "same")
            if pad not in PADDINGS:
                raise SpecError(f"Layer {i + 1} ({label}): padding must be 'same' or 'valid', got {pad!r}.", i)
            _activation(layer, i, label)
            h, w = _conv_out(shape[0], k, s, pad), _conv_out(shape[1], k, s, pad)
            if h < 1 or w < 1:
                raise SpecError(f"Layer {i + 1} ({label}): a {k}×{k} kernel with '{pad}' padding does not fit "
                                f"the {shape[0]}×{shape[1]} input; output would be {h}×{w}. "
                                "Use 'same' padding, a smaller kernel, or fewer pooling layers before it.", i)
            params_estimate += (k * k * shape[2] + 1) * filters
            shape = (h, w, filters)
        elif t in ("maxpool", "avgpool"):
            if not spatial:
                raise SpecError(f"Layer {i + 1} ({label}): pooling needs an image-shaped input, "
                                f"but it gets a flat vector {shape}.", i)
            p = _int_param(layer, "size", i, label, 1, 8)
            h, w = shape[0] // p, shape[1] // p
            if h < 1 or w < 1:
                raise SpecError(f"Layer {i + 1} ({label}): {p}×{p} pooling of a {shape[0]}×{shape[1]} feature map "
                                "leaves nothing (spatial size below 1). Remove a pooling layer or use a "
                                "smaller pool size.", i)
            shape = (h, w, shape[2])
        elif t == "dropout":
            rate = layer.get("rate")
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise SpecError(f"Layer {i + 1} ({label}): dropout rate must be at least 0 and below 1, got {rate!r}.", i)
        elif t == "activation":
            _activation(layer, i, label)
        elif t == "batchnorm":
            params_estimate += 4 * shape[-1]
        elif t in ("flatten", "gap"):
            if not spatial:
                raise SpecError(f"Layer {i + 1} ({label}): the input is already flat {shape}; remove this layer.", i)
            shape = (shape[0] * shape[1] * shape[2],) if t == "flatten" else (shape[2],)
        elif t == "dense":
            if spatial:
                raise SpecError(f"Layer {i + 1} ({label}): a dense layer needs a flat input, but it gets "
                                f"feature maps {shape}. Add Flatten or Global average pooling before it.", i)
            units = _int_param(layer, "units", i, label, 1, 65_536)
            _activation(layer, i, label)
            params_estimate += (shape[0] + 1) * units
            shape = (units,)
        if params_estimate > 50_000_000:
            raise SpecError(f"Layer {i + 1} ({label}): the model would have over 50 million parameters, "
                            "too many to train here. Use fewer filters or units, or pool before Flatten.", i)
        out.append(LayerShape(i, names[i], t, shape))
    if len(shape) == 3:
        raise SpecError("The last layer outputs feature maps; end with Flatten or Global average pooling "
                        "(the output Dense layer is added for you).", len(spec) - 1)
    if num_classes < 2:
        raise SpecError(f"The dataset must have at least 2 classes, got {num_classes}.")
    return out


def build_model(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10, name: str = "cnn",
                dtype: str | None = None):
    """Build the functional Keras model for a validated spec (output Dense+softmax added).

    ``dtype`` "mixed_bfloat16" computes hidden layers in bfloat16 (about twice as fast on CPUs
    with AMX/AVX-512 BF16) while weights and the softmax output stay float32.
    """
    import keras

    validate(spec, input_shape, num_classes)
    names = layer_names(spec)
    layers = _Layers(dtype)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for layer, lname in zip(spec, names):
        t = layer["type"]
        if t == "conv2d":
            x = layers.Conv2D(int(layer["filters"]), int(layer["kernel"]), strides=int(layer.get("stride", 1)),
                              padding=layer.get("padding", "same"), activation=_keras_act(layer.get("activation")),
                              name=lname)(x)
        elif t == "maxpool":
            x = layers.MaxPooling2D(int(layer["size"]), name=lname)(x)
        elif t == "avgpool":
            x = layers.AveragePooling2D(int(layer["size"]), name=lname)(x)
        elif t == "batchnorm":
            x = layers.BatchNormalization(momentum=0.9, name=lname)(x)  # quick to settle on short runs
        elif t == "activation":
            x = layers.Activation(_keras_act(layer["activation"]), name=lname)(x)
        elif t == "dropout":
            x = layers.Dropout(float(layer["rate"]), name=lname)(x)
        elif t == "flatten":
            x = layers.Flatten(name=lname)(x)
        elif t == "gap":
            x = layers.GlobalAveragePooling2D(name=lname)(x)
        elif t == "dense":
            x = layers.Dense(int(layer["units"]), activation=_keras_act(layer.get("activation")), name=lname)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


class _Layers:
    """``keras.layers`` with a dtype policy passed to every layer it makes."""

    def __init__(self, dtype: str | None):
        self.dtype = dtype

    def __getattr__(self, cls_name: str):
        import keras

        cls = getattr(keras.layers, cls_name)
        return (lambda *a, **k: cls(*a, dtype=self.dtype, **k)) if self.dtype else cls


def _keras_act(act: str | None) -> str:
    return "linear" if act in (None, "linear") else act


def _code_line(layer: dict, lname: str) -> str:
    t = layer["type"]
    if t == "conv2d":
        act = _keras_act(layer.get("activation"))
        return (f'layers.Conv2D({layer["filters"]}, ({layer["kernel"]}, {layer["kernel"]}), '
                f'strides={layer.get("stride", 1)}, padding="{layer.get("padding", "same")}", '
                f'activation="{act}", name="{lname}")')
    simple = {"maxpool": f'layers.MaxPooling2D(({layer.get("size")}, {layer.get("size")}), name="{lname}")',
              "avgpool": f'layers.AveragePooling2D(({layer.get("size")}, {layer.get("size")}), name="{lname}")',
              "batchnorm": f'layers.BatchNormalization(momentum=0.9, name="{lname}")',
              "activation": f'layers.Activation("{layer.get("activation")}", name="{lname}")',
              "dropout": f'layers.Dropout({layer.get("rate")}, name="{lname}")',
              "flatten": f'layers.Flatten(name="{lname}")',
              "gap": f'layers.GlobalAveragePooling2D(name="{lname}")',
              "dense": f'layers.Dense({layer.get("units")}, activation="{_keras_act(layer.get("activation"))}", '
                       f'name="{lname}")'}
    return simple[t]


def to_keras_code(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10,
                  compile_fit: str = "") -> str:
    """Readable Keras Python that rebuilds exactly this model (plus an optional compile/fit block)."""
    validate(spec, input_shape, num_classes)
    lines = ["import keras", "from keras import layers", "",
             f"inputs = keras.Input(shape={tuple(input_shape)}, name=\"image\")", "x = inputs"]
    for layer, lname in zip(spec, layer_names(spec)):
        lines.append(f"x = {_code_line(layer, lname)}(x)")
    lines += [f'outputs = layers.Dense({num_classes}, activation="softmax", name="predictions")(x)',
              'model = keras.Model(inputs, outputs, name="cnn")', "model.summary()"]
    if compile_fit:
        lines += ["", compile_fit]
    return "\n".join(lines) + "\n"


def spec_from_model(model) -> Spec | None:
    """Recover a spec from a Keras model built by :func:`build_model`; None if it has other layers."""
    from keras import layers

    spec: Spec = []
    for layer in model.layers[1:-1]:
        cfg = layer.get_config()
        if isinstance(layer, layers.Conv2D):
            k, s = cfg["kernel_size"], cfg["strides"]
            if k[0] != k[1] or s[0] != s[1]:
                return None
            spec.append({"type": "conv2d", "filters": cfg["filters"], "kernel": k[0], "stride": s[0],
                         "padding": cfg["padding"], "activation": _spec_act(cfg["activation"])})
        elif isinstance(layer, layers.MaxPooling2D):
            spec.append({"type": "maxpool", "size": cfg["pool_size"][0]})
        elif isinstance(layer, layers.AveragePooling2D):
            spec.append({"type": "avgpool", "size": cfg["pool_size"][0]})
        elif isinstance(layer, layers.BatchNormalization):
            spec.append({"type": "batchnorm"})
        elif isinstance(layer, layers.Activation):
            spec.append({"type": "activation", "activation": _spec_act(cfg["activation"])})
        elif isinstance(layer, layers.Dropout):
            spec.append({"type": "dropout", "rate": cfg["rate"]})
        elif isinstance(layer, layers.Flatten):
            spec.append({"type": "flatten"})
        elif isinstance(layer, layers.GlobalAveragePooling2D):
            spec.append({"type": "gap"})
        elif isinstance(layer, layers.Dense):
            spec.append({"type": "dense", "units": cfg["units"], "activation": _spec_act(cfg["activation"])})
        else:
            return None
    return spec


def _spec_act(act: Any) -> str:
    return act if isinstance(act, str) else "linear"


def spec_json(spec: Spec) -> str:
    """Canonical JSON of a spec (stable key order), for caching and metadata."""
    return json.dumps(spec, sort_keys=True)
