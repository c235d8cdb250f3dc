"""CIFAR small's training step with and without this round's two changes to airbench's recipe, in one run.

    python bench/airbench_step.py [--rounds 12] [--batches 3]

- **stem bias frozen**: the whitened first layer's bias no longer learns, so nothing before the next
  convolution does and training skips that convolution's input gradient (cnn.airbench.init_weights);
- **Muon**: the 3×3 convolutions learn by orthogonalised steps (cnn.airbench.AirbenchSGD.muon_step).

Each variant's step is traced once, then the variants take turns, ``--batches`` batches of 512 real CIFAR-10
photos (from ``data/cifar10.npz`` or the bundled sample) at a time, for ``--rounds`` rounds: on a shared machine
whose speed moves, the minimum and the median over the rounds compare them, not one long run each. Seconds are per
epoch of 50,000 photos, float32.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from cnn import airbench, data, dataset_sources, optimizers, precision, run_config, training  # noqa: E402

VARIANTS = {  # name: (stem bias learns, convolutions learn by Muon)
    "before: stem bias learns, SGD": (True, False),
    "stem bias frozen, SGD": (False, False),
    "now: stem bias frozen, Muon": (False, True),
}


def variant_model(ds: data.Dataset, bias_learns: bool, muon: bool):
    """CIFAR small as training builds it, whitened, compiled, its step traced; changed back as ``VARIANTS`` says."""
    import keras

    config = dataclasses.replace(run_config.default_config("cifar_small", "cifar10"), precision="float32")
    keras.utils.set_random_seed(0)
    model = training.build_fresh(config, ds.image_shape, ds.num_classes)
    airbench._whitenable(model).bias.trainable = bias_learns
    optimizers.compile_model(model, config, 1000, 1)
    if not muon:  # built by compile_model: every variable back to airbench's SGD step
        model.optimizer._muon = [False] * len(model.optimizer._muon)
    airbench.whiten_first_layer(model, ds.train_images)
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--batches", type=int, default=3)
    args = p.parse_args()
    import keras
    import tensorflow as tf

    ds = dataset_sources.load_dataset("cifar10", allow_download=False)
    n = 512 * args.batches
    x = data.to_float(ds.train_images[:n])
    y = keras.utils.to_categorical(ds.y_train[:n], ds.num_classes).astype(np.float32)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(512).cache()
    models = {name: variant_model(ds, *flags) for name, flags in VARIANTS.items()}
    for model in models.values():
        model.fit(batches, epochs=1, verbose=0)  # traced, not timed
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.fit(batches, epochs=1, verbose=0)
            seconds[name].append((time.perf_counter() - t0) * 50_000 / n)
    print(f"\nCIFAR small's training step · {precision.cpu_name()} · {os.cpu_count()} cores · float32 · "
          f"{args.rounds} rounds of {args.batches} batches of 512 ({ds.source.split(' (')[0]})\n")
    base = min(seconds[next(iter(VARIANTS))])
    print(f"| {'variant':32s} | s/epoch, min | s/epoch, median | min vs before |")
    print("|---|---|---|---|")
    for name, s in seconds.items():
        print(f"| {name:32s} | {min(s):12.1f} | {statistics.median(s):15.1f} | {min(s) / base:12.2f}× |")


if __name__ == "__main__":
    main()
