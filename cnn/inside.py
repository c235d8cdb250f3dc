"""Inside the network: a model laid out layer by layer for the Draw page's live view.

:func:`describe` turns a Keras model into what the browser needs to show every layer while the pen moves and to
explain any value in it: one model whose outputs are every shown layer's output, named by Keras' layer names (the
final layer first, so output 0 stays the class probabilities); a plain description of each shown layer (kind, shape,
which layer feeds it, kernel size, strides, padding, activation); and the weights the arithmetic needs as one
float32 file, each filter and each unit's weights contiguous, so the browser fetches only the one it explains.
Layers that change nothing when reading (Dropout, Flatten) are not shown: a layer after them reads their source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Layers that pass their input on unchanged when the model reads (Flatten only reshapes: a dense layer after it reads
# its source's values in the same order, row by row, channel fastest).
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                "AlphaDropout", "Flatten", "Reshape", "RandomFlip", "RandomRotation", "RandomZoom",
                "RandomTranslation", "RandomContrast", "RandomBrightness")
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "gelu", "elu", "selu", "silu",
               "swish")  # the ones the browser computes (static/cnnlab/inside.mjs)
INPUT = "input"  # a layer's source when it reads the model's input


@dataclass
class Network:
    """A model laid out for the live view: ``model`` (Keras, float32) returns :attr:`names`' outputs in order,
    ``layers`` describes each shown layer (the input first), ``weights`` is the float32 file their offsets point
    into."""

    model: Any
    names: list[str]
    layers: list[dict[str, Any]]
    weights: bytes = b""

    def manifest(self) -> list[dict[str, Any]]:
        """The layers as the browser reads them (JSON-ready)."""
        return self.layers


@dataclass
class _Weights:
    """Float32 arrays appended one after another; offsets count floats."""

    parts: list[np.ndarray] = field(default_factory=list)
    size: int = 0

    def add(self, array: np.ndarray) -> int:
        a = np.ascontiguousarray(array, dtype="<f4").ravel()
        self.parts.append(a)
        self.size += a.size
        return self.size - a.size

    def bytes(self) -> bytes:
        return b"".join(p.tobytes() for p in self.parts)


def _activation(fn: Any) -> str:
    """An activation's name as the browser computes it ("other" when it cannot)."""
    name = getattr(fn, "__name__", None) or (fn if isinstance(fn, str) else "")
    return name if name in ACTIVATIONS else "other"


def _shape(tensor) -> list[int]:
    return [int(s) for s in tensor.shape[1:]]


def _source(tensor, shown: set[str]) -> str:
    """The shown layer whose output ``tensor`` is, looking through pass-through layers; INPUT for the model's input,
    "" when it cannot be told (a layer inside a nested model)."""
    for _hop in range(1000):
        history = getattr(tensor, "_keras_history", None)
        op = history[0] if history else None
        if op is None or type(op).__name__ == "InputLayer":
            return INPUT
        if op.name in shown:
            return op.name
        if type(op).__name__ not in PASS_THROUGH:
            return ""
        tensor = op.input
    return ""


def _spatial(layer, cfg: dict[str, Any], size_key: str) -> dict[str, Any]:
    """Window size, strides and the zeros added before the first row and column (TensorFlow's 'same' rule)."""
    size = [int(s) for s in cfg[size_key]]
    strides = [int(s) for s in (cfg.get("strides") or size)]
    pads = [0, 0]
    if cfg.get("padding") == "same":
        ins = _shape(layer.input)[:2]
        outs = _shape(layer.output)[:2]
        pads = [max((o - 1) * s + k - i, 0) // 2 for i, o, s, k in zip(ins, outs, strides, size, strict=True)]
    return {"size": size, "strides": strides, "pads": pads}


def _describe_layer(layer, weights: _Weights) -> dict[str, Any]:
    """The kind of a layer and what its arithmetic needs; kind "other" is shown without arithmetic."""
    kind = type(layer).__name__
    cfg = layer.get_config()
    if kind == "Conv2D" and tuple(cfg.get("dilation_rate", (1, 1))) == (1, 1) and cfg.get("groups", 1) == 1:
        kernel, *rest = layer.get_weights()
        bias = rest[0] if rest else np.zeros(kernel.shape[-1], np.float32)
        return {"kind": "conv", **_spatial(layer, cfg, "kernel_size"), "activation": _activation(layer.activation),
                "kernel": weights.add(np.transpose(kernel, (3, 0, 1, 2))), "bias": weights.add(bias),
                "fanIn": int(np.prod(kernel.shape[:3]))}
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return {"kind": "pool", "op": "max" if kind.startswith("Max") else "avg", **_spatial(layer, cfg, "pool_size")}
    if kind in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        return {"kind": "gpool", "op": "max" if "Max" in kind else "avg"}
    if kind == "Dense" and len(_shape(layer.input)) == 1:
        kernel, *rest = layer.get_weights()
        bias = rest[0] if rest else np.zeros(kernel.shape[-1], np.float32)
        return {"kind": "dense", "activation": _activation(layer.activation), "kernel": weights.add(kernel.T),
                "bias": weights.add(bias), "fanIn": int(kernel.shape[0])}
    if kind == "BatchNormalization" and cfg.get("axis") in (-1, [-1], [3], 3):
        gamma = np.asarray(layer.gamma if layer.scale else np.ones(layer.moving_mean.shape), np.float64)
        beta = np.asarray(layer.beta if layer.center else np.zeros(layer.moving_mean.shape), np.float64)
        scale = gamma / np.sqrt(np.asarray(layer.moving_variance, np.float64) + cfg["epsilon"])
        shift = beta - np.asarray(layer.moving_mean, np.float64) * scale
        return {"kind": "bn", "scale": weights.add(scale), "shift": weights.add(shift)}
    if kind == "Activation":
        return {"kind": "act", "activation": _activation(layer.activation)}
    if kind == "ReLU" and not cfg.get("max_value") and not cfg.get("threshold") and not cfg.get("negative_slope"):
        return {"kind": "act", "activation": "relu"}
    if kind == "LeakyReLU":
        slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
        return {"kind": "act", "activation": "leaky_relu", "slope": float(slope)}
    if kind == "Add":
        return {"kind": "add"}
    return {"kind": "other"}


def describe(model) -> Network:
    """``model`` laid out for the live view (see the module's docstring). Pass a float32 model
    (:func:`cnn.keras_files.float32_copy`): the weights are read as they compute."""
    import keras

    final = model.layers[-1]
    candidates = [layer for layer in model.layers if type(layer).__name__ not in ("InputLayer", *PASS_THROUGH)]
    shown = {layer.name for layer in candidates}
    weights = _Weights()
    layers: list[dict[str, Any]] = [{"name": INPUT, "type": "Input", "kind": "input",
                                     "shape": _shape(model.inputs[0]), "inputs": []}]
    outputs, names = [model.outputs[0]], [final.name]
    for layer in candidates:
        try:
            shape = _shape(layer.output)
        except (AttributeError, ValueError):
            continue
        inbound = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        entry = {"name": layer.name, "type": type(layer).__name__, "shape": shape,
                 "inputs": [_source(t, shown) for t in inbound], **_describe_layer(layer, weights)}
        if entry["kind"] == "dense" and entry["inputs"][0]:
            entry["sourceShape"] = _source_shape(layers, entry["inputs"][0])
        layers.append(entry)
        if layer is not final:
            outputs.append(layer.output)
            names.append(layer.name)
    names_in_order = {name: i for i, name in enumerate(names)}
    for entry in layers[1:]:
        entry["output"] = names_in_order[entry["name"]]
    net = keras.Model(model.inputs, outputs, name="inside")
    return Network(net, names, layers, weights.bytes())


def _source_shape(layers: list[dict[str, Any]], name: str) -> list[int]:
    for entry in layers:
        if entry["name"] == name:
            return entry["shape"]
    return []


def rename_onnx_outputs(data: bytes, names: list[str]) -> bytes:
    """An ONNX file whose outputs are called ``names`` (in order) instead of the converter's Identity_N:0."""
    import onnx

    proto = onnx.load_from_string(data)
    graph = proto.graph
    if len(graph.output) != len(names):
        raise ValueError(f"the ONNX file has {len(graph.output)} outputs, not {len(names)}")
    renames = {out.name: name for out, name in zip(graph.output, names, strict=True)}
    taken = {value.name for value in graph.value_info} | {node_out for node in graph.node for node_out in node.output}
    taken -= set(renames)
    clash = set(renames.values()) & (taken | {i.name for i in graph.input} | {i.name for i in graph.initializer})
    if clash:
        raise ValueError(f"the ONNX file already uses the names {sorted(clash)}")
    for node in graph.node:
        node.output[:] = [renames.get(o, o) for o in node.output]
        node.input[:] = [renames.get(i, i) for i in node.input]
    for out in graph.output:
        out.name = renames[out.name]
    return proto.SerializeToString()


def values(net: Network, outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The first image's output of each named layer, from the outputs of :attr:`Network.model` (Keras or ONNX)."""
    return {name: np.asarray(o, np.float32)[0] for name, o in zip(net.names, outputs, strict=True)}
