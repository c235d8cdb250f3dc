"""Transfer learning, in one place: which model a dataset may start from, the starting model, its recipe.

A student's own 28×28 grey drawings may start from the shipped digit model (:data:`BASE`): its layers up to
its last feature layer (the registry's flatten or global pooling kinds), frozen or fine-tuned, plus a new
softmax head. ``TrainConfig.start_from`` names the base and ``TrainConfig.freeze`` says whether its layers
stay as they are; :func:`cnn.training.train` builds the starting model from them, so the Train page, the
Transfer learning lesson and ``python -m cnn train --start-from`` train the same network.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from cnn import data, store
from cnn.errors import LabError
from cnn.i18n import _
from cnn.run_config import default_config

BASE = "mnist"  # the shipped digit model: drawings of your own start from what it learned
FEATURE_KINDS = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D")  # where a base is cut


class TransferError(LabError, ValueError):
    """A model cannot be a starting point; the message says why."""


def base_for(dataset: str, image_shape: tuple[int, int, int]) -> str | None:
    """The model ``dataset`` may start from: the shipped digit model for a student's own 28×28 grey drawings."""
    if data.is_user(dataset) and tuple(image_shape) == (28, 28, 1) and store.exists(BASE):
        return BASE
    return None


def recipe(dataset: str, n_train: int | None, start_from: str | None, arch: str = "fast", freeze: bool = False):
    """The recommended TrainConfig: the base's own architecture and recipe when starting from a saved model (a
    fine-tune at the preset's learning rate of a different network jumps about), else ``arch``'s; a small dataset
    gets the small-data recipe (:func:`cnn.run_config.default_config`)."""
    if start_from:
        arch = store.read_meta(start_from).get("arch", "vgg")
    config = default_config(arch if arch != "custom" else "fast", dataset, n_train)
    if start_from:  # a fine-tune reads whole images (cnn/crops.py trains a network from its start)
        config = replace(config, crop_share=0.0)
    return replace(config, start_from=start_from or None, freeze=bool(start_from and freeze))


def cut_layer(base) -> Any:
    """The base's last feature layer (flatten or global pooling), where the new head goes."""
    for layer in base.layers[::-1]:
        if type(layer).__name__ in FEATURE_KINDS:
            return layer
    raise TransferError(_("'{name}' has no Flatten or global pooling layer to cut at, so it cannot start another "
                          "network.", name=base.name))


def transfer_model(base, num_classes: int, freeze: bool = True):
    """A new model: the base's layers up to its last feature layer (frozen, or learning when ``freeze`` is
    False), plus a new softmax head. Its batch normalization layers never learn: Keras 3 keeps one in
    inference mode only when it is not trainable (``fit``'s ``training=True`` overrides a ``training=False``
    call, keras-team/keras#20285). Fine-tuned on a few dozen drawings in batches of 8, their running
    statistics drifted half-way to the new batches', and about one run in fifteen then read its test
    images no better than guessing while its training loss was that of a perfect fit."""
    import keras

    feature_layer = cut_layer(base)
    clone = keras.models.clone_model(base)  # the base may be a shared, cached model: never mutate it
    clone.set_weights(base.get_weights())
    features = keras.Model(clone.inputs, clone.get_layer(feature_layer.name).output, name="base")
    features.trainable = not freeze
    for layer in features.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # keeps the base's statistics, also while the rest is fine-tuned
    inputs = keras.Input(shape=tuple(base.inputs[0].shape[1:]), name="image")
    x = features(inputs, training=False)
    x = keras.layers.Dense(128, activation="relu", name="new_dense")(x)
    x = keras.layers.Dropout(0.3, name="new_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="transfer")


def starting_model(start_from: str, num_classes: int, image_shape: tuple[int, int, int], freeze: bool = False,
                   seed: int = 42):
    """The network a run that starts from the saved model ``start_from`` trains (TransferError when it cannot); its
    new head is initialised from ``seed``, so the same run made anywhere starts from the same weights."""
    import keras

    keras.utils.set_random_seed(seed)
    base = store.load_model(start_from)
    shape = tuple(base.inputs[0].shape[1:])
    if shape != tuple(image_shape):
        raise TransferError(_("'{start_from}' reads {shape} images, not the dataset's {tuple}: it cannot start this "
                              "run.", start_from=start_from, shape=shape, tuple=tuple(image_shape)))
    return transfer_model(base, num_classes, freeze=freeze)
