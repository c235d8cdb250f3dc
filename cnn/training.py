"""Training: a config dataclass and one train function that reports progress and can be stopped.

The caller passes ``on_progress`` (called from the training thread with plain data at a
bounded rate, and at every epoch end) and ``should_stop`` (polled after every batch).
Stopping keeps the weights and the history so far; a NaN loss stops with an explanation.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from cnn import architectures, crops, evaluation, hyperparams, precision, presets, settings, transfer
from cnn.augment import AlternatingFlips, AugmentParams, build_augmenter, default_params
from cnn.data import Dataset, load_dataset, to_float, to_float_tensor
from cnn.hyperparams import OPTIMIZERS, SCHEDULES
from cnn.i18n import D_, _, n_
from cnn.precision import bf16_fast
from cnn.predict import tta_level


@dataclass
class TrainConfig:
    """Everything that determines a training run (recorded with the saved model)."""

    dataset: str = "mnist"
    arch: str = "fast"
    spec: list[dict[str, Any]] | None = None  # used when arch == "custom"
    epochs: int = 1
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 0.004
    schedule: str = "cosine"  # "cosine": linear warm-up then cosine decay to zero
    validation_split: float = 0.0
    augment: bool = False
    seed: int = 42
    label_smoothing: float = 0.0
    train_limit: int | None = None  # train on at most this many images (lessons, quick demos)
    augment_params: dict[str, Any] | None = None  # None: the dataset's defaults
    precision: str = "auto"  # "auto": bfloat16 where measured faster on this CPU (cnn/precision.py)
    start_from: str | None = None  # a saved model whose layers start this run (transfer learning, cnn/transfer.py)
    freeze: bool = False  # with start_from: the base's layers stay as they are and only the new head learns
    crop_share: float = 0.0  # this share of the epochs, the first ones, trains on random crops (cnn/crops.py)

    def resolved_spec(self) -> list[dict[str, Any]]:
        if self.arch == "custom":
            if not self.spec:
                raise architectures.SpecError(_("The custom model has no layers."))
            return self.spec
        return architectures.preset(self.arch)

    def augmentation(self) -> AugmentParams:
        return AugmentParams(**self.augment_params) if self.augment_params else default_params(self.dataset)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def dtype_policy(self) -> str | None:
        """The Keras dtype policy this run trains with (None: plain float32)."""
        if self.precision == "bfloat16" or (self.precision == "auto" and bf16_fast()):
            return "mixed_bfloat16"
        return None


SMALL_DATA = 2000  # fewer training images than this: the small-data recipe below


def default_config(arch: str = "fast", dataset: str = "mnist", n_train: int | None = None,
                   **overrides: Any) -> TrainConfig:
    """A TrainConfig with the preset's recommended hyperparameters; for a small dataset (a student's own,
    ``n_train`` images), a batch that fits it, enough epochs for a few hundred steps, and augmentation."""
    base = dict(presets.get(arch).recipe)  # an unknown name is a SpecError listing the known ones
    if n_train is not None and n_train < SMALL_DATA:
        n_fit = max(1, n_train - int(n_train * base["validation_split"]))
        base["batch_size"] = int(min(base["batch_size"], max(4, 2 ** int(math.log2(max(4, n_fit // 4))))))
        steps_per_epoch = math.ceil(n_fit / base["batch_size"])
        base["epochs"] = int(min(100, max(base["epochs"], math.ceil(300 / steps_per_epoch))))
        base["augment"] = True  # a few dozen examples each: seeing them moved and turned helps a lot
    base.update(overrides)
    return TrainConfig(dataset=dataset, arch=arch, **base)


class TrainingError(Exception):
    """A training run could not start; the message says why, in words a student understands."""


@dataclass
class Progress:
    """A snapshot sent to ``on_progress``: plain numbers, safe to hand to another thread."""

    kind: str  # "batch" | "epoch" | "end"
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    elapsed: float
    images_per_sec: float
    logs: dict[str, float]

    @property
    def fraction(self) -> float:
        return min(1.0, ((self.epoch - 1) + self.batch / max(1, self.batches)) / max(1, self.epochs))

    @property
    def eta(self) -> float:
        f = self.fraction
        return self.elapsed * (1 - f) / f if f > 0 else float("nan")


@dataclass
class TrainResult:
    """What a run produced: the model, the curves, test metrics, and how it ended."""

    model: Any
    config: TrainConfig
    history: dict[str, list[float]]
    batch_history: list[dict[str, float]]
    test_loss: float
    test_accuracy: float
    seconds: float
    epochs_done: int
    status: str = "finished"  # "finished" | "stopped" | "nan"
    message: str = ""
    dataset_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The run's own facts, so that saving never reads them from whatever a page shows now.
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] = (0, 0, 0)
    stopped_at: tuple[int, int] | None = None  # (epoch, batch) when status == "stopped"


def device_description() -> str:
    """Which device TensorFlow trains on, for the UI ("GPU: ..." or "CPU (n cores)")."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        try:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
        except Exception:
            name = gpus[0].name
        return f"GPU: {name}"
    if bf16_fast(measure=False):
        return _("CPU ({n} cores, bfloat16)", n=os.cpu_count())
    return _("CPU ({n} cores)", n=os.cpu_count())


# How a run ended, made in the training process (in English) and said in the page's language (i18n.translated).
LOSS_NAN = D_("Training stopped: the loss became NaN (not a number) at epoch {epoch}, batch {batch}. The learning rate "
              "is probably too high; try 0.001.")
STOPPED_AT = D_("Stopped at epoch {epoch}, batch {batch}.")

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
                     "starts at. More epochs, more photos right: 5 read about 85% of test photos, 16 about 88%, "
                     "24 about 88.5%.",
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


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant", total_steps: int = 0,
                   fresh: bool = True):
    """Keras optimizer from :data:`cnn.hyperparams.OPTIMIZERS`, with an optional schedule (warm-up + cosine, or
    airbench's triangle). ``fresh``: the model was started by this optimizer's recipe (airbench's layer rates)."""
    import keras

    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0 and math.isfinite(learning_rate)):
        raise TrainingError(_("The learning rate must be a positive number, got {learning_rate}.",
                              learning_rate=learning_rate))
    if name not in OPTIMIZERS:
        raise TrainingError(_("Unknown optimizer '{name}'; use one of {join}.", name=name, join=', '.join(OPTIMIZERS)))
    if schedule not in SCHEDULES:
        raise TrainingError(_("Unknown learning-rate schedule '{schedule}'; use one of {join}.",
                              schedule=schedule, join=', '.join(SCHEDULES)))
    lr: Any = float(learning_rate)
    if schedule == "triangle" and total_steps > 1:
        from cnn.airbench import Triangle

        lr = Triangle(lr, total_steps)
    elif schedule == "cosine" and total_steps > 1:
        warmup = max(1, min(total_steps // 10, 200))
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr / 10, decay_steps=max(1, total_steps - warmup), alpha=0.0,
            warmup_target=lr, warmup_steps=warmup)
    if name == "airbench":
        from cnn.airbench import AirbenchSGD

        return AirbenchSGD(learning_rate=lr, layer_rates=fresh)  # a transferred model keeps plain rates
    cls, kwargs = OPTIMIZERS[name]
    return getattr(keras.optimizers, cls)(learning_rate=lr, **kwargs)


def optimizer_code(name: str, learning_rate: float) -> str:
    """The Keras expression :func:`make_optimizer` builds (without the schedule), as code."""
    cls, kwargs = OPTIMIZERS[name]
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    return f"keras.optimizers.{cls}(learning_rate={learning_rate:g}{args})"


def steps_per_execution(steps_per_epoch: int) -> int:
    """How many training steps run per call from Python: up to 8 (about 4 ms saved per step, 15% of a
    one-epoch MNIST run), while keeping at least 25 progress reports and chances to stop per epoch."""
    return max(1, min(8, steps_per_epoch // 25))


def compile_model(model, config: TrainConfig, total_steps: int = 0, steps_per_execution: int = 1) -> None:
    """Compile with keywords (positional metrics would be taken as loss_weights)."""
    import keras

    model.compile(optimizer=make_optimizer(config.optimizer, config.learning_rate, config.schedule, total_steps,
                                           fresh=not config.start_from),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    build_training_state(model)


def build_training_state(model) -> None:
    """Create the optimizer's moments and the metrics' totals now, on one blank image. Left to ``fit``, Keras
    creates them while tracing the first training step, and TensorFlow, seeing new variables, then traces the
    whole step a second time: 0.3-0.5 s of a 4.5 s one-epoch MNIST run (bench/README.md)."""
    x = np.zeros((1, *model.input_shape[1:]), np.float32)
    y_pred = model(x, training=False)
    model.optimizer.build(model.trainable_variables)
    model.compute_metrics(x, np.zeros(y_pred.shape, np.float32), y_pred)
    model.reset_metrics()


def keras_code(config: TrainConfig, input_shape: tuple[int, int, int], num_classes: int) -> str:
    """The exact model, compile and fit call of a config, as Python a student can run."""
    opt = optimizer_code(config.optimizer, config.learning_rate)
    lines = [f"# data: {config.dataset}, images scaled to [0, 1], labels one-hot",
             f"model.compile(optimizer={opt},",
             f"              loss=keras.losses.CategoricalCrossentropy(label_smoothing={config.label_smoothing:g}),",
             "              metrics=[\"accuracy\"])"]
    if config.schedule == "cosine":
        lines.insert(1, "# learning rate: linear warm-up over the first 10% of steps, then cosine decay to 0")
    if config.schedule == "triangle":
        lines.insert(1, "# learning rate: from a fifth up over the first 23% of steps, then straight down to 7%")
    if config.optimizer == "airbench":
        lines.insert(1, "# airbench's recipe (cnn/airbench.py): first layer whitened from the images and frozen, "
                        "identity-started convolutions learning by Muon, batch-norm shifts learning 64x faster, "
                        "output 81x slower, lookahead weight averaging")
    if config.start_from:
        lines.insert(1, f"# transfer learning: start from the saved model '{config.start_from}' (its layers up to "
                        "global pooling, all still learning but batch normalization) with a new Dense(128) + "
                        "Dropout + softmax head; see Lessons > Transfer learning")
    if n_crops := crops.crop_epochs(config.crop_share, config.epochs):
        h, w = crops.crop_side(input_shape)
        lines.insert(1, f"# small crops first (cnn/crops.py): the first {n_crops} epochs train on random {h}x{w} crops "
                        "(the same layers on an input of any size), the rest on whole images")
    if config.augment:
        lines.insert(1, f"# augmentation (random layers applied to each batch): {config.augmentation().as_dict()}")
    lines.append(f"history = model.fit(x_train, y_train, epochs={config.epochs}, batch_size={config.batch_size}, "
                 f"validation_split={config.validation_split:g})")
    lines.append("model.evaluate(x_test, y_test)")
    spec = config.resolved_spec()
    return architectures.to_keras_code(spec, input_shape, num_classes, "\n".join(lines))


def check_config(config: TrainConfig, n_train: int, image_shape: tuple[int, int, int],
                 memory_limit_bytes: int | None = None) -> None:
    """Reject configs that cannot train, before any work starts; messages a student understands."""
    try:
        hyperparams.check_values(config.as_dict())
    except hyperparams.HyperparamError as e:
        raise TrainingError(str(e)) from None
    n_fit = n_train - int(n_train * config.validation_split)
    if n_fit < 1:
        raise TrainingError(_("No training images are left after the validation split."))
    if config.batch_size > n_fit:
        raise TrainingError(_("Batch size {batch_size:,} is larger than the {n_fit:,} training images; use at most "
                              "{n_fit:,}.", batch_size=config.batch_size, n_fit=n_fit))
    spec = config.resolved_spec()
    shapes = architectures.validate(spec, image_shape)
    if crops.crop_epochs(config.crop_share, config.epochs):
        if config.start_from:
            raise TrainingError(_("Small crops first trains a network from its start; a run that starts from a saved "
                                  "model reads whole images. Set Small crops first to 0."))
        if not crops.fits(spec, image_shape, 10):
            raise TrainingError(_("Small crops first needs a network that ends in global pooling: after Flatten its "
                                  "weights depend on the image's size. Set Small crops first to 0, or end the network "
                                  "with global pooling."))
    # Rough activation memory per batch: every layer's output, forward + backward, float32.
    per_image = sum(int(np.prod(s.output_shape)) for s in shapes) * 4 * 3
    need = per_image * config.batch_size
    limit = memory_limit_bytes if memory_limit_bytes is not None else _memory_budget()
    if need > limit:
        raise TrainingError(_("Batch size {batch_size:,} needs about {need:.1f} GiB for activations, more than the "
                              "{limit:.1f} GiB this server allows per training. Use a smaller batch size.",
                              batch_size=config.batch_size, need=need / 2**30, limit=limit / 2**30))


def _memory_budget() -> int:
    """Per-job activation memory allowed: a quarter of physical memory (``CNN_JOB_MEMORY_GB`` overrides)."""
    return int(settings.value("CNN_JOB_MEMORY_GB") * 2**30)


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float):
    """Hold out the *last* fraction, exactly as Keras' ``validation_split`` does."""
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return (x, y), None
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


def _progress_callback(on_progress, should_stop, epochs, batches, batch_size, report_every_s):
    import keras

    class _Reporter(keras.callbacks.Callback):
        """Polls should_stop every batch; reports at a bounded rate; stops on NaN."""

        def __init__(self):
            super().__init__()
            self.t0 = time.perf_counter()
            self.last_report = 0.0
            self.epoch = 0
            self.images = 0
            self.status = "finished"
            self.message = ""
            self.stopped_at: tuple[int, int] | None = None
            self.batch_history: list[dict[str, float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            self.images = ((self.epoch - 1) * batches + batch + 1) * batch_size
            now = time.perf_counter()
            loss = float(logs.get("loss", 0.0)) if logs else 0.0
            if not math.isfinite(loss):
                self.status = "nan"
                self.message = _(LOSS_NAN, epoch=self.epoch, batch=batch + 1)
                self.model.stop_training = True
                return
            if should_stop is not None and should_stop():
                self.status = "stopped"
                self.stopped_at = (self.epoch, batch + 1)
                self.message = _(STOPPED_AT, epoch=self.epoch, batch=batch + 1)
                self.model.stop_training = True
            if now - self.last_report >= report_every_s or batch + 1 == batches:
                self.last_report = now
                point = {"epoch": self.epoch - 1 + (batch + 1) / batches, "loss": loss,
                         "accuracy": float(logs.get("accuracy", 0.0))}
                self.batch_history.append(point)
                if on_progress:
                    elapsed = now - self.t0
                    on_progress(Progress("batch", self.epoch, epochs, batch + 1, batches, elapsed,
                                         self.images / max(elapsed, 1e-9), dict(point)))

        def on_epoch_end(self, epoch, logs=None):
            if on_progress:
                elapsed = time.perf_counter() - self.t0
                on_progress(Progress("epoch", epoch + 1, epochs, batches, batches, elapsed,
                                     self.images / max(elapsed, 1e-9),
                                     {k: float(v) for k, v in (logs or {}).items()}))

    return _Reporter()


def _dataset_pipeline(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, augmenter=None):
    """Training batches from images kept in memory as they are stored (uint8): the indices are reshuffled
    every epoch, each batch is gathered, scaled by :func:`cnn.data.to_float_tensor` and augmented. On the full
    MNIST this starts in 0.1-0.3 s where Keras' own adapter for float arrays took about 1 s, and at times
    seconds more to let go of its copies after the last batch (bench/README.md)."""
    import tensorflow as tf

    x, y = tf.constant(images), tf.constant(labels)

    @tf.autograph.experimental.do_not_convert  # plain ops: converting its source took 0.2 s on the first run
    def batch(indices):
        a = to_float_tensor(tf.gather(x, indices))
        return (augmenter(a, training=True, indices=indices) if augmenter is not None else a), tf.gather(y, indices)

    ds = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    # Augmented batches one at a time: the random layers draw from one generator, and batches made side by side
    # took its draws in no fixed order, so one seed gave different runs. Still made ahead of training (prefetch);
    # CIFAR small trained 428-455 photos/s this way, 440-444 side by side (bench/README.md).
    ds = ds.batch(batch_size).map(batch, num_parallel_calls=1 if augmenter is not None else tf.data.AUTOTUNE)
    return without_autotune(ds.prefetch(tf.data.AUTOTUNE))


def without_autotune(ds):
    """``ds`` with tf.data's autotuning model switched off. Its background thread often held up letting go
    of a finished epoch's iterator for 1.3-1.6 s: a one-epoch MNIST run took 6.6 s instead of 5.2 s, four epochs
    19-22 s instead of 16 s (bench/README.md). Without it the augmented CIFAR batches still come as fast: two
    epochs of CIFAR small took 76.3 s either way."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


@dataclass
class Prepared:
    """A model built, compiled and with its training step traced for a run not started yet (:func:`prepare`)."""

    key: str
    model: Any
    view: Any = None  # the model on crops (cnn.crops.crop_view), its step traced too, when the run starts on crops


def build_fresh(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int):
    """The untrained model of ``config``, started as its optimizer's recipe starts it (airbench's: see
    :func:`cnn.airbench.init_weights`)."""
    model = architectures.build_model(config.resolved_spec(), tuple(image_shape), num_classes,
                                      dtype=config.dtype_policy())
    if config.optimizer == "airbench":
        from cnn import airbench

        airbench.init_weights(model)
    return model


def prepare_key(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int, n_train: int) -> str:
    """What a prepared model depends on: the whole config, the images' shape, the classes, the training images."""
    import json

    n = min(n_train, config.train_limit or n_train)
    return json.dumps([config.as_dict(), list(image_shape), int(num_classes), int(n)], sort_keys=True, default=str)


def prepare(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int, n_train: int) -> Prepared:
    """Build and compile the model ``config`` would train, trace its training step on a few blank batches, then
    put every variable back as built (weights, optimizer, random generators' states). A worker does this while
    idle, so a run that presses Train with this config starts at its first batch: tracing is most of a fast
    run's first second. The run then trains exactly as a fresh one would (tests/cnn/test_training.py)."""
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(config.seed)  # as train() does before building: the same initial weights
    n = min(n_train, config.train_limit or n_train)
    steps = math.ceil((n - int(n * config.validation_split)) / config.batch_size)
    model = build_fresh(config, tuple(image_shape), num_classes)
    compile_model(model, config, steps * config.epochs, steps_per_execution(steps))
    variables = list(model.variables) + list(model.optimizer.variables)
    saved = [v.numpy() for v in variables]
    blank = steps_per_execution(steps) * config.batch_size
    labels = np.zeros((blank, num_classes), np.float32)
    model.fit(_dataset_pipeline(np.zeros((blank, *image_shape), np.uint8), labels, config.batch_size, config.seed),
              epochs=1, verbose=0, shuffle=False)
    view = None
    if crops.crop_epochs(config.crop_share, config.epochs):
        view = _crop_view(model, image_shape, steps_per_execution(steps))
        view.fit(_dataset_pipeline(np.zeros((blank, *crops.crop_side(image_shape), image_shape[2]), np.uint8), labels,
                                   config.batch_size, config.seed), epochs=1, verbose=0, shuffle=False)
        view.reset_metrics()
        view.stop_training = False
    for v, value in zip(variables, saved, strict=True):
        v.assign(value)
    model.reset_metrics()
    model.stop_training = False
    return Prepared(prepare_key(config, image_shape, num_classes, n_train), model, view)


def _crop_view(model, image_shape: tuple[int, ...], steps_per_execution: int):
    """The model on crops (:func:`cnn.crops.crop_view`), compiled to train with the model's own optimizer (its
    schedule and momentum go on across the switch to whole images), loss and metrics, which are built now."""
    view = crops.crop_view(model)
    view.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                 steps_per_execution=steps_per_execution)
    x = np.zeros((1, *crops.crop_side(image_shape), image_shape[-1]), np.float32)
    y_pred = view(x, training=False)
    view.compute_metrics(x, np.zeros(y_pred.shape, np.float32), y_pred)  # as build_training_state, for one trace
    view.reset_metrics()
    return view


def train(config: TrainConfig, dataset: Dataset | None = None, *,
          on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          model=None, report_every_s: float = 0.25, evaluate: bool = True,
          prepared: Prepared | None = None) -> TrainResult:
    """Train a model as ``config`` says; see the module docstring for progress and stopping. ``prepared``: this
    run's model from :func:`prepare` (used when its key matches; else the model is built here)."""
    import keras

    ds = dataset if dataset is not None else load_dataset(config.dataset)
    x_all, y_all = ds.train_images, ds.y_train
    if config.train_limit and config.train_limit < len(x_all):
        x_all, y_all = x_all[:config.train_limit], y_all[:config.train_limit]
    check_config(config, len(x_all), ds.image_shape)
    if config.start_from:
        if model is None:  # the command line; the Train page sends it built by the same function
            model = transfer.starting_model(config.start_from, ds.num_classes, ds.image_shape, config.freeze,
                                            config.seed)
        # Made again after seeding, as a worker makes it from its file: layers draw their own random seeds (dropout)
        # when made, so this is what lets the page's path and the command line's train alike for one seed.
        from cnn import store

        keras.utils.set_random_seed(config.seed)
        model = store.load_keras_bytes(store.model_to_bytes(model))
    keras.utils.set_random_seed(config.seed)
    y = keras.utils.to_categorical(y_all, ds.num_classes).astype(np.float32)
    (x_fit, y_fit), val = split_validation(x_all, y, config.validation_split)  # images still as stored
    if val is not None:
        val = (to_float(val[0]), val[1])  # (N, H, W, C) float32 in [0, 1]
    steps = math.ceil(len(x_fit) / config.batch_size)
    view = None
    if prepared is not None and model is None and prepared.key == prepare_key(config, ds.image_shape,
                                                                               ds.num_classes, len(x_all)):
        model, view = prepared.model, prepared.view  # built, compiled and traced already
    else:
        if model is None:
            model = build_fresh(config, ds.image_shape, ds.num_classes)
        compile_model(model, config, steps * config.epochs, steps_per_execution(steps))
    reporter = _progress_callback(on_progress, should_stop, config.epochs, steps, config.batch_size, report_every_s)
    callbacks = [reporter]
    t0 = time.perf_counter()
    from cnn import airbench

    if not config.start_from:  # a fresh model: its first layer is set from these images (counted in the training
        # time, as airbench counts it): a whitened convolution always, a plain 2×2 one in airbench's recipe only
        airbench.whiten_first_layer(model, x_fit, plain_stem=config.optimizer == "airbench")
    if config.optimizer == "airbench":
        callbacks.insert(0, airbench.Lookahead(steps, steps * config.epochs))  # averages before the reporter reads
    history: dict[str, list[float]] = {}
    n_crops = crops.crop_epochs(config.crop_share, config.epochs)
    flip = config.augment and config.augmentation().flip

    def flips(first_epoch: int) -> AlternatingFlips | None:  # the same images mirrored as the epochs go on
        return AlternatingFlips(len(x_fit), steps, config.seed, first_epoch) if flip else None

    if n_crops:  # the first epochs on crops: the same weights, optimizer and callbacks, about half the work
        view = view or _crop_view(model, ds.image_shape, steps_per_execution(steps))
        crop_data = _dataset_pipeline(x_fit, y_fit, config.batch_size, config.seed,
                                      crops.random_crops(crops.crop_side(ds.image_shape), flip, config.seed, flips(0)))
        _extend(history, view.fit(crop_data, epochs=n_crops, validation_data=val, callbacks=callbacks, verbose=0,
                                  shuffle=False).history)
    if reporter.status == "finished":  # not stopped (or diverged) on the crops
        augmenter = build_augmenter(config.augmentation(), config.seed, flips(n_crops)) if config.augment else None
        train_data = _dataset_pipeline(x_fit, y_fit, config.batch_size, config.seed + n_crops, augmenter)
        _extend(history, model.fit(train_data, epochs=config.epochs, initial_epoch=n_crops, validation_data=val,
                                   callbacks=callbacks, verbose=0, shuffle=False).history)  # the pipeline shuffles
    seconds = time.perf_counter() - t0
    test_loss = test_acc = float("nan")
    t1 = time.perf_counter()
    if evaluate and reporter.status != "nan":  # as the Evaluate page and `cnn evaluate` measure it
        ev = evaluation.evaluate(model, ds, tta=tta_level({"config": config.as_dict()}))
        test_loss, test_acc = ev.loss, ev.accuracy
    test_seconds = time.perf_counter() - t1
    if on_progress:
        on_progress(Progress("end", reporter.epoch, config.epochs, steps, steps, seconds,
                             reporter.images / max(seconds, 1e-9), {"test_accuracy": float(test_acc)}))
    epochs_done = len(history.get("loss", []))
    return TrainResult(model, replace(config), history, reporter.batch_history, float(test_loss), float(test_acc),
                       seconds, epochs_done, reporter.status, reporter.message, ds.source,
                       extra={"updates": steps * epochs_done, "test_seconds": test_seconds},
                       class_names=tuple(ds.class_names), image_shape=tuple(ds.image_shape),
                       stopped_at=reporter.stopped_at)


def _extend(history: dict[str, list[float]], more: dict[str, list]) -> None:
    """``history`` with the epochs of another ``fit`` call appended."""
    for k, vals in more.items():
        history.setdefault(k, []).extend(float(v) for v in vals)


def history_from_events(events: list[Progress]) -> tuple[dict[str, list[float]], list[dict[str, float]]]:
    """Epoch history and running batch points from a run's progress events so far (live charts, run records)."""
    history: dict[str, list[float]] = {}
    points = []
    for e in events:
        if e.kind == "epoch":
            for k, v in e.logs.items():
                if k != "learning_rate":
                    history.setdefault(k, []).append(v)
        elif e.kind == "batch":
            points.append(e.logs)
    return history, points


def verdict(result: TrainResult) -> str:
    """Why a run that ran to the end did not learn ("" when it did): it diverged, or it guesses."""
    if result.status != "finished":
        return ""
    k = max(2, len(result.class_names) or 10)
    losses = result.history.get("loss", [])
    last = losses[-1] if losses else float("nan")
    if losses and (not math.isfinite(last) or last > 3 * math.log(k)):
        return _("The run diverged: the training loss ended at {last:,.0f}, far above the {guess:.2f} of plain "
                 "guessing, so the weights blew up instead of learning. Lower the learning rate (try 0.001) or use a "
                 "smaller batch size, then train again.", last=last, guess=math.log(k))
    acc = result.test_accuracy
    updates = result.extra.get("updates", 0)
    if not math.isnan(acc) and acc <= 1.5 / k and 0 < updates < 30:
        return n_("The model did not learn yet: its test accuracy of {acc:.0%} is what guessing gets ({guess:.0%}), "
                  "and it made only {n} weight update (batches of {batch}). Use more training images, more epochs or a "
                  "smaller batch size.", "The model did not learn yet: its test accuracy of {acc:.0%} is what guessing "
                  "gets ({guess:.0%}), and it made only {n} weight updates (batches of {batch}). Use more training "
                  "images, more epochs or a smaller batch size.", updates, acc=acc, guess=1 / k,
                  batch=result.config.batch_size)
    if not math.isnan(acc) and acc <= 1.5 / k:
        return _("The model did not learn: its test accuracy of {acc:.0%} is what guessing gets ({guess:.0%}). Lower "
                 "the learning rate (try 0.001), train for more epochs, or check the layers.", acc=acc, guess=1 / k)
    return ""


def result_metadata(result: TrainResult, made_by: str) -> dict[str, Any]:
    """The JSON metadata stored beside a saved model (see cnn.store), from the run's own facts."""
    config = result.config
    return {
        "dataset": config.dataset,
        "class_names": list(result.class_names),
        "input_shape": list(result.image_shape),
        "arch": config.arch,
        "spec": config.resolved_spec(),
        "config": config.as_dict(),
        "history": result.history,
        "batch_history": result.batch_history[::max(1, len(result.batch_history) // 400)],
        "test": {"loss": result.test_loss, "accuracy": result.test_accuracy},
        "status": result.status,
        "params": int(result.model.count_params()),
        "training_seconds": round(result.seconds, 2),
        "data_source": result.dataset_source,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "made_by": made_by,
    }


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
        on_crops = seconds_per_batch(_crop_view(model, dataset.image_shape, 1), x[:, :h, :w])
        per_batch = (n_crops * on_crops + (config.epochs - n_crops) * per_batch) / config.epochs
    n = len(dataset.train_images)
    if config.train_limit:
        n = min(n, config.train_limit)
    n_fit = n - int(n * config.validation_split)
    return per_batch * math.ceil(n_fit / bs)
