"""The layer registry: every kind of layer a CNN Lab spec may hold, each defined once.

A kind is one small class (:class:`~cnn.layer_kind.LayerKind`): its fields (with defaults and bounds), the shape it
outputs, its parameter count, the Keras layer(s) it builds, the line of Keras code that builds them, and how to read
it back from a Keras model. Validation, model building, code export, reading a model back (:mod:`cnn.architectures`),
the layer editor's widgets and the lessons all iterate over :data:`KINDS`; nothing else names a layer type. Adding a
kind is one class here plus its tests.
"""
from __future__ import annotations

from typing import Any, ClassVar

from cnn.i18n import N_, _
from cnn.layer_kind import (
    ACTIVATIONS,
    KINDS,
    PADDINGS,
    Field,
    LayerKind,
    SpecError,
    activation,
    conv_out,
    keras_activation,
    register,
    spec_activation,
)

__all__ = ["ACTIVATIONS", "KINDS", "PADDINGS", "Field", "LayerKind", "SpecError", "conv_out", "kind"]


@register
class Conv2D(LayerKind):
    type, title, prefix, needs = "conv2d", N_("Convolution"), "conv", "spatial"
    keras_type = "Conv2D"
    help = N_("slides learned filters over the image")
    fields = (Field("filters", N_("Filters"), int, 32, 1, 1024), Field("kernel", N_("Kernel"), int, 3, 1, 15),
              Field("stride", N_("Stride"), int, 1, 1, 8, help=N_("How many pixels the filter jumps at each step: 2 "
                                                                   "halves the size of the maps.")),
              Field("padding", N_("Padding"), str, "same", choices=PADDINGS,
                    help=N_("same: a border of zeros keeps the maps as big as the input; valid: no border, the maps "
                            "shrink at the edges.")), activation())

    def output_shape(self, v, shape, where, index):
        h, w = (conv_out(s, v["kernel"], v["stride"], v["padding"]) for s in shape[:2])
        if h < 1 or w < 1:
            raise SpecError(_("{where}: a {kernel}×{kernel} kernel with '{padding}' padding does not fit the "
                              "{ih}×{iw} input; output would be {h}×{w}. Use 'same' padding, a smaller "
                              "kernel, or fewer pooling layers before it.", where=where, kernel=v["kernel"],
                              padding=v["padding"], ih=shape[0], iw=shape[1], h=h, w=w), index)
        return (h, w, v["filters"])

    def params(self, v, shape, out):
        return (v["kernel"] ** 2 * shape[2] + 1) * v["filters"]

    def build(self, v, name, x, layers):
        return layers.Conv2D(v["filters"], v["kernel"], strides=v["stride"], padding=v["padding"],
                             activation=keras_activation(v["activation"]), name=name)(x)

    def code(self, v, name):
        return [f'x = layers.Conv2D({v["filters"]}, ({v["kernel"]}, {v["kernel"]}), strides={v["stride"]}, '
                f'padding="{v["padding"]}", activation="{keras_activation(v["activation"])}", name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        if type(layer) is not layers.Conv2D:  # not its subclasses (separable, depthwise)
            return None
        cfg = layer.get_config()
        (k, k2), (s, s2) = cfg["kernel_size"], cfg["strides"]
        if k != k2 or s != s2 or tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1) or cfg.get("groups", 1) != 1:
            return None
        return {"type": self.type, "filters": cfg["filters"], "kernel": k, "stride": s, "padding": cfg["padding"],
                "activation": spec_activation(cfg["activation"])}


@register
class SeparableConv2D(Conv2D):
    type, title, prefix = "sepconv2d", N_("Depthwise-separable convolution"), "sepconv"
    keras_type = "SeparableConv2D"
    help = N_("a filter per channel, then a 1×1 mix: far fewer weights than a convolution")

    def params(self, v, shape, out):
        return v["kernel"] ** 2 * shape[2] + shape[2] * v["filters"] + v["filters"]

    def build(self, v, name, x, layers):
        return layers.SeparableConv2D(v["filters"], v["kernel"], strides=v["stride"], padding=v["padding"],
                                      activation=keras_activation(v["activation"]), name=name)(x)

    def code(self, v, name):
        return [line.replace("layers.Conv2D(", "layers.SeparableConv2D(") for line in super().code(v, name)]

    def read(self, layer):
        from keras import layers

        if type(layer) is not layers.SeparableConv2D:
            return None
        cfg = layer.get_config()
        (k, k2), (s, s2) = cfg["kernel_size"], cfg["strides"]
        if k != k2 or s != s2 or cfg.get("depth_multiplier", 1) != 1:
            return None
        return {"type": self.type, "filters": cfg["filters"], "kernel": k, "stride": s, "padding": cfg["padding"],
                "activation": spec_activation(cfg["activation"])}


@register
class WhitenedConv(LayerKind):
    """airbench's first layer, whitening then a 3×3 convolution, computed as one (cnn.airbench.WhitenedConv2D)."""

    type, title, prefix, needs = "whitenconv", N_("Whitened convolution"), "wconv", "spatial"
    keras_type = "WhitenedConv2D"
    help = N_("first layer only: a 3×3 convolution of the image's 2×2 patches, each turned into independent, "
              "equally strong directions measured from the training images (not learned)")
    fields = (Field("filters", N_("Filters"), int, 32, 1, 1024),)

    def output_shape(self, v, shape, where, index):
        if index != 0:
            raise SpecError(_("{where}: a whitened convolution is set from the images themselves, so it must be the "
                              "first layer. Move it to the top or use a convolution.", where=where), index)
        if shape[0] < 2 or shape[1] < 2:
            raise SpecError(_("{where}: 2×2 patches do not fit a {h}×{w} image.", where=where, h=shape[0],
                              w=shape[1]), index)
        return (shape[0] - 1, shape[1] - 1, v["filters"])

    def params(self, v, shape, out):
        n = 4 * shape[2]  # the whitened directions: 4 pixels × channels
        return (4 * shape[2] + 1) * n + (9 * n + 1) * v["filters"]

    def build(self, v, name, x, layers):
        from cnn.airbench import WhitenedConv2D

        return WhitenedConv2D(v["filters"], name=name)(x)

    def code(self, v, name):
        return ["from cnn.airbench import WhitenedConv2D  # CNN Lab's layer: whitening (set from the images) then a "
                "3×3 convolution", f'x = WhitenedConv2D({v["filters"]}, name="{name}")(x)']

    def read(self, layer):
        from cnn.airbench import WhitenedConv2D

        return {"type": self.type, "filters": layer.filters} if type(layer) is WhitenedConv2D else None


class _Pool(LayerKind):
    needs = "spatial"
    fields = (Field("size", N_("Pool size"), int, 2, 1, 8),)
    keras_class: ClassVar[str]

    def output_shape(self, v, shape, where, index):
        p = v["size"]
        if shape[0] // p < 1 or shape[1] // p < 1:
            raise SpecError(_("{where}: {p}×{p} pooling of a {shape}×{shape2} feature map leaves nothing (spatial "
                              "size below 1). Remove a pooling layer or use a smaller pool size.",
                              where=where, p=p, shape=shape[0], shape2=shape[1]), index)
        return (shape[0] // p, shape[1] // p, shape[2])

    def build(self, v, name, x, layers):
        return getattr(layers, self.keras_class)(v["size"], name=name)(x)

    def code(self, v, name):
        return [f'x = layers.{self.keras_class}(({v["size"]}, {v["size"]}), name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        if type(layer) is not getattr(layers, self.keras_class):
            return None
        cfg = layer.get_config()
        size, strides = tuple(cfg["pool_size"]), tuple(cfg["strides"] or cfg["pool_size"])
        if size[0] != size[1] or strides != size or cfg["padding"] != "valid":
            return None
        return {"type": self.type, "size": size[0]}


@register
class MaxPool(_Pool):
    type, title, prefix, keras_class = "maxpool", N_("Max pooling"), "pool", "MaxPooling2D"
    keras_type = "MaxPooling2D"
    help = N_("keeps the strongest response in each window")


@register
class AvgPool(_Pool):
    type, title, prefix, keras_class = "avgpool", N_("Average pooling"), "pool", "AveragePooling2D"
    keras_type = "AveragePooling2D"
    help = N_("averages each window")


@register
class BatchNorm(LayerKind):
    type, title, prefix = "batchnorm", N_("Batch normalisation"), "bn"
    keras_type = "BatchNormalization"
    help = N_("rescales activations to a steady range; speeds up training")

    def params(self, v, shape, out):
        return 4 * shape[-1]

    def build(self, v, name, x, layers):
        return layers.BatchNormalization(momentum=0.9, name=name)(x)  # momentum 0.9: settles on short runs

    def code(self, v, name):
        return [f'x = layers.BatchNormalization(momentum=0.9, name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        return {"type": self.type} if type(layer) is layers.BatchNormalization else None


@register
class Activation(LayerKind):
    type, title, prefix = "activation", N_("Activation"), "act"
    keras_type = "Activation"
    help = N_("an activation function on its own")
    fields = (activation(),)

    def build(self, v, name, x, layers):
        return layers.Activation(keras_activation(v["activation"]), name=name)(x)

    def code(self, v, name):
        return [f'x = layers.Activation("{keras_activation(v["activation"])}", name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        if type(layer) is not layers.Activation:
            return None
        return {"type": self.type, "activation": spec_activation(layer.get_config()["activation"])}


@register
class Dropout(LayerKind):
    type, title, prefix = "dropout", N_("Dropout"), "dropout"
    keras_type = "Dropout"
    help = N_("randomly silences units while training")
    fields = (Field("rate", N_("Rate"), float, 0.25, 0.0, 0.95, step=0.05),)

    def build(self, v, name, x, layers):
        return layers.Dropout(v["rate"], name=name)(x)

    def code(self, v, name):
        return [f'x = layers.Dropout({v["rate"]:g}, name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        return {"type": self.type, "rate": float(layer.get_config()["rate"])} if type(layer) is layers.Dropout else None


@register
class Flatten(LayerKind):
    type, title, prefix, needs = "flatten", N_("Flatten"), "flatten", "spatial"
    keras_type = "Flatten"
    help = N_("turns feature maps into one long vector")

    def output_shape(self, v, shape, where, index):
        return (shape[0] * shape[1] * shape[2],)

    def build(self, v, name, x, layers):
        return layers.Flatten(name=name)(x)

    def code(self, v, name):
        return [f'x = layers.Flatten(name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        return {"type": self.type} if type(layer) is layers.Flatten else None


@register
class GlobalAveragePooling(LayerKind):
    type, title, prefix, needs = "gap", N_("Global average pooling"), "gap", "spatial"
    keras_type = "GlobalAveragePooling2D"
    help = N_("one number per feature map: its average")

    def output_shape(self, v, shape, where, index):
        return (shape[2],)

    def build(self, v, name, x, layers):
        return layers.GlobalAveragePooling2D(name=name)(x)

    def code(self, v, name):
        return [f'x = layers.GlobalAveragePooling2D(name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        return {"type": self.type} if type(layer) is layers.GlobalAveragePooling2D else None


@register
class GlobalMaxPooling(GlobalAveragePooling):
    type, title, prefix = "gmp", N_("Global max pooling"), "gmp"
    keras_type = "GlobalMaxPooling2D"
    help = N_("one number per feature map: its strongest response")

    def build(self, v, name, x, layers):
        return layers.GlobalMaxPooling2D(name=name)(x)

    def code(self, v, name):
        return [f'x = layers.GlobalMaxPooling2D(name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        return {"type": self.type} if type(layer) is layers.GlobalMaxPooling2D else None


@register
class Dense(LayerKind):
    type, title, prefix, needs = "dense", N_("Dense (fully connected)"), "dense", "flat"
    keras_type = "Dense"
    help = N_("connects every input number to every unit")
    fields = (Field("units", N_("Units"), int, 128, 1, 8192), activation())

    def output_shape(self, v, shape, where, index):
        return (v["units"],)

    def params(self, v, shape, out):
        return (shape[0] + 1) * v["units"]

    def build(self, v, name, x, layers):
        return layers.Dense(v["units"], activation=keras_activation(v["activation"]), name=name)(x)

    def code(self, v, name):
        return [f'x = layers.Dense({v["units"]}, activation="{keras_activation(v["activation"])}", name="{name}")(x)']

    def read(self, layer):
        from keras import layers

        if type(layer) is not layers.Dense:
            return None
        cfg = layer.get_config()
        return {"type": self.type, "units": cfg["units"], "activation": spec_activation(cfg["activation"])}


@register
class Residual(LayerKind):
    """Two 3×3-style convolutions whose output is added to the block's input (He et al., 2016)."""

    type, title, prefix, needs = "residual", N_("Residual block"), "res", "spatial"
    keras_type = "Residual block"
    help = N_("two convolutions plus a shortcut that adds the input back: lets deep networks train")
    fields = (Field("filters", N_("Filters"), int, 32, 1, 1024), Field("kernel", N_("Kernel"), int, 3, 1, 7))

    def output_shape(self, v, shape, where, index):
        return (shape[0], shape[1], v["filters"])

    def params(self, v, shape, out):
        k, cin, f = v["kernel"], shape[2], v["filters"]
        projection = (cin + 1) * f if cin != f else 0
        return (k * k * cin + 1) * f + (k * k * f + 1) * f + projection

    def build(self, v, name, x, layers):
        f, k = v["filters"], v["kernel"]
        y = layers.Conv2D(f, k, padding="same", activation="relu", name=f"{name}_conv1")(x)
        y = layers.Conv2D(f, k, padding="same", name=f"{name}_conv2")(y)
        shortcut = x if x.shape[-1] == f else layers.Conv2D(f, 1, name=f"{name}_proj")(x)
        y = layers.Add(name=f"{name}_add")([shortcut, y])
        return layers.Activation("relu", name=name)(y)

    def code(self, v, name):
        f, k = v["filters"], v["kernel"]
        return [f'y = layers.Conv2D({f}, ({k}, {k}), padding="same", activation="relu", name="{name}_conv1")(x)',
                f'y = layers.Conv2D({f}, ({k}, {k}), padding="same", name="{name}_conv2")(y)',
                f'shortcut = x if x.shape[-1] == {f} else layers.Conv2D({f}, (1, 1), name="{name}_proj")(x)',
                f'x = layers.Add(name="{name}_add")([shortcut, y])',
                f'x = layers.Activation("relu", name="{name}")(x)']

    def read_block(self, conv1, conv2, projection) -> dict[str, Any] | None:
        """The spec of a residual block from its Keras layers (see :func:`cnn.architectures.spec_from_model`)."""
        first, second = Conv2D().read(conv1), Conv2D().read(conv2)
        if not first or not second or first["kernel"] != second["kernel"] or first["filters"] != second["filters"]:
            return None
        if first["stride"] != 1 or first["padding"] != "same" or first["activation"] != "relu":
            return None
        if second["activation"] != "linear" or (projection is not None and Conv2D().read(projection) is None):
            return None
        return {"type": self.type, "filters": first["filters"], "kernel": first["kernel"]}


def kind(layer_type: str) -> LayerKind | None:
    return KINDS.get(layer_type)
