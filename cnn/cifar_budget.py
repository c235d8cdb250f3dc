"""The CIFAR-10 time budget: the minutes each CIFAR preset trains on this computer (a short probe, measured once
per machine), the epochs that fit 10 minutes, and the Train page's advice from them."""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn import crops, precision, presets
from cnn.data import Dataset, to_float
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
# The code a CIFAR epoch's time depends on: its training step and first layer (airbench), its crops, its augmentation
# and its input pipeline. The minutes measured here are kept under a hash of it and of the recipes: timed again when
# any of them changes.
TIMED_CODE = ("airbench.py", "crops.py", "augment.py", "input_pipeline.py", "training.py", "optimizers.py")
# A whole epoch against the probe's bare steps: it also makes the augmented batches (on the same 2 cores) and, for
# airbench, averages the weights (bench/README.md has the runs it comes from).
EPOCH_OVER_PROBE = 1.03
# The probe's forecast against the runs it forecast: 0.96-1.13x on 5 runs on 3 machines (bench/README.md, "CIFAR
# small up to 24 epochs"). The epochs chosen fit 10 minutes even for a run 1.13x its forecast.
FORECAST_MARGIN = 1.13
# What CIFAR small reads after n epochs of its recipe (test photos right, read as Evaluate reads them, mirrored and
# moved by a pixel): the means of the seeds measured (bench/README.md). 15 epochs: 87.85%, 87.74% and 88.10% (seeds
# 42-44) on the EPYC limited to AVX2, where 10 minutes hold 15 (2026-12-07); 16: 88.16%, 87.86%, 88.24%, 88.18%; 24:
# 88.59%, 88.46%, 88.41%. Between them the Train page says what the epochs that fit here read.
MEASURED_ACCURACY = {5: 0.848, 14: 0.876, 15: 0.879, 16: 0.881, 24: 0.885}

# Once a run of the preset has finished here, its own time sets the next run's epochs: two seeds, or a run on
# another day, took up to 1.08x the time of the other (same bench/README.md section).
RUN_MARGIN = 1.08


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
    key, kept = precision.recalled(f"cifar_minutes|{timing_key()}")  # measured again when a recipe or the code changes
    if isinstance(kept, dict) and all(isinstance(kept.get(p), (int, float)) for p in CIFAR_PRESETS):
        return {p: float(kept[p]) for p in CIFAR_PRESETS}
    if not measure:
        return None
    minutes = measure_cifar_minutes()
    precision.remember(key, minutes)
    return minutes


def timing_key() -> str:
    """A hash of what the CIFAR minutes depend on: each CIFAR preset's recipe, the probe's scaling and the source of
    :data:`TIMED_CODE`."""
    h = hashlib.sha256(json.dumps([{p: presets.get(p).recipe for p in CIFAR_PRESETS}, EPOCH_OVER_PROBE],
                                  sort_keys=True, default=str).encode())
    for name in TIMED_CODE:
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()[:16]


def cifar_preset(measure: bool = True) -> str | None:
    """The CIFAR-10 preset to recommend: CIFAR small, with as many epochs as fit 10 minutes here
    (:func:`budget_epochs`). Airbench's recipe read more photos right with it in 12 epochs (87.8%) than CIFAR with
    Adam in 12 (86.8%), at 0.45x the multiplications per photo now, so it reads more within any budget. None when
    this machine has not been measured yet and ``measure`` is False (pages never wait for the measurement)."""
    return None if cifar_minutes(measure) is None else CIFAR_RECOMMENDED


def budget_epochs(arch: str, dataset: str = "cifar10", run: tuple[int, float] | None = None) -> int | None:
    """How many epochs of the recommended CIFAR preset fit the 10-minute budget on this computer, by the minutes
    measured here, or by ``run`` (epochs, seconds of training) of the last run of it that finished here
    (:func:`_epochs_that_fit`). The Train page and the command line train that many. None for another preset or
    dataset, or when this computer is not measured yet."""
    minutes = cifar_minutes(measure=False) if arch == CIFAR_RECOMMENDED and dataset == "cifar10" else None
    return _epochs_that_fit(arch, minutes[arch], run) if minutes else None


def _whole_epochs(arch: str, n: int) -> float:
    """``n`` epochs of ``arch``'s recipe counted in whole-image epochs (a recipe that starts on crops has a share of
    its epochs on crops that moves with their number: 2 of 5, 6 of 16)."""
    on_crops = crops.crop_epochs(float(presets.get(arch).recipe.get("crop_share", 0.0)), n)
    return n - on_crops + on_crops * crops.EPOCH_COST


def _epochs_that_fit(arch: str, recipe_minutes: float, run: tuple[int, float] | None = None) -> int:
    """Epochs of ``arch``'s recipe in 10 minutes, with a margin for how much a run's time moves: from the probe's
    minutes for its own epochs (:data:`FORECAST_MARGIN`), or from a finished run here (``run``: its epochs and
    seconds; :data:`RUN_MARGIN`), which corrects the probe for the next run. Never fewer than its own (fewer read
    clearly worse; the advice says when even those do not fit), never more than :data:`CIFAR_MAX_EPOCHS` (the most
    measured)."""
    own = int(presets.get(arch).recipe["epochs"])
    if run and run[0] > 0 and run[1] > 0:
        seconds, margin = run[1] / _whole_epochs(arch, run[0]), RUN_MARGIN  # of a whole-image epoch
    elif recipe_minutes > 0:
        seconds, margin = recipe_minutes * 60 / _whole_epochs(arch, own), FORECAST_MARGIN
    else:
        return own
    fit = [n for n in range(own, CIFAR_MAX_EPOCHS + 1) if _whole_epochs(arch, n) * seconds * margin <= CIFAR_BUDGET_S]
    return fit[-1] if fit else own


def expected_accuracy(epochs: int) -> float:
    """CIFAR small's test accuracy after ``epochs`` epochs of its recipe, between the runs measured
    (:data:`MEASURED_ACCURACY`; the nearest measured end outside them)."""
    measured = sorted(MEASURED_ACCURACY)
    return float(np.interp(epochs, measured, [MEASURED_ACCURACY[n] for n in measured]))


@dataclass(frozen=True)
class Advice:
    """What the Train page should say about the CIFAR presets here (ui.settings.preset_advice words it): ``case``
    is "small too slow" (CIFAR small's own epochs take over 10 minutes), "small more epochs" (10 minutes hold more
    than its own), "neither fits" or "small reads more" (on the CIFAR preset)."""

    case: str
    minutes: dict[str, float]  # each CIFAR preset's recipe, in minutes here
    epochs: int  # CIFAR small's epochs that fit 10 minutes here
    own: int  # CIFAR small's own epochs
    cifar_epochs: int  # the CIFAR preset's own epochs


def advice(arch: str, dataset: str = "cifar10", run: tuple[int, float] | None = None) -> Advice | None:
    """What to tell a student on CIFAR-10 with the minutes measured here (``run``: the last finished run of CIFAR
    small here, see :func:`budget_epochs`): on CIFAR, that CIFAR small reads more within 10 minutes; on CIFAR small,
    how many epochs fit 10 minutes here (more than its own) or that its own do not. None when there is nothing to
    add, or when this computer is not measured yet."""
    minutes = cifar_minutes(measure=False) if arch in CIFAR_PRESETS and dataset == "cifar10" else None
    if not minutes:
        return None
    best = CIFAR_RECOMMENDED
    own = int(presets.get(best).recipe["epochs"])
    fits = minutes[best] * 60 <= CIFAR_BUDGET_S
    epochs = _epochs_that_fit(best, minutes[best], run)
    cifar_epochs = int(presets.get("cifar").recipe["epochs"])
    if arch == best:
        if not fits:
            return Advice("small too slow", minutes, epochs, own, cifar_epochs)
        return Advice("small more epochs", minutes, epochs, own, cifar_epochs) if epochs > own else None
    return Advice("small reads more" if fits else "neither fits", minutes, epochs, own, cifar_epochs)


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
