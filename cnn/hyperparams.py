"""The hyperparameter schema: every training setting once, with its type, bounds, choices and help.

The Train page's widgets, the classroom share link, the command line's options and
:func:`cnn.run_config.check_config` all read :data:`SCHEMA`, so a limit is written in one place
and a bad value gets the same message wherever it comes from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnn.errors import LabError
from cnn.fields import Bounded, OutOfBounds, figure
from cnn.i18n import N_, _

OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    # name -> (keras.optimizers class, its arguments besides the learning rate)
    "adam": ("Adam", {}),
    # Adam with shorter memories (beta_1 0.7, beta_2 0.9): reacts faster, which pays off in a run of
    # a few hundred steps (the fast preset; after tuomaso/train_mnist_fast).
    "adam-fast": ("Adam", {"beta_1": 0.7, "beta_2": 0.9}),
    "sgd": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", {}),
    "adamw": ("AdamW", {"weight_decay": 1e-4}),
    # airbench's recipe (cnn/airbench.py): this SGD with per-layer rates, weight averaging and a starting point
    # set from the images. Its weight decay is airbench's 0.0153 per 1024 images at rate 11.5, through momentum.
    "airbench": ("SGD", {"momentum": 0.85, "nesterov": True, "weight_decay": round(0.0153 / 0.15 / 11.5, 6)}),
}
SCHEDULES = ("constant", "cosine", "triangle")
TRAIN_LIMITS = ("all", 10000, 5000, 2000, 1000, 500)
PRECISIONS = ("auto", "float32", "bfloat16")
CHOICE_WORDS = (N_("all"), N_("auto"))  # choices the page shows translated


class HyperparamError(LabError, ValueError):
    """A setting is out of bounds or of the wrong kind; the message names it and its bounds."""


@dataclass(frozen=True)
class Param:
    """One training setting: a TrainConfig field, how it is shown, and what values it may take."""

    name: str  # the TrainConfig field
    label: str  # widget label, and the name in messages
    kind: type  # int, float, bool or str
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    help: str = ""
    query: str = ""  # share-link parameter ("" when not shared)
    cli: str = ""  # command-line flag ("" when not offered)
    step: float | None = None  # widget step
    format: str | None = None  # widget number format
    labels: tuple[tuple[Any, str], ...] = ()  # how a choice reads on the page, where its name is jargon

    def label_of(self, choice: Any) -> str:
        """A choice as the page shows it."""
        return dict(self.labels).get(choice, str(choice))

    @property
    def bounds(self) -> Bounded:
        return Bounded(self.kind, self.lo, self.hi, self.choices)

    def allowed(self) -> str:
        """The allowed values in words: "1 to 500", "adam, sgd, ..."."""
        if self.kind is bool:
            return "on or off"
        return self.bounds.allowed() if self.choices else f"{figure(self.lo)} to {figure(self.hi)}"

    def check(self, value: Any) -> Any:
        """The value if it is allowed, else HyperparamError with the bounds."""
        try:
            return self.bounds.check(value, _(self.label))
        except OutOfBounds as e:
            raise HyperparamError(str(e)) from None

    def parse(self, text: str) -> Any:
        """A value typed as text (a share link, the command line), checked."""
        try:
            return self.bounds.parse(text, _(self.label))
        except OutOfBounds as e:
            raise HyperparamError(str(e)) from None



SCHEMA: tuple[Param, ...] = (
    Param("epochs", N_("Epochs"), int, 1, 500, help=N_("Passes over the training data."), query="epochs",
          cli="--epochs"),
    Param("batch_size", N_("Batch size"), int, 1, 8192, help=N_("Images per weight update."), query="batch",
          cli="--batch-size"),
    Param("optimizer", N_("Optimizer"), str, choices=tuple(OPTIMIZERS),
          help=N_("How the weights move: adam adapts each weight's step (adam-fast forgets old gradients sooner, "
                  "good for one-epoch runs); sgd uses momentum; airbench is sgd with airbench's whole recipe "
                  "(a first layer set from the images, weight averaging; for the CIFAR presets)."), query="optimizer",
          cli="--optimizer", labels=(("adam-fast", N_("adam, quick to adapt (for one-pass runs)")),
                                     ("airbench", N_("airbench (sgd, started and averaged as airbench does)")))),
    Param("learning_rate", N_("Learning rate"), float, 1e-6, 10.0, help=N_("How big each weight update is."),
          query="lr", cli="--lr", step=0.0005, format="%.4f"),
    Param("validation_split", N_("Validation split"), float, 0.0, 0.5,
          help=N_("Fraction of training images held out to watch for overfitting."), query="val",
          cli="--validation-split", step=0.05),
    Param("schedule", N_("Learning-rate schedule"), str, choices=SCHEDULES,
          help=N_("cosine: warm up, then decay smoothly to zero; usually faster to a good model. triangle: up "
                  "for the first quarter, then down in a straight line (airbench's)."),
          query="schedule", cli="--schedule"),
    Param("augment", N_("Data augmentation"), bool, help=N_("Random rotation, shift and zoom: see the Data page."),
          query="augment", cli="--augment"),
    Param("seed", N_("Seed"), int, 0, 1_000_000, help=N_("Same seed, same run (on the CPU)."), query="seed",
          cli="--seed"),
    Param("train_limit", N_("Training images to use"), str, choices=TRAIN_LIMITS,
          help=N_("Fewer images: faster, less accurate. Handy for a quick demo."), query="limit", cli="--limit"),
    Param("label_smoothing", N_("Label smoothing"), float, 0.0, 0.5,
          help=N_("Aim for 0.95 instead of 1.0 on the right class: a little less overconfident."),
          query="smooth", cli="--label-smoothing", step=0.05),
    Param("precision", N_("Number format"), str, choices=PRECISIONS,
          help=N_("auto: bfloat16 (half-size numbers) where this computer measured it faster, else float32."),
          query="precision", cli="--precision"),
    Param("crop_share", N_("Small crops first"), float, 0.0, 0.8,
          help=N_("Share of the epochs, the first ones, that train on random crops of 3/4 of each image (24x24 of a "
                  "32x32 photo): about half the work per image, so more epochs fit the same time. The last epochs and "
                  "testing read whole images. Only for networks that end in global pooling, like CIFAR small."),
          query="crops", cli="--crop-share", step=0.05),
)
PARAMS: dict[str, Param] = {p.name: p for p in SCHEMA}
BY_QUERY: dict[str, Param] = {p.query: p for p in SCHEMA if p.query}


def limit_value(choice: Any) -> int | None:
    """The TrainConfig value of a "Training images to use" choice ("all" is None)."""
    return None if choice in (None, "all") else int(choice)


def limit_choice(value: int | None) -> Any:
    """The widget choice for a TrainConfig train_limit."""
    return "all" if value is None else value


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
