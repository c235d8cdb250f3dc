"""The preset networks, one registry entry each: layers, title, a caption for students and its training recipe.

Adding a preset is one :class:`Preset` in :data:`PRESETS`; the Train page, the command line, the share link
and the tests read everything from here. Times in captions are rounded from runs on this project's 2-core AMD
EPYC server; ``bench/README.md`` has the measurements behind them (machines, dates, seeds), and the Train page
shows what the class's own runs took.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from cnn.i18n import N_, _
from cnn.layers import SpecError

Spec = list[dict[str, Any]]


@dataclass(frozen=True)
class Preset:
    """One preset network: what it is, what it is for, what it costs, and how it trains."""

    name: str
    title: str  # the Architecture box's line
    layers: tuple[dict[str, Any], ...]  # the hidden layers (the builder adds the output layer)
    caption: str  # for a student: what it is for and how long it takes
    recipe: dict[str, Any]  # TrainConfig fields it trains best with

    def spec(self) -> Spec:
        """A fresh copy of the layers, safe to edit."""
        return copy.deepcopy(list(self.layers))


def _conv(filters: int, kernel: int = 3, padding: str = "same", activation: str = "relu") -> dict[str, Any]:
    return {"type": "conv2d", "filters": filters, "kernel": kernel, "stride": 1, "padding": padding,
            "activation": activation}


def _conv_bn_relu(filters: int) -> list[dict[str, Any]]:
    """3x3 convolution, batch norm, ReLU: the block of the VGG-style presets."""
    return [_conv(filters, activation="linear"), {"type": "batchnorm"}, {"type": "activation", "activation": "relu"}]


def _conv_pool_bn_relu(filters: int) -> list[dict[str, Any]]:
    """3x3 convolution, 2x2 max pool, batch norm, ReLU: an airbench block's first half."""
    conv, *rest = _conv_bn_relu(filters)
    return [conv, {"type": "maxpool", "size": 2}, *rest]


def _airbench(stem: int, widths: tuple[int, int, int]) -> tuple[dict[str, Any], ...]:
    """A 2x2 stem convolution, then three blocks of conv -> max pool -> batch norm -> ReLU, conv -> batch norm
    -> ReLU (pooling before normalising does the costly work at a quarter of the pixels), and a global max pool."""
    blocks = [layer for w in widths for layer in (*_conv_pool_bn_relu(w), *_conv_bn_relu(w))]
    return (_conv(stem, kernel=2, padding="valid"), *blocks, {"type": "gmp"})


def _whitened_airbench(widths: tuple[int, int, int]) -> tuple[dict[str, Any], ...]:
    """:func:`_airbench` with its stem and first convolution as one whitened convolution (no ReLU between them,
    so they merge into one 4×4 convolution of the photo: cnn.airbench.WhitenedConv2D)."""
    _stem, _conv3, *rest = _airbench(24, widths)
    return ({"type": "whitenconv", "filters": widths[0]}, *rest)


_CIFAR_RECIPE = dict(epochs=12, batch_size=256, optimizer="adam", learning_rate=0.004, schedule="cosine",
                     validation_split=0.0, label_smoothing=0.2, augment=True)
# airbench's own recipe (cnn/airbench.py): its learning rate of 11.5 per 1024 images through Nesterov momentum
# 0.85, for a batch of 512 and the mean loss Keras takes.
_AIRBENCH_RECIPE = dict(epochs=5, batch_size=512, optimizer="airbench", learning_rate=0.75, schedule="triangle",
                        validation_split=0.0, label_smoothing=0.2, augment=True)

_ALL = [
    Preset(
        "tutorial", N_("Tutorial (the classic Keras CNN, 6.5M parameters)"),
        (_conv(32), {"type": "maxpool", "size": 2}, _conv(64), {"type": "maxpool", "size": 2}, _conv(128),
         {"type": "flatten"}, {"type": "dense", "units": 1024, "activation": "relu"}, {"type": "dropout", "rate": 0.2}),
        caption=N_("The network of the classic Keras tutorial, layer for layer, trained as it trains: the one the "
                   "lessons take apart. About 45 seconds per pass over MNIST, 7 minutes for its 10 passes."),
        recipe=dict(epochs=10, batch_size=64, optimizer="adam", learning_rate=0.001, schedule="constant",
                    validation_split=0.2)),
    Preset(
        "fast", N_("Fast (small; one quick pass over the images)"),
        (_conv(8, kernel=5, padding="valid"), {"type": "maxpool", "size": 2}, _conv(32, kernel=5, padding="valid"),
         {"type": "maxpool", "size": 2}, {"type": "flatten"}, {"type": "dense", "units": 256, "activation": "relu"}),
        caption=N_("A small network that learns in one quick pass over the training images: about 8 seconds on the "
                   "full MNIST on a 2-core server, reading 99 test digits in 100. On the small sample that ships with "
                   "the app (when the full data is missing) it reads about 95%."),
        recipe=dict(epochs=1, batch_size=256, optimizer="adam-fast", learning_rate=0.015, schedule="cosine",
                    validation_split=0.0, label_smoothing=0.1)),
    Preset(
        "lenet", N_("LeNet-5 (the 1998 classic)"),
        (_conv(6, kernel=5, activation="tanh"), {"type": "avgpool", "size": 2},
         _conv(16, kernel=5, padding="valid", activation="tanh"), {"type": "avgpool", "size": 2},
         {"type": "flatten"}, {"type": "dense", "units": 120, "activation": "tanh"},
         {"type": "dense", "units": 84, "activation": "tanh"}),
        caption=N_("Yann LeCun's network from 1998 that read cheques for banks, in a modern form (tanh, average "
                   "pooling). Small and quick: about 12 seconds per pass over MNIST, 1 minute for its 5 passes."),
        recipe=dict(epochs=5, batch_size=128, optimizer="adam", learning_rate=0.001, schedule="constant",
                    validation_split=0.1)),
    Preset(
        "cifar", N_("CIFAR (airbench-style, for colour photos)"),
        _airbench(24, (48, 96, 192)),
        caption=N_("Made for colour photos (CIFAR-10): each block finds patterns, halves the picture and "
                   "normalises. About 86 test photos in 100 right after its 12 passes; on this 2-core server that "
                   "takes about 12 minutes."),
        recipe=dict(_CIFAR_RECIPE)),
    Preset(
        "cifar_small", N_("CIFAR small (narrower CIFAR blocks, trained as airbench trains: the quickest to 85%)"),
        _whitened_airbench((32, 64, 192)),
        caption=N_("The CIFAR network with narrower first blocks, where most of the work is, trained with the recipe "
                   "of a record-fast CIFAR trainer: its first layer is set from the photos, the convolutions learn "
                   "by Muon's balanced steps, and the weights are averaged as they learn. Its first passes read "
                   "smaller crops of the photos, at about half the work. "
                   "About 85 test photos in 100 right after 5 passes, in about 3 minutes on a 2-core server; about 88 "
                   "after 16, 88.5 after 24: the Train page gives it as many passes (up to 24) as fit 10 minutes "
                   "on yours."),
        recipe=dict(_AIRBENCH_RECIPE, crop_share=0.4)),
    Preset(
        "cifar_wide", N_("CIFAR wide (airbench's widths; the shipped CIFAR-10 model, slow on a CPU)"),
        _airbench(24, (64, 256, 256)),
        caption=N_("The CIFAR blocks at full width: the shipped CIFAR-10 model. "
                   "Three times the work of CIFAR per photo: about 3 minutes per pass here, an hour for its 20 "
                   "passes. Better left to run over a lunch break."),
        recipe=dict(_CIFAR_RECIPE, epochs=20)),
    Preset(
        "vgg", N_("Small VGG (batch norm; the shipped MNIST and Fashion models)"),
        (*_conv_bn_relu(32), *_conv_bn_relu(32), {"type": "maxpool", "size": 2}, *_conv_bn_relu(64),
         *_conv_bn_relu(64), {"type": "maxpool", "size": 2}, *_conv_bn_relu(128), {"type": "maxpool", "size": 2},
         {"type": "dropout", "rate": 0.2}, {"type": "gap"}, {"type": "dense", "units": 128, "activation": "relu"},
         {"type": "dropout", "rate": 0.3}),
        caption=N_("Two convolutions before each pooling, with batch norm: the network of the shipped MNIST "
                   "and Fashion-MNIST models. About a minute per pass over MNIST, 11 minutes for its 12."),
        recipe=dict(epochs=12, batch_size=128, optimizer="adam", learning_rate=0.003, schedule="cosine",
                    validation_split=0.1)),
]
PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get(name: str) -> Preset:
    """The preset called ``name``; an unknown name is an error that lists the known ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise SpecError(_("Unknown architecture '{name}'. Choose one of: {names}.", name=name,
                          names=", ".join(PRESETS))) from None
