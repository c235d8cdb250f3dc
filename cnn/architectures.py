"""Architectures as plain data: a spec is a list of JSON-serialisable dicts, one per layer.

A spec is validated in pure Python (instantly, naming the offending layer) before Keras
builds anything; :func:`build_model` turns it into a functional Keras model from
``keras.Input`` with readable layer names, and :func:`to_keras_code` into Python that
rebuilds the same model. The output layer ``Dense(num_classes, softmax)`` is always added
by the builder, so a spec describes the hidden layers only. What each layer kind is, is
defined once in :mod:`cnn.layers`; this module only walks a spec through that registry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cnn import presets
from cnn.i18n import _
from cnn.layers import ACTIVATIONS, KINDS, PADDINGS, SpecError  # noqa: F401  (re-exported for callers)

Spec = list[dict[str, Any]]
MAX_LAYERS = 200
MAX_PARAMS = 50_000_000


@dataclass(frozen=True)
class LayerShape:
    """A validated layer: its readable Keras name, output shape (without the batch axis) and parameters."""

    index: int
    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int = 0


def preset(name: str) -> Spec:
    """A fresh copy of a preset's layers, safe to edit (the registry is :mod:`cnn.presets`)."""
    return presets.get(name).spec()


def new_layer(layer_type: str) -> dict[str, Any]:
    """A layer of the given kind with its default settings."""
    if layer_type not in KINDS:
        raise SpecError(_("Unknown layer type '{layer_type}'.", layer_type=layer_type))
    return KINDS[layer_type].defaults()


def layer_names(spec: Spec) -> list[str]:
    """Readable Keras layer names: conv1, pool1, bn1, dense1, ... in order of appearance."""
    counts: dict[str, int] = {}
    names = []
    for layer in spec:
        kind = KINDS.get(layer.get("type")) if isinstance(layer, dict) else None
        prefix = kind.prefix if kind else "layer"
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names


def _checked(spec: Spec) -> list[dict[str, Any]]:
    """Every layer's kind and settings, checked (SpecError names the first bad layer)."""
    if not isinstance(spec, list) or not spec:
        raise SpecError(_("The model has no layers. Add at least one layer."))
    if len(spec) > MAX_LAYERS:
        raise SpecError(_("The model has {n_spec} layers; the limit is {max_layers}.",
                          n_spec=len(spec), max_layers=MAX_LAYERS))
    out = []
    for i, (layer, name) in enumerate(zip(spec, layer_names(spec), strict=True)):
        if not isinstance(layer, dict) or layer.get("type") not in KINDS:
            kind = layer.get("type") if isinstance(layer, dict) else layer
            raise SpecError(_("Layer {i}: unknown layer type {kind!r}; use one of {join}.",
                              i=i + 1, kind=kind, join=', '.join(KINDS)), i)
        kind = KINDS[layer["type"]]
        where = _("Layer {i} ({name}, {type})", i=i + 1, name=name, type=kind.type)
        out.append({"kind": kind, "name": name, "where": where, "values": kind.checked(layer, where, i)})
    return out


def validate(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10) -> list[LayerShape]:
    """Check a spec and infer every layer's output shape; raise :class:`SpecError` naming the layer."""
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise SpecError(_("Input shape must be (height, width, channels), got {input_shape}.", input_shape=input_shape))
    shape: tuple[int, ...] = tuple(int(s) for s in input_shape)
    out: list[LayerShape] = []
    total = 0
    for i, item in enumerate(_checked(spec)):
        kind, where = item["kind"], item["where"]
        spatial = len(shape) == 3
        if kind.needs == "spatial" and not spatial:
            raise SpecError(_("{where}: {lower} needs feature maps (an image-shaped input), but the previous layer "
                              "outputs a flat vector {shape}. Move it before Flatten/Dense, or remove it.",
                              where=where, lower=kind.title.lower(), shape=shape), i)
        if kind.needs == "flat" and spatial:
            raise SpecError(_("{where}: a dense layer needs a flat input, but it gets feature maps {shape}. Add "
                              "Flatten or Global average pooling before it.", where=where, shape=shape), i)
        new_shape = kind.output_shape(item["values"], shape, where, i)
        params = kind.params(item["values"], shape, new_shape)
        total += params
        if total > MAX_PARAMS:
            raise SpecError(_("{where}: the model would have over 50 million parameters, too many to train here. Use "
                              "fewer filters or units, or pool before Flatten.", where=where), i)
        shape = new_shape
        out.append(LayerShape(i, item["name"], kind.type, shape, params))
    if len(shape) == 3:
        raise SpecError(_("The last layer outputs feature maps; end with Flatten or Global average pooling "
                          "(the output Dense layer is added for you)."), len(spec) - 1)
    if num_classes < 2:
        raise SpecError(_("The dataset must have at least 2 classes, got {num_classes}.", num_classes=num_classes))
    return out


def summary(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10) -> list[dict[str, Any]]:
    """The model summary of the model :func:`build_model` makes (layer, Keras type, output shape, parameters, as
    :func:`cnn.inspection.layer_table` reads them from Keras), computed without Keras: the Train page shows it before
    TensorFlow is imported (3-4 s of a server's first page). A residual block is one row."""
    def shape_str(shape: tuple) -> str:
        return "(" + ", ".join(str(s) for s in ("None", *shape)) + ")"

    shapes = validate(spec, input_shape, num_classes)
    rows = [{"layer": "image", "type": "InputLayer", "output_shape": shape_str(tuple(input_shape)), "params": 0}]
    rows += [{"layer": s.name, "type": KINDS[s.type].keras_type, "output_shape": shape_str(s.output_shape),
              "params": s.params} for s in shapes]
    rows.append({"layer": "predictions", "type": "Dense", "output_shape": shape_str((num_classes,)),
                 "params": (shapes[-1].output_shape[0] + 1) * num_classes})
    return rows


def count_params(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10) -> int:
    """Parameters of the model :func:`build_model` makes, computed without Keras."""
    shapes = validate(spec, input_shape, num_classes)
    return sum(s.params for s in shapes) + (shapes[-1].output_shape[0] + 1) * num_classes


def build_model(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10, name: str = "cnn",
                dtype: str | None = None):
    """Build the functional Keras model for a validated spec (output Dense+softmax added).

    ``dtype`` "mixed_bfloat16" computes hidden layers in bfloat16 (about twice as fast on CPUs
    with AMX/AVX-512 BF16) while weights and the softmax output stay float32.
    """
    import keras

    validate(spec, input_shape, num_classes)
    layers = _Layers(dtype)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for item in _checked(spec):
        x = item["kind"].build(item["values"], item["name"], x, layers)
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


def to_keras_code(spec: Spec, input_shape: tuple[int, int, int], num_classes: int = 10,
                  compile_fit: str = "") -> str:
    """Readable Keras Python that rebuilds exactly this model (plus an optional compile/fit block)."""
    validate(spec, input_shape, num_classes)
    lines = ["import keras", "from keras import layers", "",
             f"inputs = keras.Input(shape={tuple(input_shape)}, name=\"image\")", "x = inputs"]
    for item in _checked(spec):
        lines += item["kind"].code(item["values"], item["name"])
    lines += [f'outputs = layers.Dense({num_classes}, activation="softmax", name="predictions")(x)',
              'model = keras.Model(inputs, outputs, name="cnn")', "model.summary()"]
    if compile_fit:
        lines += ["", compile_fit]
    return "\n".join(lines) + "\n"


def spec_from_model(model) -> Spec | None:
    """Recover a spec from a Keras model made of one chain of layers (as :func:`build_model` makes them);
    None when it has layers or branches that no registered kind describes.

    Walks the model's graph (from its public config) from the input: a layer with one consumer is read
    by the kinds' ``read``; a branch is read as a residual block when it is exactly that kind's pattern.
    """
    from keras import layers

    try:
        config = model.get_config()
        entries = config["layers"]
    except (AttributeError, KeyError, TypeError, NotImplementedError):
        return None
    consumers: dict[str, list[str]] = {}
    for entry in entries:
        for parent in _parents(entry.get("inbound_nodes", [])):
            consumers.setdefault(parent, []).append(entry["name"])
    by_name = {layer.name: layer for layer in model.layers}
    last = model.layers[-1].name
    spec: Spec = []
    current = model.layers[0].name
    while True:
        nexts = consumers.get(current, [])
        if nexts == [last]:
            return spec or None
        if len(nexts) == 1:
            read = next((r for r in (k.read(by_name[nexts[0]]) for k in KINDS.values()) if r), None)
            if read is None:
                return None
            spec.append(read)
            current = nexts[0]
            continue
        block = _read_residual(nexts, consumers, by_name, layers)
        if block is None:
            return None
        spec.append(block[0])
        current = block[1]


def _parents(node: Any) -> list[str]:
    """Names of the layers whose outputs feed a layer, from its config's ``inbound_nodes``."""
    found: list[str] = []
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if node.get("class_name") == "__keras_tensor__" else None
        if history:
            found.append(history[0])
        else:
            for v in node.values():
                found += _parents(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            found += _parents(v)
    return found


def _read_residual(branches: list[str], consumers: dict[str, list[str]], by_name: dict, layers):
    """(spec, name of its last layer) when ``branches`` are the Residual kind's pattern, else None."""
    if len(branches) != 2:
        return None
    for conv1 in branches:
        other = branches[1 - branches.index(conv1)]
        after = consumers.get(conv1, [])
        if not isinstance(by_name[conv1], layers.Conv2D) or len(after) != 1:
            continue
        conv2 = after[0]
        add = consumers.get(conv2, [])
        if not isinstance(by_name[conv2], layers.Conv2D) or len(add) != 1 or not isinstance(by_name[add[0]],
                                                                                               layers.Add):
            continue
        projection = None
        if other != add[0]:  # the shortcut goes through a 1x1 convolution first
            if consumers.get(other, []) != add or not isinstance(by_name[other], layers.Conv2D):
                return None
            projection = by_name[other]
        act = consumers.get(add[0], [])
        if len(act) != 1 or not isinstance(by_name[act[0]], layers.Activation):
            return None
        read = KINDS["residual"].read_block(by_name[conv1], by_name[conv2], projection)
        return (read, act[0]) if read else None
    return None


def spec_json(spec: Spec) -> str:
    """Canonical JSON of a spec (stable key order), for caching and metadata."""
    return json.dumps(spec, sort_keys=True)
