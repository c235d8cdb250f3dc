"""A bounded value: one kind (a whole number, a number, on or off, text, a folder) within bounds or among choices.

An environment setting (:class:`cnn.settings.Setting`), a hyperparameter (:class:`cnn.hyperparams.Param`) and a
layer's field (:class:`cnn.layers.Field`) are each one: one check says what is wrong in the same words wherever the
value comes from, one parse reads it from text (a share link, the command line, an environment variable), one
table says which words mean on and off.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn.errors import LabError
from cnn.i18n import _

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class OutOfBounds(LabError, ValueError):
    """A value its field does not allow; the message names the field and what it allows. Each owner re-raises it as
    its own error (HyperparamError, SpecError, SettingError)."""


def figure(x: float | None) -> str:
    """A bound or a value as people write it: 8,192 for a whole number, 1e-06 or 0.5 otherwise."""
    if x is None:
        return "?"
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Bounded:
    """A kind of value and what it may be: ``lo`` to ``hi`` for numbers, or one of ``choices``."""

    kind: type  # int, float, bool, str or Path
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()

    def allowed(self) -> str:
        """What it may be, in words (English: the command line's help and the settings table)."""
        if self.choices:
            return ", ".join(map(str, self.choices))
        if self.kind is bool:
            return "1 or 0 (yes/no, true/false, on/off)"
        if self.kind in (int, float):
            return f"{'a whole number' if self.kind is int else 'a number'} from {self.lo:g} to {self.hi:g}"
        return "a folder path" if self.kind is Path else "text"

    def check(self, value: Any, label: str) -> Any:
        """``value`` as this kind if it is allowed; else OutOfBounds naming ``label`` (already in the reader's
        language) and what is allowed."""
        if self.choices:
            if value not in self.choices:
                raise OutOfBounds(_("{label} must be one of {join}; got {value!r}.", label=label,
                                    join=", ".join(map(str, self.choices)), value=value))
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise OutOfBounds(_("{label} must be true or false, got {value!r}.", label=label, value=value))
            return value
        if self.kind not in (int, float):
            return self.kind(value)
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if self.kind is int and not (number and float(value).is_integer()):
            raise OutOfBounds(_("{label} must be a whole number, got {value!r}.", label=label, value=value))
        if not number:
            raise OutOfBounds(_("{label} must be a number, got {value!r}.", label=label, value=value))
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise OutOfBounds(_("{label} must be between {lo} and {hi}, got {value}.", label=label,
                                lo=figure(self.lo), hi=figure(self.hi), value=figure(value)))
        return self.kind(value)

    def parse(self, text: str, label: str) -> Any:
        """A value typed as text, checked: on/off words for a switch, a choice by its name, a number, a path."""
        text = str(text).strip()
        if self.kind is bool:
            if text.lower() in TRUE:
                return True
            if text.lower() in FALSE:
                return False
            raise OutOfBounds(_("{label} must be true or false, got {value!r}.", label=label, value=text))
        if self.choices:
            for choice in self.choices:
                if str(choice) == text:
                    return choice
            return self.check(text, label)
        if self.kind in (int, float):
            try:
                number = float(text)
            except ValueError:
                kind = _("{label} must be a whole number, got {value!r}.") if self.kind is int else \
                    _("{label} must be a number, got {value!r}.")
                raise OutOfBounds(kind.format(label=label, value=text)) from None
            return self.check(number, label)
        return Path(text).expanduser() if self.kind is Path else text
