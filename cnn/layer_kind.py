"""What a kind of layer is: :class:`LayerKind` (fields, output shape, parameters, Keras layer and code, reading
back), its :class:`Field` settings, the :data:`KINDS` registry and :class:`SpecError`. The kinds themselves are in
:mod:`cnn.layers`, which registers them on import.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from cnn.errors import LabError
from cnn.fields import Bounded, OutOfBounds
from cnn.i18n import N_

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "gelu", "linear")
PADDINGS = ("same", "valid")
Shape = tuple[int, ...]


class SpecError(LabError, ValueError):
    """An invalid layer stack; ``index`` is the offending layer (or None for the whole spec)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Field:
    """One setting of a layer: its type, default, bounds or choices, and how the editor labels it."""

    name: str
    label: str
    kind: type  # int, float or str
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    step: float | None = None
    help: str = ""

    def check(self, layer: dict, where: str, index: int) -> Any:
        """The layer's value of this field (its default when absent), or SpecError naming the layer."""
        try:
            return Bounded(self.kind, self.lo, self.hi, self.choices).check(layer.get(self.name, self.default),
                                                                            f"{where}: '{self.name}'")
        except OutOfBounds as e:
            raise SpecError(str(e), index) from None


def activation(default: str = "relu") -> Field:
    return Field("activation", N_("Activation"), str, default, choices=ACTIVATIONS)


def conv_out(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output length of a convolution or pooling along one axis (Keras' rule)."""
    if padding == "same":
        return math.ceil(size / stride)
    return max(0, (size - kernel) // stride + 1)


def keras_activation(act: str | None) -> str:
    return "linear" if act in (None, "linear") else act


def spec_activation(act: Any) -> str:
    """An activation as a spec stores it (Keras may give a function or a dict)."""
    return act if isinstance(act, str) else "linear"


class LayerKind:
    """One kind of layer; subclasses set the class attributes and override what they need."""

    type: ClassVar[str]  # the spec's "type"
    title: ClassVar[str]  # shown in the editor
    help: ClassVar[str]  # one line: what it does
    prefix: ClassVar[str]  # readable Keras names: conv1, pool2, ...
    fields: ClassVar[tuple[Field, ...]] = ()
    needs: ClassVar[str] = "any"  # "spatial" (feature maps), "flat" (a vector) or "any"
    keras_type: ClassVar[str] = ""  # the Keras layer class it builds, as a model summary names it

    # ------------------------------------------------------------ the spec side (pure Python)

    def defaults(self) -> dict[str, Any]:
        return {"type": self.type, **{f.name: f.default for f in self.fields}}

    def checked(self, layer: dict, where: str, index: int) -> dict[str, Any]:
        """The layer's fields, checked, with defaults for the absent ones."""
        return {f.name: f.check(layer, where, index) for f in self.fields}

    def output_shape(self, v: dict[str, Any], shape: Shape, where: str, index: int) -> Shape:
        return shape

    def params(self, v: dict[str, Any], shape: Shape, out: Shape) -> int:
        """Trainable and non-trainable parameters, as Keras counts them."""
        return 0

    # ------------------------------------------------------------ the Keras side

    def build(self, v: dict[str, Any], name: str, x, layers):
        """Apply this kind's Keras layer(s) named ``name`` to tensor ``x``; ``layers`` is keras.layers."""
        raise NotImplementedError

    def code(self, v: dict[str, Any], name: str) -> list[str]:
        """The Python lines that do what :meth:`build` does (``x`` in, ``x`` out)."""
        raise NotImplementedError

    def read(self, layer) -> dict[str, Any] | None:
        """The spec of a single Keras layer of this kind, or None if it is not one."""
        return None


KINDS: dict[str, LayerKind] = {}


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Add a kind to the registry (in the order the editor lists them)."""
    KINDS[cls.type] = cls()
    return cls


