"""A training run's configuration: the TrainConfig recorded with every saved model, the presets' recipes (the
small-data one for a student's few images), the checks made before any work starts, and the run as Keras code a
student can read and run."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from cnn import architectures, crops, presets, settings
from cnn.augment import AugmentParams, default_params
from cnn.errors import LabError
from cnn.hyperparams import OPTIMIZERS, PRECISIONS, SCHEDULES, TRAIN_LIMITS, HyperparamError, Param, limit_choice
from cnn.i18n import N_, _
from cnn.precision import bf16_fast


def setting(label: str, kind: type, lo: float | None = None, hi: float | None = None, **shown: Any) -> dict:
    """A TrainConfig field's declaration as a setting a student or teacher may change: its label, kind, bounds or
    choices, help, share-link and command-line names (:class:`cnn.hyperparams.Param`, named after the field)."""
    return {"setting": Param("", label, kind, lo, hi, **shown)}


@dataclass
class TrainConfig:
    """Everything that determines a training run (recorded with the saved model)."""

    dataset: str = "mnist"
    arch: str = "fast"
    spec: list[dict[str, Any]] | None = None  # used when arch == "custom"
    epochs: int = field(default=1, metadata=setting(
        N_("Epochs"), int, 1, 500, help=N_("Passes over the training data."), query="epochs", cli="--epochs"))
    batch_size: int = field(default=128, metadata=setting(
        N_("Batch size"), int, 1, 8192, query="batch", cli="--batch-size",
        help=N_("How many images the network looks at before it changes its weights once: a batch. Bigger batches "
                "mean fewer, steadier steps.")))
    optimizer: str = field(default="adam", metadata=setting(
        N_("Optimizer"), str, choices=tuple(OPTIMIZERS), query="optimizer", cli="--optimizer",
        help=N_("How the weights move: adam adapts each weight's step (adam-fast forgets old gradients sooner, "
                "good for one-epoch runs); sgd uses momentum; airbench is sgd with airbench's whole recipe "
                "(a first layer set from the images, weight averaging; for the CIFAR presets)."),
        labels=(("adam-fast", N_("adam, quick to adapt (for one-pass runs)")),
                ("airbench", N_("airbench (sgd, started and averaged as airbench does)")))))
    learning_rate: float = field(default=0.004, metadata=setting(
        N_("Learning rate"), float, 1e-6, 10.0, help=N_("How big each weight update is."), query="lr", cli="--lr",
        step=0.0005, format="%.4f"))
    schedule: str = field(default="cosine", metadata=setting(  # "cosine": linear warm-up then cosine decay to zero
        N_("Learning-rate schedule"), str, choices=SCHEDULES, query="schedule", cli="--schedule",
        help=N_("How the learning rate changes during the run. Cosine: warm up, then glide smoothly down to zero; "
                "usually faster to a good model. Triangle: up for the first quarter, then down in a straight line "
                "(airbench's). Constant: the same all the way."),
        labels=(("constant", N_("constant")), ("cosine", N_("cosine (warm up, then glide to zero)")),
                ("triangle", N_("triangle (up, then down in a line)")))))
    validation_split: float = field(default=0.0, metadata=setting(
        N_("Validation split"), float, 0.0, 0.5, help=N_("Fraction of training images held out to watch for "
                                                          "overfitting."), query="val", cli="--validation-split",
        step=0.05))
    augment: bool = field(default=False, metadata=setting(
        N_("Data augmentation"), bool, help=N_("Random rotation, shift and zoom: see the Data page."),
        query="augment", cli="--augment"))
    seed: int = field(default=42, metadata=setting(
        N_("Seed"), int, 0, 1_000_000, query="seed", cli="--seed",
        help=N_("The starting number for everything random in a run (the first weights, the order of the images). "
                "The same seed starts the same way; another seed gives another run to compare.")))
    label_smoothing: float = field(default=0.0, metadata=setting(
        N_("Label smoothing"), float, 0.0, 0.5, query="smooth", cli="--label-smoothing", step=0.05,
        help=N_("Aim for 0.95 instead of 1.0 on the right class: a little less overconfident.")))
    train_limit: int | None = field(default=None, metadata=setting(  # at most this many images (lessons, demos)
        N_("Training images to use"), str, choices=TRAIN_LIMITS, query="limit", cli="--limit",
        help=N_("Fewer images: faster, less accurate. Handy for a quick demo.")))
    augment_params: dict[str, Any] | None = None  # None: the dataset's defaults
    precision: str = field(default="auto", metadata=setting(  # "auto": bfloat16 where measured faster (precision.py)
        N_("Number format"), str, choices=PRECISIONS, query="precision", cli="--precision",
        help=N_("auto: bfloat16 (half-size numbers) where this computer measured it faster, else float32.")))
    start_from: str | None = None  # a saved model whose layers start this run (transfer learning, cnn/transfer.py)
    freeze: bool = False  # with start_from: the base's layers stay as they are and only the new head learns
    crop_share: float = field(default=0.0, metadata=setting(  # the first epochs on random crops (cnn/crops.py)
        N_("Small crops first"), float, 0.0, 0.8, query="crops", cli="--crop-share", step=0.05,
        help=N_("Share of the epochs, the first ones, that train on random crops of 3/4 of each image (24x24 of a "
                "32x32 photo): about half the work per image, so more epochs fit the same time. The last epochs and "
                "testing read whole images. Only for networks that end in global pooling, like CIFAR small.")))

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


class TrainingError(LabError):
    """A training run could not start; the message says why, in words a student understands."""


def optimizer_code(name: str, learning_rate: float) -> str:
    """The Keras expression :func:`make_optimizer` builds (without the schedule), as code."""
    cls, kwargs = OPTIMIZERS[name]
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    return f"keras.optimizers.{cls}(learning_rate={learning_rate:g}{args})"


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
        check_values(config.as_dict())
    except HyperparamError as e:
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
    limit = memory_limit_bytes if memory_limit_bytes is not None else memory_budget()
    if need > limit:
        raise TrainingError(_("Batch size {batch_size:,} needs about {need:.1f} GiB for activations, more than the "
                              "{limit:.1f} GiB this server allows per training. Use a smaller batch size.",
                              batch_size=config.batch_size, need=need / 2**30, limit=limit / 2**30))


def memory_budget() -> int:
    """Per-job activation memory allowed: a quarter of physical memory (``CNN_JOB_MEMORY_GB`` overrides)."""
    return int(settings.value("CNN_JOB_MEMORY_GB") * 2**30)


# The schema of the settings a student or teacher may change: read from TrainConfig's own declaration, so that a
# setting, its bounds and its field are written once. The Train page's widgets, the share link, the command line's
# options and check_config all read it.
SCHEMA: tuple[Param, ...] = tuple(replace(f.metadata["setting"], name=f.name) for f in fields(TrainConfig)
                                  if "setting" in f.metadata)
PARAMS: dict[str, Param] = {p.name: p for p in SCHEMA}
BY_QUERY: dict[str, Param] = {p.query: p for p in SCHEMA if p.query}


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """A recorded run's config (a saved model's ``meta["config"]``, a run record's) back as a TrainConfig; settings
    this version does not know are left out, and the known ones are checked as the Train page checks them."""
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in values.items() if k in known})
    check_values(config.as_dict())
    return config


def config_values(config: Any) -> dict[str, Any]:
    """The schema's settings of a TrainConfig, as widget values."""
    values = {p.name: getattr(config, p.name) for p in SCHEMA}
    values["train_limit"] = limit_choice(values["train_limit"])
    return values


def check_values(values: dict[str, Any]) -> None:
    """Check every schema setting present in ``values`` (TrainConfig fields); HyperparamError on the first bad one."""
    for name, value in values.items():
        if name in PARAMS:
            if name == "train_limit":
                if value is not None and not (isinstance(value, int) and value >= 1):
                    raise HyperparamError(_("Training images to use must be a positive whole number, got {value!r}.",
                                            value=value))
                continue
            PARAMS[name].check(value)
