"""The preset networks, one registry entry each: layers, title, a caption for students, the measured figures
behind it and its training recipe.

Adding a preset is one :class:`Preset` in :data:`PRESETS`; the Train page, the command line, the share link
and the tests read everything from here. Times in captions were measured on this project's 2-core AMD EPYC
server (AVX-512 BF16, no AMX); ``bench/README.md`` has how, and :attr:`Preset.measured` the details.
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
    measured: str = ""  # benchmark figures, for the curious (an expander)

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
                    validation_split=0.2),
        measured=N_("AMD EPYC, 2 cores, bfloat16: 57 ms per batch of 64, about 43 s per epoch of MNIST's 48,000 "
                    "training images (2026-12-02). On an Intel Xeon with AMX: about 34 s per epoch in bfloat16 and "
                    "82 s in plain float32 Keras.")),
    Preset(
        "fast", N_("Fast (small; one quick pass over the images)"),
        (_conv(8, kernel=5, padding="valid"), {"type": "maxpool", "size": 2}, _conv(32, kernel=5, padding="valid"),
         {"type": "maxpool", "size": 2}, {"type": "flatten"}, {"type": "dense", "units": 256, "activation": "relu"}),
        caption=N_("A small network that learns in one quick pass over the training images: about 8 seconds on the "
                   "full MNIST on a 2-core server, reading 99% of the test digits. On the small sample that ships with "
                   "the app (when the full data is missing) it reads about 95%."),
        recipe=dict(epochs=1, batch_size=256, optimizer="adam-fast", learning_rate=0.015, schedule="cosine",
                    validation_split=0.0, label_smoothing=0.1),
        measured=N_("AMD EPYC, 2 cores, AVX2 without AVX-512, float32 with TensorFlow's oneDNN kernels: 7.5-9.0 s of "
                    "training to 99.10-99.21% MNIST test accuracy (3 seeds), against 44 s for the plain Keras CNN of "
                    "`../shared/reference/plain_mnist.py` as it runs there (0.19x; 19-22 s with oneDNN turned on, "
                    "0.41x). No batch norm (slow on CPUs), 5x5 filters, few channels (8 in the first layer, whose cost "
                    "on a CPU grows with each filter; 32 in the second), a high learning rate with short-memory Adam "
                    "and label smoothing; after tuomaso/train_mnist_fast. `python bench/bench.py --only 1` measures "
                    "your machine.")),
    Preset(
        "lenet", N_("LeNet-5 (the 1998 classic)"),
        (_conv(6, kernel=5, activation="tanh"), {"type": "avgpool", "size": 2},
         _conv(16, kernel=5, padding="valid", activation="tanh"), {"type": "avgpool", "size": 2},
         {"type": "flatten"}, {"type": "dense", "units": 120, "activation": "tanh"},
         {"type": "dense", "units": 84, "activation": "tanh"}),
        caption=N_("Yann LeCun's network from 1998 that read cheques for banks, in a modern form (tanh, average "
                   "pooling). Small and quick: about 12 seconds per pass over MNIST, 1 minute for its 5 passes."),
        recipe=dict(epochs=5, batch_size=128, optimizer="adam", learning_rate=0.001, schedule="constant",
                    validation_split=0.1),
        measured=N_("AMD EPYC, 2 cores, bfloat16: 29 ms per batch of 128, about 12 s per epoch of MNIST "
                    "(2026-12-02). LeCun, Bottou, Bengio and Haffner, 'Gradient-based learning applied to document "
                    "recognition', 1998.")),
    Preset(
        "cifar", N_("CIFAR (airbench-style, for colour photos)"),
        _airbench(24, (48, 96, 192)),
        caption=N_("Made for colour photos (CIFAR-10): each block finds patterns, halves the picture and "
                   "normalises. About 86% of test photos right after its 12 passes; on this 2-core server that "
                   "takes about 12 minutes."),
        recipe=dict(_CIFAR_RECIPE),
        measured=N_("AMD EPYC, 2 cores, bfloat16: 86.8% CIFAR-10 test accuracy after 12.4 min of training (13.0 min "
                    "for the whole command) on a quiet machine. On an Intel Xeon with AMX: 87.1% in 7.7 min plus 13 s "
                    "of testing (each photo also read mirrored and moved by a pixel); in float32 16.1 min (86.8%). "
                    "After airbench (Keller Jordan, 2024), scaled down to fit 2 cores.")),
    Preset(
        "cifar_small", N_("CIFAR small (narrower CIFAR blocks, trained as airbench trains: the quickest to 85%)"),
        _whitened_airbench((32, 64, 192)),
        caption=N_("The CIFAR network with narrower first blocks, where most of the work is, trained with the recipe "
                   "of a record-fast CIFAR trainer: its first layer is set from the photos, the convolutions learn "
                   "by Muon's balanced steps, and the weights are averaged as they learn. Its first passes read "
                   "smaller crops of the photos, at about half the work. "
                   "About 85% of test photos right after 5 passes, in about 3 minutes on a 2-core server; about 88% "
                   "after 16, 88.5% after 24: the Train page gives it as many passes (up to 24) as fit 10 minutes "
                   "on yours."),
        recipe=dict(_AIRBENCH_RECIPE, crop_share=0.4),
        measured=N_("AMD EPYC, 2 cores, AVX2 without AVX-512, float32 with TensorFlow's oneDNN kernels, each photo "
                    "also read mirrored and moved by a pixel in testing: 84.8% CIFAR-10 test accuracy after 3.1 min "
                    "of training, 5 epochs of 512 photos per batch, 2 of them on 24x24 crops (seed 42); 16 epochs, 6 "
                    "on crops: 88.16% in 9.8-10.1 min (seed 42) and 87.86% in 10.1 min (seed 43); an epoch took 24.5 s "
                    "on crops and 43-46 s on whole photos (2026-12-03). Its first layer is one 4x4 convolution of the "
                    "photo, a whitening merged with a 3x3 convolution: 0.86x the epoch of the two as separate layers, "
                    "which read 87.8% after 12 epochs in 9.9-10.5 min. Later that day, with each photo's moves made "
                    "by one gather and its mirror alternating epoch by epoch, on a machine 10-20% slower (45-63 s per "
                    "whole epoch): 88.24% and 88.18% after 16 epochs (seeds 42, 43) in 11.0-12.1 min, 87.62% after the "
                    "14 its probe fit into 10 minutes, in 9.3 min. On an Intel Xeon limited to AVX-512 without AMX "
                    "(ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16), float32 (bfloat16 measured 0.78x as fast there): 87.95% "
                    "after 16 epochs in 5.9 min; 88.59% and 88.46% after 24, 10 on crops, in 8.6 min (seeds 42, 43); "
                    "with AMX, bfloat16 (1.5x as fast there): 88.41% after 24 in 6.0 min (seed 42; 2026-12-03, "
                    "evening). After airbench and airbench94_muon (Keller "
                    "Jordan, 2024): a whitened first layer that does not learn, convolutions that start as the "
                    "identity and learn by Muon, batch norm that only shifts, SGD with per-layer rates, lookahead "
                    "averaging (cnn/airbench.py); small crops first is progressive resizing (cnn/crops.py). "
                    "`python bench/bench.py --only 7 --cifar` measures your machine.")),
    Preset(
        "cifar_wide", N_("CIFAR wide (airbench's widths; the shipped CIFAR-10 model, slow on a CPU)"),
        _airbench(24, (64, 256, 256)),
        caption=N_("The CIFAR blocks at full width: the shipped CIFAR-10 model, which reads 90% of test photos. "
                   "Three times the work of CIFAR per photo: about 3 minutes per pass here, an hour for its 20 "
                   "passes. Better left to run over a lunch break."),
        recipe=dict(_CIFAR_RECIPE, epochs=20),
        measured=N_("AMD EPYC, 2 cores, bfloat16: 863 ms per batch of 256, about 2.8 min per epoch, 56 min for 20 "
                    "epochs (2026-12-02). On an Intel Xeon with AMX: 89.7% after 20 epochs (40 min); 90.1% after 30 "
                    "epochs (46 min), the shipped model; test photos also read mirrored and moved by a pixel.")),
    Preset(
        "vgg", N_("Small VGG (batch norm; the shipped MNIST and Fashion models)"),
        (*_conv_bn_relu(32), *_conv_bn_relu(32), {"type": "maxpool", "size": 2}, *_conv_bn_relu(64),
         *_conv_bn_relu(64), {"type": "maxpool", "size": 2}, *_conv_bn_relu(128), {"type": "maxpool", "size": 2},
         {"type": "dropout", "rate": 0.2}, {"type": "gap"}, {"type": "dense", "units": 128, "activation": "relu"},
         {"type": "dropout", "rate": 0.3}),
        caption=N_("Two convolutions before each pooling, with batch norm: the network of the shipped MNIST (99.6%) "
                   "and Fashion-MNIST (93%) models. About a minute per pass over MNIST, 11 minutes for its 12."),
        recipe=dict(epochs=12, batch_size=128, optimizer="adam", learning_rate=0.003, schedule="cosine",
                    validation_split=0.1),
        measured=N_("AMD EPYC, 2 cores, bfloat16: 129 ms per batch of 128, about 54 s per epoch of MNIST "
                    "(2026-12-02). Shipped models on their full test sets: MNIST 99.57%, Fashion-MNIST 93.29%.")),
]
PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get(name: str) -> Preset:
    """The preset called ``name``; an unknown name is an error that lists the known ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise SpecError(_("Unknown architecture '{name}'. Choose one of: {names}.", name=name,
                          names=", ".join(PRESETS))) from None
