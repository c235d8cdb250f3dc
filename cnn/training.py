"""Training: one train function that reports progress and can be stopped, and a run's model prepared ahead.

The caller passes ``on_progress`` (called from the training thread with plain data at a
bounded rate, and at every epoch end) and ``should_stop`` (polled after every batch).
Stopping keeps the weights and the history so far; a NaN loss stops with an explanation.
The run's configuration is :mod:`cnn.run_config`, its batches :mod:`cnn.input_pipeline`, its optimizer
:mod:`cnn.optimizers`, what it reports and produces :mod:`cnn.run_results`.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cnn import architectures, crops, evaluation, keras_files, transfer
from cnn.augment import AlternatingFlips, build_augmenter
from cnn.data import Dataset, to_float
from cnn.dataset_sources import load_dataset
from cnn.i18n import M_, _
from cnn.input_pipeline import dataset_pipeline, split_validation
from cnn.optimizers import compile_model, steps_per_execution
from cnn.precision import bf16_fast
from cnn.predict import tta_level
from cnn.run_config import TrainConfig, check_config
from cnn.run_results import LOSS_NAN, STOPPED_AT, Progress, TrainResult, extend_history


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
                self.message = M_(LOSS_NAN, epoch=self.epoch, batch=batch + 1)
                self.model.stop_training = True
                return
            if should_stop is not None and should_stop():
                self.status = "stopped"
                self.stopped_at = (self.epoch, batch + 1)
                self.message = M_(STOPPED_AT, epoch=self.epoch, batch=batch + 1)
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


@dataclass
class Prepared:
    """A model built, compiled and with its training step traced for a run not started yet (:func:`prepare`)."""

    key: str
    model: Any
    view: Any = None  # the model on crops (cnn.crops.crop_view), its step traced too, when the run starts on crops
    # Made too when prepare() is given the dataset (used by a run on that very object): the run's arrays and the
    # pipeline of its first epoch (crops or whole images)
    data: Dataset | None = None
    fit: _FitData | None = None
    first_batches: Any = None


@dataclass
class _FitData:
    """What a run fits: training images as stored, one-hot labels, validation images as floats, batches an epoch."""

    x: np.ndarray
    y: np.ndarray
    val: tuple[np.ndarray, np.ndarray] | None
    steps: int


def _fit_data(config: TrainConfig, ds: Dataset) -> _FitData:
    """The run's training and validation arrays, ``train_limit`` applied."""
    import keras

    x_all, y_all = ds.train_images, ds.y_train
    if config.train_limit and config.train_limit < len(x_all):
        x_all, y_all = x_all[:config.train_limit], y_all[:config.train_limit]
    y = keras.utils.to_categorical(y_all, ds.num_classes).astype(np.float32)
    (x_fit, y_fit), val = split_validation(x_all, y, config.validation_split)  # images still as stored
    if val is not None:
        val = (to_float(val[0]), val[1])  # (N, H, W, C) float32 in [0, 1]
    return _FitData(x_fit, y_fit, val, math.ceil(len(x_fit) / config.batch_size))


def _batches(config: TrainConfig, image_shape: tuple[int, ...], fit: _FitData, on_crops: bool):
    """The training pipeline of the run's crop epochs (``on_crops``), or of its epochs on whole images: augmented as
    the config says, mirrored alternately epoch after epoch."""
    n_crops = crops.crop_epochs(config.crop_share, config.epochs)
    flip = config.augment and config.augmentation().flip

    def flips(first_epoch: int) -> AlternatingFlips | None:  # the same images mirrored as the epochs go on
        return AlternatingFlips(len(fit.x), fit.steps, config.seed, first_epoch) if flip else None

    if on_crops:
        return dataset_pipeline(fit.x, fit.y, config.batch_size, config.seed,
                                crops.random_crops(crops.crop_side(image_shape), flip, config.seed, flips(0)))
    augmenter = build_augmenter(config.augmentation(), config.seed, flips(n_crops)) if config.augment else None
    return dataset_pipeline(fit.x, fit.y, config.batch_size, config.seed + n_crops, augmenter)


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


def prepare(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int, n_train: int,
            dataset: Dataset | None = None) -> Prepared:
    """Build and compile the model ``config`` would train, trace its training step on a few blank batches, then
    put every variable back as built (weights, optimizer, random generators' states). A worker does this while
    idle, so a run that presses Train with this config starts at its first batch: tracing is most of a fast
    run's first second. With ``dataset``, the run's arrays and its first epoch's pipeline are made too (0.1-0.25 s
    of the full MNIST's first batch, bench/README.md), for a run on that same dataset object. The run then trains
    exactly as a fresh one would (tests/cnn/test_training.py)."""
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
    model.fit(dataset_pipeline(np.zeros((blank, *image_shape), np.uint8), labels, config.batch_size, config.seed),
              epochs=1, verbose=0, shuffle=False)
    view = None
    if crops.crop_epochs(config.crop_share, config.epochs):
        view = compiled_crop_view(model, image_shape, steps_per_execution(steps))
        view.fit(dataset_pipeline(np.zeros((blank, *crops.crop_side(image_shape), image_shape[2]), np.uint8), labels,
                                   config.batch_size, config.seed), epochs=1, verbose=0, shuffle=False)
        view.reset_metrics()
        view.stop_training = False
    for v, value in zip(variables, saved, strict=True):
        v.assign(value)
    model.reset_metrics()
    model.stop_training = False
    prepared = Prepared(prepare_key(config, image_shape, num_classes, n_train), model, view)
    if dataset is not None and tuple(dataset.image_shape) == tuple(image_shape):
        # made as train() makes them, after the same seeding: a pipeline's shuffle takes the global seed when made
        keras.utils.set_random_seed(config.seed)
        prepared.data, prepared.fit = dataset, _fit_data(config, dataset)
        prepared.first_batches = _batches(config, image_shape, prepared.fit,
                                          bool(crops.crop_epochs(config.crop_share, config.epochs)))
    return prepared


def compiled_crop_view(model, image_shape: tuple[int, ...], steps_per_execution: int):
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
    n_train = min(len(ds.train_images), config.train_limit or len(ds.train_images))
    check_config(config, n_train, ds.image_shape)
    if config.start_from:
        if model is None:  # the command line; the Train page sends it built by the same function
            model = transfer.starting_model(config.start_from, ds.num_classes, ds.image_shape, config.freeze,
                                            config.seed)
        # Made again after seeding, as a worker makes it from its file: layers draw their own random seeds (dropout)
        # when made, so this is what lets the page's path and the command line's train alike for one seed.
        keras.utils.set_random_seed(config.seed)
        model = keras_files.load_keras_bytes(keras_files.model_to_bytes(model))
    keras.utils.set_random_seed(config.seed)
    warm = prepared is not None and model is None and prepared.key == prepare_key(config, ds.image_shape,
                                                                                 ds.num_classes, n_train)
    ready = warm and prepared.data is ds  # its arrays and first epoch's batches made from this very dataset too
    fit = prepared.fit if ready else _fit_data(config, ds)
    first_batches = prepared.first_batches if ready else None
    x_fit, val, steps = fit.x, fit.val, fit.steps
    view = None
    if warm:
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
    if n_crops:  # the first epochs on crops: the same weights, optimizer and callbacks, about half the work
        view = view or compiled_crop_view(model, ds.image_shape, steps_per_execution(steps))
        crop_data = first_batches if first_batches is not None else _batches(config, ds.image_shape, fit, True)
        extend_history(history, view.fit(crop_data, epochs=n_crops, validation_data=val, callbacks=callbacks, verbose=0,
                                  shuffle=False).history)
    if reporter.status == "finished":  # not stopped (or diverged) on the crops
        train_data = first_batches if first_batches is not None and not n_crops else \
            _batches(config, ds.image_shape, fit, False)
        extend_history(history, model.fit(train_data, epochs=config.epochs, initial_epoch=n_crops, validation_data=val,
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
