"""What a training setting is (:class:`Param`: its label, bounds or choices, help, share-link and command-line
names) and the choices some settings offer. The settings themselves are declared on TrainConfig's fields
(:data:`cnn.run_config.SCHEMA`): the Train page's widgets, the share link, the command line's options and
:func:`cnn.run_config.check_config` all read that, so a limit is written in one place and a bad value gets the
same message wherever it comes from.
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



def limit_value(choice: Any) -> int | None:
    """The TrainConfig value of a "Training images to use" choice ("all" is None)."""
    return None if choice in (None, "all") else int(choice)


def limit_choice(value: int | None) -> Any:
    """The widget choice for a TrainConfig train_limit."""
    return "all" if value is None else value
