"""CIFAR's augmentation in the training pipeline: Keras' random layers against the one gather training uses now.

    python bench/augment_bench.py [--rounds 3] [--batches 16]

The batches are made on the same 2 cores that train, so what the augmentation costs shows in the training time.
One table, in one run, two measures, for CIFAR-10's moves of up to 2 pixels (reflected borders) and mirrors:

- **the pipeline alone**: seconds to make one epoch of 50,000 augmented photos (gathered, scaled, augmented);
- **training on it**: CIFAR small's steps fed by each whole-photo pipeline, ``--batches`` batches of 512 at a time,
  the variants taking turns for ``--rounds`` rounds (the machine's speed moves), in seconds per epoch of 50,000 photos.

Variants: no augmentation; Keras' RandomTranslation and RandomFlip (CIFAR's augmentation until 2026-12-03);
:func:`cnn.augment.random_shifts` (now); and the 24×24 crops of the first epochs (:func:`cnn.crops.random_crops`).
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

from cnn import (  # noqa: E402
    airbench,
    augment,
    crops,
    dataset_sources,
    input_pipeline,
    optimizers,
    precision,
    run_config,
    training,
)


def keras_layers(seed: int):
    """CIFAR's augmentation as it was: Keras' projective translation by up to 2 of 32 pixels, nearest pixel,
    reflected border, then Keras' random mirror."""
    import keras
    from keras import layers

    stack = keras.Sequential([layers.RandomTranslation(0.0625, 0.0625, fill_mode="reflect", interpolation="nearest",
                                                       seed=seed), layers.RandomFlip("horizontal", seed=seed)])
    return lambda images, training=True, indices=None: stack(images, training=training)


def variants(seed: int) -> dict:
    """name: (augmentation for whole photos or None, trains on crops)."""
    return {
        "none": (None, False),
        "Keras RandomTranslation + RandomFlip (before)": (keras_layers(seed), False),
        "cnn.augment.random_shifts (now)": (augment.random_shifts(0.0625, True, seed), False),
        "cnn.crops.random_crops, 24x24 (first epochs)": (crops.random_crops((24, 24), True, seed), True),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batches", type=int, default=16)
    args = p.parse_args()
    import keras

    ds = dataset_sources.load_dataset("cifar10", allow_download=False)
    x = ds.train_images
    y = keras.utils.to_categorical(ds.y_train, ds.num_classes).astype(np.float32)
    scale = 50_000 / len(x)
    made = {}
    for name, (aug, _) in variants(1).items():
        pipeline = input_pipeline.dataset_pipeline(x, y, 512, 1, aug)
        for _ in pipeline.take(2):
            pass
        t0 = time.perf_counter()
        for _ in pipeline:
            pass
        made[name] = (time.perf_counter() - t0) * scale

    config = dataclasses.replace(run_config.default_config("cifar_small", "cifar10"), precision="float32")
    keras.utils.set_random_seed(0)
    model = training.build_fresh(config, ds.image_shape, ds.num_classes)
    optimizers.compile_model(model, config, 10_000, optimizers.steps_per_execution(98))  # as in training
    airbench.whiten_first_layer(model, x)
    model.fit(input_pipeline.dataset_pipeline(x[:1024], y[:1024], 512, 3), epochs=1, verbose=0)  # traced, not timed
    whole = {name: aug for name, (aug, on_crops) in variants(2).items() if not on_crops}
    seconds: dict[str, list[float]] = {name: [] for name in whole}
    for _ in range(args.rounds):
        for name, aug in whole.items():
            pipeline = input_pipeline.dataset_pipeline(x, y, 512, 2, aug).take(args.batches)
            t0 = time.perf_counter()
            model.fit(pipeline, epochs=1, verbose=0)
            seconds[name].append((time.perf_counter() - t0) * 50_000 / (512 * args.batches))

    print(f"\nCIFAR augmentation · {precision.cpu_name()} · {os.cpu_count()} cores · float32 · "
          f"{ds.source.split(' (')[0]} · training: {args.rounds} rounds of {args.batches} batches of 512\n")
    base = min(seconds["none"])
    print(f"| {'augmentation':46s} | pipeline alone, s/epoch | training on it, s/epoch min | median | min vs none |")
    print("|---|---|---|---|---|")
    for name, alone in made.items():
        s = seconds.get(name)
        trained = f"{min(s):27.1f} | {statistics.median(s):6.1f} | {min(s) / base:10.2f}×" if s else \
            f"{'(trains on crops)':>27s} | {'':6s} | {'':11s}"
        print(f"| {name:46s} | {alone:23.2f} | {trained} |")


if __name__ == "__main__":
    main()
