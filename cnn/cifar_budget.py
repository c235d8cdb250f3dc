"""The CIFAR-10 time budget: the minutes each CIFAR preset trains on this computer (a short probe, measured once
per machine), the epochs that fit 10 minutes, and the Train page's advice from them."""
from __future__ import annotations

import math
import time

import numpy as np

from cnn import crops, precision, presets
from cnn.data import Dataset, to_float
from cnn.i18n import _
from cnn.optimizers import compile_model
from cnn.run_config import TrainConfig, default_config
from cnn.training import build_fresh, compiled_crop_view

CIFAR_BUDGET_S = 600.0  # the CIFAR-10 preset the Train page recommends trains within 10 minutes here
CIFAR_PRESETS = ("cifar", "cifar_small")  # both timed here, for the Train page's advice
CIFAR_RECOMMENDED = "cifar_small"  # see cifar_preset
CIFAR_TRAIN = 50_000
# CIFAR small (airbench's recipe with Muon, its whitening merged into its first convolution, the first 40% of its
# epochs on 24x24 crops): 16 epochs, 6 on crops, read 88.16% and 87.86% (seeds 42, 43) in 9.8-10.1 min on the AVX2
# EPYC, and 88.24% (seed 42) with mirrors alternating, in 11.0 min on a slower day; 24 epochs, 10 on crops, read
# 88.59% and 88.46% (seeds 42, 43) in 8.6 min on an Intel Xeon limited to AVX-512 (no AMX): the most measured. Where
# 10 minutes hold more than 16, the 0.3-0.7 points of those extra epochs are the difference between 88% and not
CIFAR_MAX_EPOCHS = 24
# cnn/airbench.py's training step, CIFAR small's first layer and the augmentation's pipeline, as last changed: timed
# again when they change
AIRBENCH_STEP = "muon, whitened convolution merged, shifts gathered, mirrors alternating"
# A whole epoch against the probe's bare steps: it also makes the augmented batches (on the same 2 cores) and, for
# airbench, averages the weights. CIFAR small in one bench/bench.py run: 48.2 s probed, then 49.5 s per epoch for 12
# epochs (2026-12-03).
EPOCH_OVER_PROBE = 1.03


def measure_cifar_minutes(probe_batches: int = 6) -> dict[str, float]:
    """Minutes of training each CIFAR preset's recipe takes here: its epochs times the measured seconds per
    epoch of 50,000 photos (a few real steps of its own batch size and number format, about 20 s in all, scaled by
    :data:`EPOCH_OVER_PROBE`)."""
    rng = np.random.default_rng(0)
    minutes = {}
    for name in CIFAR_PRESETS:
        config = default_config(name, "cifar10")
        probe = Dataset("cifar10", rng.integers(0, 256, (config.batch_size, 32, 32, 3), dtype=np.uint8),
                        rng.integers(0, 10, config.batch_size), np.zeros((1, 32, 32, 3), np.uint8), np.zeros(1, int),
                        tuple(str(i) for i in range(10)), "random photos, for timing")
        per_batch = estimate_epoch_seconds(config, probe, probe_batches) * EPOCH_OVER_PROBE  # one batch in all
        minutes[name] = round(per_batch * math.ceil(CIFAR_TRAIN / config.batch_size) * config.epochs / 60, 2)
    return minutes


def cifar_minutes(measure: bool = True) -> dict[str, float] | None:
    """Each CIFAR preset's training minutes on this machine (:func:`measure_cifar_minutes`), measured once per
    machine and kept with the number-format measurement; None when not measured yet and ``measure`` is False."""
    recipes = ";".join(f"{p}:{r['epochs']}x{r['batch_size']}:{r['optimizer']}:{r.get('crop_share', 0)}"
                       for p, r in ((p, presets.get(p).recipe) for p in CIFAR_PRESETS))
    step = f"{AIRBENCH_STEP}|{EPOCH_OVER_PROBE}"
    key, kept = precision.recalled(f"cifar_minutes|{recipes}|{step}")  # measured again when a recipe changes
    if isinstance(kept, dict) and all(isinstance(kept.get(p), (int, float)) for p in CIFAR_PRESETS):
        return {p: float(kept[p]) for p in CIFAR_PRESETS}
    if not measure:
        return None
    minutes = measure_cifar_minutes()
    precision.remember(key, minutes)
    return minutes


def cifar_preset(measure: bool = True) -> str | None:
    """The CIFAR-10 preset to recommend: CIFAR small, with as many epochs as fit 10 minutes here
    (:func:`budget_epochs`). Airbench's recipe read more photos right with it in 12 epochs (87.8%) than CIFAR with
    Adam in 12 (86.8%), at 0.45x the multiplications per photo now, so it reads more within any budget. None when
    this machine has not been measured yet and ``measure`` is False (pages never wait for the measurement)."""
    return None if cifar_minutes(measure) is None else CIFAR_RECOMMENDED


def budget_epochs(arch: str, dataset: str = "cifar10") -> int | None:
    """How many epochs of the recommended CIFAR preset fit the 10-minute budget on this computer, by the minutes
    measured here (:func:`_epochs_that_fit`). The Train page and the command line train that many. None for another
    preset or dataset, or when this computer is not measured yet."""
    minutes = cifar_minutes(measure=False) if arch == CIFAR_RECOMMENDED and dataset == "cifar10" else None
    return _epochs_that_fit(arch, minutes[arch]) if minutes else None


def _epochs_that_fit(arch: str, recipe_minutes: float) -> int:
    """Epochs of ``arch``'s recipe in 10 minutes, given the minutes its own epochs take: never fewer than its own
    (fewer read clearly worse; the advice says when even those do not fit), never more than
    :data:`CIFAR_MAX_EPOCHS` (the most measured). A recipe that starts on crops has a share of its epochs on crops
    that moves with their number (2 of 5, 6 of 16): each count is timed by its own share."""
    recipe = presets.get(arch).recipe
    own, share = int(recipe["epochs"]), float(recipe.get("crop_share", 0.0))
    if recipe_minutes <= 0:
        return own

    def whole_epochs(n: int) -> float:  # n epochs of the recipe, in whole-image epochs (a share of them on crops)
        on_crops = crops.crop_epochs(share, n)
        return n - on_crops + on_crops * crops.EPOCH_COST

    seconds = recipe_minutes * 60 / whole_epochs(own)  # of a whole-image epoch
    fit = [n for n in range(own, CIFAR_MAX_EPOCHS + 1) if whole_epochs(n) * seconds <= CIFAR_BUDGET_S]
    return fit[-1] if fit else own


def preset_advice(arch: str, dataset: str = "cifar10") -> str:
    """A line for the Train page on CIFAR-10, with the minutes measured here: on CIFAR, that CIFAR small reads more
    within 10 minutes; on CIFAR small, how many epochs fit 10 minutes here (more than its own) or that its own do
    not. "" when there is nothing to add, or when this computer is not measured yet."""
    minutes = cifar_minutes(measure=False) if arch in CIFAR_PRESETS and dataset == "cifar10" else None
    if not minutes:
        return ""
    best = CIFAR_RECOMMENDED
    own = int(presets.get(best).recipe["epochs"])
    fits = minutes[best] * 60 <= CIFAR_BUDGET_S
    if arch == best:
        epochs = _epochs_that_fit(best, minutes[best])
        if not fits:
            return _("Measured on this computer: **CIFAR small** trains in about {small:.0f} minutes for its {own} "
                     "epochs, more than 10. With fewer epochs a run is shorter, but it gets more photos wrong.",
                     small=minutes[best], own=own)
        if epochs > own:
            return _("Measured on this computer: 10 minutes hold {n} epochs of **CIFAR small**, the number Epochs "
                     "starts at. More epochs, more photos right: about 85% after 5 epochs, 88% after 16, "
                     "88.5% after 24.",
                     n=epochs)
        return ""
    measured = _("Measured on this computer: **CIFAR** trains its {cifar_epochs} epochs in about {cifar:.0f} minutes, "
                 "**CIFAR small** its {small_epochs} in about {small:.0f}.", cifar=minutes["cifar"],
                 small=minutes[best], cifar_epochs=presets.get("cifar").recipe["epochs"], small_epochs=own)
    if not fits:
        return measured + " " + _("Neither fits 10 minutes here: **CIFAR small** is the quicker one. With fewer "
                                  "epochs a run is shorter, but it gets a few more photos wrong.")
    return measured + " " + _("**CIFAR small** reads more photos right within 10 minutes: it trains with airbench's "
                              "recipe, which needs fewer epochs.")


def estimate_epoch_seconds(config: TrainConfig, dataset: Dataset, probe_batches: int = 4) -> float:
    """Time a few real training steps on this machine and scale to one epoch (a short probe); for a run that
    starts on crops (:mod:`cnn.crops`), the mean epoch of the run, its crop steps timed too."""
    import keras

    model = build_fresh(config, dataset.image_shape, dataset.num_classes)
    compile_model(model, config)
    bs = min(config.batch_size, len(dataset.train_images))
    idx = np.random.default_rng(0).choice(len(dataset.train_images), size=bs, replace=len(dataset.train_images) < bs)
    x = to_float(dataset.train_images[idx])
    y = keras.utils.to_categorical(dataset.y_train[idx], dataset.num_classes)

    def seconds_per_batch(net, images) -> float:
        net.train_on_batch(images, y)  # the first step builds and traces the graph; not timed
        t0 = time.perf_counter()
        for _batch in range(probe_batches):
            net.train_on_batch(images, y)
        return (time.perf_counter() - t0) / probe_batches

    per_batch = seconds_per_batch(model, x)
    if n_crops := crops.crop_epochs(config.crop_share, config.epochs):
        h, w = crops.crop_side(dataset.image_shape)
        on_crops = seconds_per_batch(compiled_crop_view(model, dataset.image_shape, 1), x[:, :h, :w])
        per_batch = (n_crops * on_crops + (config.epochs - n_crops) * per_batch) / config.epochs
    n = len(dataset.train_images)
    if config.train_limit:
        n = min(n, config.train_limit)
    n_fit = n - int(n * config.validation_split)
    return per_batch * math.ceil(n_fit / bs)
