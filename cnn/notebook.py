"""A run as a Jupyter notebook: the seed tutorial's steps with the run's own settings, in plain Keras.

:func:`make` writes the notebook (nbformat 4) a student takes home: load the data (Keras' loader, or a copy beside
the notebook), preprocess it as the lab does, build the same layers, compile with the same optimizer, schedule and
loss, train with the same seed and batch size, evaluate, save, plot the history and read one test image. The
Markdown cells speak the student's language. :func:`export` packs it: a notebook alone for the standard datasets,
a zip with the images (an ``.npz`` in Keras' own layout) for a student's own dataset. Runs that need the lab's own
code (airbench's optimizer, the whitened first layer, small crops first, a start from a saved model) are refused
with the reason: their notebook would not be the same run.
"""
from __future__ import annotations

import inspect
import io
import json
import zipfile
from typing import Any

import numpy as np

from cnn import architectures, data
from cnn.errors import LabError
from cnn.hyperparams import OPTIMIZERS
from cnn.i18n import _
from cnn.run_config import TrainConfig

KERAS_LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10"}
NBFORMAT = 4


class NotebookError(LabError):
    """A run that a plain-Keras notebook would not reproduce; the message says why."""


def refusal(config: TrainConfig) -> str:
    """Why this run cannot be a plain-Keras notebook ("" when it can)."""
    if config.optimizer == "airbench":
        return _("it trains with airbench's recipe (its own optimizer and weight averaging), which plain Keras does "
                 "not have")
    if config.crop_share:
        return _("its first epochs train on small crops, which needs CNN Lab's own training loop")
    if config.start_from:
        return _("it starts from the saved model '{name}', which the notebook would need too", name=config.start_from)
    if any(layer.get("type") == "whitenconv" for layer in config.resolved_spec()):
        return _("its first layer is CNN Lab's whitened convolution, set from the images before training")
    return ""


def _md(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": text.strip() + "\n"}


def data_file(dataset: str) -> str:
    """The name of the copy of the data a notebook reads when Keras' loader cannot (Keras' own layout)."""
    return f"{data.user_name(dataset) if data.is_user(dataset) else dataset}.npz"


def _load_cell(config: TrainConfig) -> str:
    loader = KERAS_LOADERS.get(config.dataset)
    local = data_file(config.dataset)
    read = '    x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]'
    lines = ["from pathlib import Path", "", "import numpy as np", "", f'LOCAL_COPY = Path("{local}")', ""]
    if loader:
        lines += ["try:", f"    (x_train, y_train), (x_test, y_test) = keras.datasets.{loader}.load_data()",
                  "except Exception as error:  # offline: the copy beside this notebook",
                  "    if not LOCAL_COPY.exists():",
                  "        raise RuntimeError(f\"Keras could not download the data ({error}) and there is no "
                  "{LOCAL_COPY} here\") from error",
                  "    with np.load(LOCAL_COPY) as f:", "    " + read]
    else:
        lines += ["with np.load(LOCAL_COPY) as f:", read]
    lines += ["print(x_train.shape, x_test.shape)"]
    return "\n".join(lines)


def _optimizer_cell(config: TrainConfig) -> str:
    cls, kwargs = OPTIMIZERS[config.optimizer]
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    lines = ["import math", "", f"LEARNING_RATE = {config.learning_rate!r}",
             "steps_per_epoch = math.ceil(len(x_train) * (1 - VALIDATION_SPLIT) / BATCH_SIZE)",
             "total_steps = steps_per_epoch * EPOCHS"]
    if config.schedule == "cosine":
        lines += ["warmup = max(1, min(total_steps // 10, 200))",
                  "learning_rate = keras.optimizers.schedules.CosineDecay(",
                  "    initial_learning_rate=LEARNING_RATE / 10, decay_steps=max(1, total_steps - warmup), alpha=0.0,",
                  "    warmup_target=LEARNING_RATE, warmup_steps=warmup)"]
    elif config.schedule == "triangle":
        from cnn.airbench import Triangle

        lines += ["", inspect.getsource(Triangle).rstrip(), "", "learning_rate = Triangle(LEARNING_RATE, total_steps)"]
    else:
        lines += ["learning_rate = LEARNING_RATE"]
    lines += [f"optimizer = keras.optimizers.{cls}(learning_rate=learning_rate{args})",
              "model.compile(optimizer=optimizer,",
              f"              loss=keras.losses.CategoricalCrossentropy(label_smoothing={config.label_smoothing!r}),",
              '              metrics=["accuracy"])']
    return "\n".join(lines)


def _fit_cell(config: TrainConfig) -> str:
    if not config.augment:
        return ("history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,\n"
                "                    validation_split=VALIDATION_SPLIT, verbose=2)")
    a = config.augmentation()
    layers = []
    if a.rotation_deg:
        layers.append(f"    layers.RandomRotation({a.rotation_deg / 360:.4g}, fill_mode=\"constant\", seed=SEED),")
    if a.shift:
        layers.append(f"    layers.RandomTranslation({a.shift:.4g}, {a.shift:.4g}, fill_mode=\"constant\", seed=SEED),")
    if a.zoom:
        layers.append(f"    layers.RandomZoom({a.zoom:.4g}, fill_mode=\"constant\", seed=SEED),")
    if a.flip:
        layers.append('    layers.RandomFlip("horizontal", seed=SEED),')
    return "\n".join([
        "import tensorflow as tf", "",
        "augment = keras.Sequential([", *layers, "])",
        "n_fit = int(len(x_train) * (1 - VALIDATION_SPLIT))",
        "fit_data = (tf.data.Dataset.from_tensor_slices((x_train[:n_fit], y_train[:n_fit]))",
        "            .shuffle(n_fit, seed=SEED).batch(BATCH_SIZE)",
        "            .map(lambda x, y: (augment(x, training=True), y)))",
        "validation = (x_train[n_fit:], y_train[n_fit:]) if VALIDATION_SPLIT else None",
        "history = model.fit(fit_data, epochs=EPOCHS, validation_data=validation, verbose=2)"])


def make(config: TrainConfig, image_shape: tuple[int, int, int], class_names: list[str], title: str = "") -> dict:
    """The notebook of a run (an nbformat 4 document as a dict); NotebookError for a run it would not reproduce."""
    why = refusal(config)
    if why:
        raise NotebookError(_("This run cannot be a notebook in plain Keras: {why}.", why=why))
    h, w, c = image_shape
    num_classes = len(class_names)
    spec = config.resolved_spec()
    limit = f"x_train, y_train = x_train[:{config.train_limit}], y_train[:{config.train_limit}]\n" \
        if config.train_limit else ""
    name = title or f"{config.arch}-{config.dataset}".replace(":", "-")
    settings = "\n".join(f"| {k} | `{v}` |" for k, v in (
        (_("Dataset"), config.dataset), (_("Network"), config.arch), (_("Epochs"), config.epochs),
        (_("Batch size"), config.batch_size), (_("Optimizer"), config.optimizer),
        (_("Learning rate"), config.learning_rate), (_("Learning-rate schedule"), config.schedule),
        (_("Label smoothing"), config.label_smoothing), (_("Validation split"), config.validation_split),
        (_("Data augmentation"), config.augment), (_("Training images to use"), config.train_limit or _("all")),
        (_("Seed"), config.seed)))
    cells = [
        _md(f"# {name}\n\n" + _("This notebook trains the network of your CNN Lab run again, step by step, in plain "
                                "Keras: the same layers, the same settings, the same seed. Open it in Jupyter or "
                                "Colab and choose **Run all**. It needs `pip install tensorflow keras numpy "
                                "matplotlib`.") + f"\n\n| | |\n|---|---|\n{settings}\n\n"
            + _("Two runs with the same seed land close to each other, not always on the same last digit: the order "
                "of floating-point sums differs between machines.")),
        _code(f"import keras\nfrom keras import layers\n\nSEED = {config.seed}\nEPOCHS = {config.epochs}\n"
              f"BATCH_SIZE = {config.batch_size}\nVALIDATION_SPLIT = {config.validation_split!r}\n"
              f"CLASS_NAMES = {json.dumps(list(class_names), ensure_ascii=False)}\n"
              "keras.utils.set_random_seed(SEED)  # the first weights and the order of the images"),
        _md(_("## 1. Load the data") + "\n\n" + (
            _("Keras downloads the images once. Without internet, put a copy next to this notebook as `{file}`, with "
              "the arrays `x_train`, `y_train`, `x_test`, `y_test` (as Keras' loader gives them): that is what CNN "
              "Lab does offline, with its own copy.", file=data_file(config.dataset))
            if config.dataset in KERAS_LOADERS else
            _("Your own images come in `{file}`, next to this notebook (in the zip you downloaded), with the arrays "
              "`x_train`, `y_train`, `x_test`, `y_test`.", file=data_file(config.dataset)))),
        _code(_load_cell(config)),
        _md(_("## 2. Preprocess") + "\n\n" + _(
            "Pixels from 0-255 to 0-1, one channel axis for grey images, and each label as a one-hot vector (a 1 at "
            "its class, 0 elsewhere).") + (" " + _("Like your run, only the first {n} training images are used.",
                                                   n=config.train_limit) if config.train_limit else "")),
        _code(f"{limit}x_train = (x_train.astype(\"float32\") / 255).reshape(-1, {h}, {w}, {c})\n"
              f"x_test = (x_test.astype(\"float32\") / 255).reshape(-1, {h}, {w}, {c})\n"
              f"y_train = keras.utils.to_categorical(y_train.ravel(), {num_classes})\n"
              f"y_test = keras.utils.to_categorical(y_test.ravel(), {num_classes})"),
        _md(_("## 3. Build the layers") + "\n\n" + _("The same network as your run, layer by layer, with the names "
                                                     "CNN Lab gives them.")),
        _code(architectures.to_keras_code(spec, image_shape, num_classes).replace("import keras\nfrom keras import "
                                                                                  "layers\n\n", "")),
        _md(_("## 4. Compile") + "\n\n" + _("The optimizer, its learning-rate schedule and the loss of your run.")),
        _code(_optimizer_cell(config)),
        _md(_("## 5. Train") + "\n\n" + _("The last share of the training images is held out to watch for "
                                          "overfitting, as Keras' `validation_split` does.")),
        _code(_fit_cell(config)),
        _md(_("## 6. Evaluate") + "\n\n" + _("Accuracy on test images the network never saw.")),
        _code("test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
              "print(f\"test accuracy: {test_accuracy:.4f}, test loss: {test_loss:.4f}\")"),
        _md(_("## 7. Save") + "\n\n" + _("A `.keras` file: open it again with `keras.saving.load_model`, or upload "
                                         "it to CNN Lab.")),
        _code(f'model.save("{name}.keras")'),
        _md(_("## 8. Plot the history") + "\n\n" + _("Loss and accuracy after each epoch.")),
        _code("import matplotlib.pyplot as plt\n\n"
              "fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))\n"
              "for key in (\"loss\", \"val_loss\"):\n"
              "    if key in history.history:\n        left.plot(history.history[key], label=key)\n"
              "for key in (\"accuracy\", \"val_accuracy\"):\n"
              "    if key in history.history:\n        right.plot(history.history[key], label=key)\n"
              "left.set_xlabel(\"epoch\"); right.set_xlabel(\"epoch\"); left.legend(); right.legend()\nplt.show()"),
        _md(_("## 9. Predict one image") + "\n\n" + _("The first test image, and what the network reads in it.")),
        _code("probabilities = model.predict(x_test[:1], verbose=0)[0]\n"
              "plt.imshow(x_test[0].squeeze(), cmap=\"gray\" if x_test.shape[-1] == 1 else None)\nplt.axis(\"off\")\n"
              "plt.title(f\"{CLASS_NAMES[probabilities.argmax()]} ({probabilities.max():.0%})\")\nplt.show()"),
    ]
    return {"nbformat": NBFORMAT, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def to_bytes(nb: dict) -> bytes:
    """The notebook as an ``.ipynb`` file (cells get the ids nbformat 4.5 asks for)."""
    for i, cell in enumerate(nb["cells"]):
        cell.setdefault("id", f"cell-{i}")
    return (json.dumps(nb, ensure_ascii=False, indent=1) + "\n").encode()


def keras_layout(ds: data.Dataset) -> bytes:
    """A dataset's images and labels as Keras' loaders give them (uint8 images, integer labels), as an ``.npz``."""
    buf = io.BytesIO()
    squeeze = ds.train_images.shape[-1] == 1
    np.savez_compressed(buf, x_train=ds.train_images[..., 0] if squeeze else ds.train_images, y_train=ds.y_train,
                        x_test=ds.test_images[..., 0] if squeeze else ds.test_images, y_test=ds.y_test)
    return buf.getvalue()


def export(config: TrainConfig, ds: data.Dataset, title: str = "") -> tuple[str, bytes]:
    """(file name, bytes): the notebook alone for a standard dataset, or a zip with the images of a student's own."""
    nb = to_bytes(make(config, ds.image_shape, data.class_titles(ds.name, ds.class_names), title))
    stem = (title or f"{config.arch}-{config.dataset}").replace(":", "-")
    if not data.is_user(config.dataset):
        return f"{stem}.ipynb", nb
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{stem}.ipynb", nb)
        z.writestr(data_file(config.dataset), keras_layout(ds))
    return f"{stem}.zip", buf.getvalue()
