"""The Draw page's "Inside the network" view: every layer of the chosen model, live while the pen moves.

The view is a component of its own (``ui/inside_view.js``, Components v2, plain JavaScript). It paints what the
drawing pad's one ONNX Runtime Web call returns for every layer, so drawing costs the server nothing; a click on
any value shows its arithmetic, redone in the browser from the layer below and the model's weights
(:mod:`cnn.inside` lays the model out and writes the weights file, served beside the model's ONNX file). Where
the browser cannot run the model, the server sends every layer's values once the pen lifts (or for an upload).
"""
from __future__ import annotations

import base64
import functools
from typing import Any

import numpy as np
import streamlit as st

from cnn import export, i18n
from cnn.i18n import _
from cnn.reader import QuickReader
from ui.canvas import HERE
from ui.models import STATIC, static_url

HTML = ('<section class="inside" aria-labelledby="inside-title"><div class="inside-head">'
        '<h2 id="inside-title">Inside the network</h2>'
        '<button type="button" data-action="freeze" aria-pressed="false">Freeze</button></div>'
        '<p class="inside-note"></p><div class="inside-layers"></div>'
        '<div class="sr-only" role="status" aria-live="polite"></div></section>')


@functools.cache
def _view():
    """The view's component, registered once per server."""
    return st.components.v2.component("cnnlab_inside", html=HTML, css=(HERE / "inside_view.css").read_text(),
                                      js=(HERE / "inside_view.js").read_text(), isolate_styles=True)


def layer_titles() -> dict[str, str]:
    """Each Keras layer class the view may show, in the student's words (the layer editor's own titles)."""
    return {"Conv2D": _("Convolution"), "MaxPooling2D": _("Max pooling"), "AveragePooling2D": _("Average pooling"),
            "BatchNormalization": _("Batch normalisation"), "Activation": _("Activation"),
            "Dense": _("Dense (fully connected)"), "GlobalAveragePooling2D": _("Global average pooling"),
            "GlobalMaxPooling2D": _("Global max pooling"), "SeparableConv2D": _("Depthwise-separable convolution"),
            "WhitenedConv2D": _("Whitened convolution"), "Add": _("Addition"), "ReLU": _("Activation"),
            "LeakyReLU": _("Activation")}


def view_text() -> dict[str, str]:
    """What the view says (ui/inside_view.js's TEXT, same keys and {names}), in the student's language."""
    return {
        "title": _("Inside the network"), "freeze": _("Freeze"), "unfreeze": _("Unfreeze"),
        "frozen": _("Frozen: the view keeps this drawing while the pad goes on reading. Press Unfreeze to follow "
                    "the pen again."),
        "empty": _("Draw on the pad: every layer below lights up as the network reads your drawing."),
        "live": _("Every layer follows your pen. Click or tap any square of any map (or use the arrow keys on a "
                  "layer) to see where its number comes from."),
        "server": _("Your browser cannot run this model, so the server computes every layer when you lift the pen."),
        "upload": _("Every layer for your image, computed on the server. Click or tap any square of any map (or use "
                    "the arrow keys on a layer) to see where its number comes from."),
        "maps": _("{n} maps, {h}×{w}"), "units": _("{n} units"), "input": _("Input"),
        "stageLabel": _("{layer}, {type}: {size}. Arrow keys move, Page Up and Page Down change the map."),
        "strongest": _("Strongest: {list}."), "mapShort": _("map {c}"), "unitShort": _("unit {c}"),
        "at": _("{layer}, map {c}, row {y}, column {x}"), "atUnit": _("{layer}, unit {c}"),
        "atClass": _("{layer}, class {name}"),
        "pixel": _("A pixel of the model's input: 0 is black, 1 is full ink."),
        "pixelColour": _("A pixel of the photo as the model reads it: red · green · blue, each from 0 to 1."),
        "filters": _("Its {n} filters, {kh}×{kw} each (grey is 0)"),
        "windowOfColour": _("{source}, {colour}"), "red": _("red"), "green": _("green"), "blue": _("blue"),
        "convIntro": _("A {kh}×{kw} window of {source} (the layer below), one per input map, times this filter's "
                       "weights for that map:"),
        "windowOf": _("{source}, map {c}"), "weights": _("× weights"), "products": _("= products"),
        "sum": _("sum {v}"), "border": _("Grey numbers are outside the map: the zeros of the padding."),
        "others": _("The other {n} input maps add {v}."), "total": _("Sum of all {n} products: {v}"),
        "plusBias": _("+ bias {b} = {z}"), "noAct": _("No activation: the value is {v}."),
        "inMap": _("In the map: {v}"),
        "poolMax": _("The largest of this {kh}×{kw} window of {source}, map {c}: {v}"),
        "poolAvg": _("The mean of this {kh}×{kw} window of {source}, map {c}: {v}"),
        "gpoolMax": _("The largest of the {n} values of {source}, map {c} (at row {y}, column {x}): {v}"),
        "gpoolAvg": _("The mean of the {n} values of {source}, map {c}: {sum} / {n} = {v}"),
        "denseIntro": _("Each of the {n} values of {source} times its weight; the largest products:"),
        "inValue": _("input"), "weight": _("weight"), "product": _("product"),
        "fromMap": _("map {c}, row {y}, column {x}"), "fromUnit": _("unit {i}"),
        "rest": _("The other {n} products add {v}."),
        "softmax": _("softmax: e^{z} divided by the sum of e^ over all {n} classes = {v}"),
        "bn": _("Batch normalisation: {x} × {scale} + {shift} = {v}"), "actLayer": _("{fn} of {source}'s {x} = {v}"),
        "other": _("This kind of layer ({type}) is shown, but its arithmetic is not explained here."),
        "loading": _("Fetching this filter's weights…"),
        "noWeights": _("The weights could not be fetched from the server, so the arithmetic cannot be shown."),
    }


def weights_url(choice: dict[str, Any], reader: QuickReader) -> str | None:
    """The URL of the model's weights file for the view's arithmetic, written once under ``static/models``; None
    where this server cannot serve it."""
    if reader.network is None or not st.get_option("server.enableStaticServing"):
        return None
    try:
        name = export.publish(reader.network.weights, STATIC / "models", choice["token"] + ":weights", suffix=".bin")
    except OSError:
        return None
    return f"{static_url()}models/{name}"


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, "<f4").tobytes()).decode()


def inside_ui(key: str, reader: QuickReader, choice: dict[str, Any], classes: list[str],
              browser: dict[str, Any] | None, x: np.ndarray | None = None, upload: bool = False) -> None:
    """Mount the view. ``browser``: the pad reads in the browser and the view follows it (nothing goes to the
    server); otherwise ``x`` (the model's input for the drawing, or for an ``upload``ed image or photo, or None) is
    read here once."""
    network = reader.network
    if network is None:
        return
    values = None
    if browser is None and x is not None:
        layers = reader.layers(x)
        values = {"input": _b64(np.asarray(x, np.float32)[0]), **{name: _b64(v) for name, v in layers.items()}}
    data = {"layers": network.manifest(), "final": network.names[0], "classes": list(classes),
            "titles": layer_titles(), "text": view_text(), "lang": i18n.number_locale(),
            "big": bool(st.session_state.get("present")), "static": static_url(),
            "model": browser["url"] if browser else None, "weights": weights_url(choice, reader), "values": values,
            "upload": upload}
    _view()(data=data, key=key)
