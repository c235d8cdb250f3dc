"""The computations behind the concept lessons, in plain NumPy so students can read them.

Convolution and pooling here are the textbook definitions (cross-correlation, as Keras does
it); tests check them against SciPy and Keras. Comparisons (dropout, batch norm,
augmentation, transfer learning) are small seeded training runs through cnn.training.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnn import transfer
from cnn.i18n import M_, N_, _
from cnn.layers import conv_out

KERNELS: dict[str, np.ndarray] = {
    N_("identity"): np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    N_("vertical edges"): np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    N_("horizontal edges"): np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32),
    N_("all edges (Laplacian)"): np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32),
    N_("blur"): np.full((3, 3), 1 / 9, np.float32),
    N_("sharpen"): np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
    N_("emboss"): np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32),
}


def _pad_same(image: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    h, w = image.shape
    out_h, out_w = conv_out(h, kernel, stride, "same"), conv_out(w, kernel, stride, "same")
    pad_h = max(0, (out_h - 1) * stride + kernel - h)
    pad_w = max(0, (out_w - 1) * stride + kernel - w)
    return np.pad(image, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """2-D convolution of one channel as a CNN layer computes it (no kernel flip, like Keras)."""
    image = np.asarray(image, np.float32)
    kernel = np.asarray(kernel, np.float32)
    k = kernel.shape[0]
    if padding == "same":
        image = _pad_same(image, k, stride)
    if image.shape[0] < k or image.shape[1] < k:
        raise ValueError(_("A {k}×{k} kernel does not fit a {shape}×{shape2} image without padding.",
                           k=k, shape=image.shape[0], shape2=image.shape[1]))
    windows = sliding_window_view(image, kernel.shape)[::stride, ::stride]  # (out_h, out_w, k, k)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def pool(fmap: np.ndarray, size: int = 2, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Max or average pooling of one feature map ('valid', like Keras' default)."""
    stride = stride or size
    windows = sliding_window_view(np.asarray(fmap, np.float32), (size, size))[::stride, ::stride]
    return windows.max(axis=(2, 3)) if mode == "max" else windows.mean(axis=(2, 3))


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ReLU": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "leaky ReLU (0.2)": lambda z: np.where(z > 0, z, 0.2 * z),
}


def shift_right(fmap: np.ndarray, pixels: int) -> np.ndarray:
    """A feature map as it would be for the image moved ``pixels`` to the right (convolution moves with its input;
    the columns that come in are empty)."""
    out = np.zeros_like(fmap)
    out[:, pixels:] = fmap[:, :fmap.shape[1] - pixels] if pixels else fmap
    return out


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """How different two maps of the same size are: 0 the same, 1 nothing in common (the summed absolute change
    over the summed size of both)."""
    return float(np.abs(a - b).sum() / max(1e-12, float(np.abs(a).sum() + np.abs(b).sum())))


def tutorial_variant(units: int = 1024, global_pool: bool = False) -> list[dict[str, Any]]:
    """The classic tutorial's layers with another dense width, and Flatten or global average pooling before it."""
    from cnn import presets

    spec = presets.get("tutorial").spec()
    for layer in spec:
        if layer["type"] == "dense":
            layer["units"] = int(units)
    return [{"type": "gap"} if layer["type"] == "flatten" and global_pool else layer for layer in spec]


def parameter_breakdown(model) -> list[dict[str, Any]]:
    """Each layer's parameters and share of the total, with the formula that gives them."""
    import keras

    total = max(1, model.count_params())
    rows = []
    for layer in model.layers:
        n = int(layer.count_params())
        formula = ""
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            formula = _("{kh}×{kw}×{cin}×{cout} weights + {cout} biases", kh=kh, kw=kw, cin=cin, cout=cout)
        elif isinstance(layer, keras.layers.Dense):
            nin, nout = layer.kernel.shape
            formula = _("{nin:,}×{nout:,} weights + {nout:,} biases", nin=nin, nout=nout)
        elif isinstance(layer, keras.layers.BatchNormalization):
            formula = _("4×{n} (scale, shift, running mean and variance)", n=layer.gamma.shape[0])
        rows.append({"layer": layer.name, "type": type(layer).__name__, "params": n,
                     "share": n / total, "formula": formula})
    return rows


def with_dropout(spec: list[dict], rate: float) -> list[dict]:
    """The spec with a Dropout after every dense layer and after the last pooling (rate 0: removed)."""
    out = [layer for layer in spec if layer["type"] != "dropout"]
    if rate <= 0:
        return out
    result = []
    for layer in out:
        result.append(layer)
        if layer["type"] in ("dense", "flatten", "gap"):
            result.append({"type": "dropout", "rate": rate})
    return result


def with_batchnorm(spec: list[dict], on: bool) -> list[dict]:
    """The spec with BatchNorm between every conv and its activation (or with none at all)."""
    result = []
    for layer in spec:
        if layer["type"] == "batchnorm":
            continue
        if layer["type"] == "conv2d" and on and layer.get("activation", "linear") != "linear":
            result += [{**layer, "activation": "linear"}, {"type": "batchnorm"},
                       {"type": "activation", "activation": layer["activation"]}]
        else:
            result.append(layer)
    return result


def transform_test_images(images: np.ndarray, max_shift: int = 4, max_rotation: float = 20.0,
                          seed: int = 0) -> np.ndarray:
    """Shift and rotate test images at random (seeded), to test robustness learned by augmentation."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    out = np.empty_like(images, dtype=np.float32)
    for i, img in enumerate(np.asarray(images, np.float32)):
        angle = rng.uniform(-max_rotation, max_rotation)
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        rotated = ndimage.rotate(img, angle, axes=(0, 1), reshape=False, order=1, mode="constant")
        out[i] = ndimage.shift(rotated, (dy, dx, 0), order=0, mode="constant")
    return np.clip(out, 0, 1)


# ---------------------------------------------------------------- the comparison lessons
# Each lesson is a few seeded runs (what the page trains) and a verdict: whether the run shows what the
# lesson teaches, in words. The page and tests/cnn/test_lessons.py use the same functions.

SMALL_SPEC: list[dict[str, Any]] = [
    {"type": "conv2d", "filters": 16, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
    {"type": "maxpool", "size": 2},
    {"type": "conv2d", "filters": 32, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"},
    {"type": "maxpool", "size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 256, "activation": "relu"},
]
_CONV16 = {"type": "conv2d", "filters": 16, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"}
_CONV32 = {**_CONV16, "filters": 32}
DEEP_SPEC: list[dict[str, Any]] = [_CONV16, _CONV16, {"type": "maxpool", "size": 2}, _CONV32, _CONV32,
                                   {"type": "maxpool", "size": 2}, {"type": "gap"}]


@dataclass(frozen=True)
class LessonRun:
    """One run of a comparison: its label, its config and, for transfer, the model it starts from."""

    label: str
    config: Any  # cnn.run_config.TrainConfig
    start_from: Callable[[], Any] | None = None


@dataclass(frozen=True)
class Verdict:
    """Whether the runs show what the lesson teaches, and the figures that say so."""

    holds: bool
    text: str


@dataclass(frozen=True)
class Comparison:
    """A comparison lesson: which images it trains on, the seeded runs it trains (``runs(seed=..., **options)``),
    and the verdict on their results (``verdict(results, dataset)``): the Lessons page and the tests use it."""

    key: str  # the page's run group
    dataset: str
    n_train: int  # training images (before the validation split), unless the lesson lets the student choose
    teaches: str  # "That is ..." when the verdict holds
    runs: Callable[..., list[LessonRun]]
    verdict: Callable[[list, Any], Verdict]
    retry: str = N_("Small runs vary: try another seed.")
    metric: str = "accuracy"  # the curves compared


def _config(**kw):
    from cnn.run_config import TrainConfig

    return TrainConfig(**{"arch": "custom", "schedule": "constant", "seed": 1, "optimizer": "adam", **kw})


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a trained model in inference mode (dropout off, batch norm's running statistics)."""
    from cnn.predict import predict_proba

    return float(np.mean(predict_proba(model, x).argmax(1) == y))


_CHANGES = {  # (what, how) -> the sentence, whole, so that each language can word it its own way
    ("validation", "same"): N_("Validation accuracy hardly changed ({before:.1%}, then {after:.1%})"),
    ("validation", "up"): N_("Validation accuracy rose from {before:.1%} to {after:.1%}"),
    ("validation", "down"): N_("Validation accuracy fell from {before:.1%} to {after:.1%}"),
    ("test", "same"): N_("test accuracy hardly changed ({before:.1%}, then {after:.1%})"),
    ("test", "up"): N_("test accuracy rose from {before:.1%} to {after:.1%}"),
    ("test", "down"): N_("test accuracy fell from {before:.1%} to {after:.1%}"),
}


def _change(before: float, after: float, what: str) -> str:
    """"Validation accuracy rose from 92.7% to 93.7%" / "test accuracy hardly changed (92.7%, then 92.9%)"."""
    how = "same" if abs(after - before) < 0.005 else "up" if after > before else "down"
    return _(_CHANGES[what, how], before=before, after=after)


def dropout_runs(seed: int = 1, rate: float = 0.5) -> list[LessonRun]:
    base = dict(dataset="mnist", epochs=15, batch_size=32, learning_rate=0.001, validation_split=0.3, seed=seed)
    return [LessonRun(N_("no dropout"), _config(spec=with_dropout(SMALL_SPEC, 0), **base)),
            LessonRun(M_("dropout {rate:g}", rate=rate), _config(spec=with_dropout(SMALL_SPEC, rate), **base))]


def dropout_measures(results: list, ds) -> dict[str, float]:
    """Overfitting measured like with like: accuracy on the training images and on the validation images, both
    with dropout switched off (during training, the curves' training accuracy is measured with it on)."""
    from cnn.data import to_float
    from cnn.input_pipeline import split_validation

    (_a, without), (_b, with_) = results
    (x_fit, y_fit), (x_val, y_val) = split_validation(to_float(ds.train_images), ds.y_train,
                                                      without.config.validation_split)
    fit = [_accuracy(r.model, x_fit, y_fit) for r in (without, with_)]
    val = [_accuracy(r.model, x_val, y_val) for r in (without, with_)]
    return {"fit_without": fit[0], "fit_with": fit[1], "val_without": val[0], "val_with": val[1],
            "baseline": fit[0] - val[0], "treated": fit[1] - val[1], "test_without": without.test_accuracy,
            "test_with": with_.test_accuracy}


def dropout_verdict(results: list, ds) -> Verdict:
    m = dropout_measures(results, ds)
    text = _("Measured the same way (dropout off), training accuracy was {fit0:.1%} without dropout and {fit1:.1%} "
             "with it, so the gap to validation accuracy (overfitting) went from {gap0:.1%} to {gap1:.1%}.",
             fit0=m["fit_without"], fit1=m["fit_with"], gap0=m["baseline"], gap1=m["treated"])
    text += f" {_change(m['val_without'], m['val_with'], 'validation')}; "
    text += f"{_change(m['test_without'], m['test_with'], 'test')}."
    shrink, spread = m["baseline"] - m["treated"], SPREAD["lesson_dropout"]
    if shrink > spread:
        return Verdict(True, text)
    return Verdict(False, text + " " + _("That is within how much the gap moves between seeds here ({spread:.1%}), so "
                                         "these runs do not show it.", spread=spread))


def batchnorm_runs(seed: int = 1) -> list[LessonRun]:
    base = dict(dataset="mnist", epochs=6, batch_size=64, learning_rate=0.05, validation_split=0.2, optimizer="sgd",
                seed=seed)
    return [LessonRun(N_("without batch norm"), _config(spec=with_batchnorm(DEEP_SPEC, False), **base)),
            LessonRun(N_("with batch norm"), _config(spec=with_batchnorm(DEEP_SPEC, True), **base))]


def batchnorm_measures(results: list, ds=None) -> dict[str, float]:
    (_a, without), (_b, with_) = results
    return {"baseline": without.history["loss"][1], "treated": with_.history["loss"][1]}


def batchnorm_verdict(results: list, ds=None) -> Verdict:
    m = batchnorm_measures(results, ds)
    a, b, spread = m["baseline"], m["treated"], SPREAD["lesson_bn"]
    if a - b > spread:
        text = _("After 2 epochs the training loss was {a:.3f} without batch norm and {b:.3f} with it: faster with "
                 "batch norm.", a=a, b=b)
    else:
        text = _("After 2 epochs the training loss was {a:.3f} without batch norm and {b:.3f} with it: about the same, "
                 "within how much it moves between seeds here ({spread:.3f}).", a=a, b=b, spread=spread)
    return Verdict(a - b > spread, text)


def augmentation_runs(seed: int = 1) -> list[LessonRun]:
    base = dict(dataset="mnist", spec=SMALL_SPEC, epochs=8, batch_size=64, learning_rate=0.002,
                validation_split=0.2, seed=seed)
    return [LessonRun(N_("without augmentation"), _config(augment=False, **base)),
            LessonRun(N_("with augmentation"), _config(augment=True, **base))]


def moved_test_images(ds) -> np.ndarray:
    """The lesson's test images, shifted and rotated (the same every time)."""
    from cnn.data import to_float

    return transform_test_images(to_float(ds.test_images), seed=0)


def moved_accuracy(model, moved: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on test images that were shifted and rotated (:func:`transform_test_images`)."""
    return _accuracy(model, moved, labels)


def augmentation_measures(results: list, ds) -> dict[str, float]:
    (_a, without), (_b, with_) = results
    moved = moved_test_images(ds)
    return {"baseline": moved_accuracy(without.model, moved, ds.y_test),
            "treated": moved_accuracy(with_.model, moved, ds.y_test)}


def augmentation_verdict(results: list, ds) -> Verdict:
    m = augmentation_measures(results, ds)
    a, b, spread = m["baseline"], m["treated"], SPREAD["lesson_aug"]
    text = _("On shifted and rotated test images: {a:.1%} without augmentation, {b:.1%} with it.", a=a, b=b)
    if b - a > spread:
        return Verdict(True, text)
    return Verdict(False, text + " " + _("That is within how much it moves between seeds here ({spread:.1%}).",
                                         spread=spread))


TRANSFER_IMAGES = (100, 200, 500)
TRANSFER_DEFAULT = 200
TRANSFER_BATCH, TRANSFER_STEPS = 16, 300  # every run gets the same few hundred steps, however few the images


def transfer_runs(seed: int = 1, base=None, spec: list[dict[str, Any]] | None = None, num_classes: int = 10,
                  n_train: int = TRANSFER_DEFAULT) -> list[LessonRun]:
    """From scratch, from the base frozen (a new head learns), and from the base fine-tuned (everything learns):
    the same network, batch, augmentation and number of steps (enough for batch norm's running statistics to
    settle in the run from scratch, which would otherwise make a broken baseline)."""
    n_fit = n_train - int(n_train * 0.2)
    epochs = max(10, math.ceil(TRANSFER_STEPS / math.ceil(n_fit / TRANSFER_BATCH)))
    cfg = dict(dataset="fashion_mnist", epochs=epochs, batch_size=TRANSFER_BATCH, learning_rate=0.001,
               validation_split=0.2, augment=True, seed=seed)
    return [LessonRun(N_("from scratch"), _config(spec=spec, **cfg)),
            LessonRun(N_("transfer, frozen"), _config(spec=spec, **cfg),
                      lambda: transfer.transfer_model(base, num_classes, freeze=True)),
            LessonRun(N_("transfer, fine-tuned"), _config(spec=spec, **cfg),
                      lambda: transfer.transfer_model(base, num_classes, freeze=False))]


def transfer_measures(results: list, ds=None) -> dict[str, float]:
    scratch, frozen, tuned = (r.test_accuracy for _label, r in results)  # in the order of transfer_runs
    return {"baseline": scratch, "frozen": frozen, "fine_tuned": tuned, "treated": max(frozen, tuned)}


def transfer_verdict(results: list, ds=None) -> Verdict:
    """What starting from the digit model did here, against a sound start from scratch: only what the numbers
    show (within the seed-to-seed spread of the run from scratch is "about the same")."""
    m = transfer_measures(results, ds)
    scratch, frozen, tuned, spread = m["baseline"], m["frozen"], m["fine_tuned"], SPREAD["lesson_tl"]
    how, best = max(((_("fine-tuned"), tuned), (_("frozen"), frozen)), key=lambda kv: kv[1])
    figures = _("Test accuracy: {scratch:.1%} from scratch, {frozen:.1%} with the digit model's layers frozen, "
                "{tuned:.1%} fine-tuned from them.", scratch=scratch, frozen=frozen, tuned=tuned)
    if best - scratch > spread:
        return Verdict(True, figures + " " + _("Starting from the digit model ({how}) read {more:.1%} more of the "
                                               "test images than starting from scratch.", how=how, more=best - scratch))
    if scratch - best > spread:
        return Verdict(False, figures + " " + _("Here the digit model's start did worse than starting from scratch: "
                                                "digit strokes did not help with clothes."))
    return Verdict(False, figures + " " + _("Here the digit model's start was about as good as starting from scratch "
                                            "(within {spread:.1%}, as much as runs from scratch differ between "
                                            "seeds): digit strokes helped little with clothes.", spread=spread))


DROPOUT = Comparison("lesson_dropout", "mnist", 1000, N_("dropout holding back overfitting"), dropout_runs,
                     dropout_verdict, retry=N_("Small runs vary: try another seed or another rate."))
BATCHNORM = Comparison("lesson_bn", "mnist", 3000, N_("batch norm speeding up training"), batchnorm_runs,
                       batchnorm_verdict, metric="loss")
AUGMENTATION = Comparison("lesson_aug", "mnist", 2000, N_("augmentation teaching robustness"), augmentation_runs,
                          augmentation_verdict)
TRANSFER = Comparison("lesson_tl", "fashion_mnist", TRANSFER_DEFAULT, N_("transfer learning helping when images "
                                                                         "are few"), transfer_runs, transfer_verdict,
                      retry=N_("Small runs vary: try another seed, or fewer images, where a head start matters most."))

# How much each lesson's baseline measure moves between seeds 1, 2 and 3 on the lesson's own data (the range, from
# bench/lesson_spread.py; bench/README.md): a verdict calls a difference real only beyond it. Dropout: the gap between
# training and validation accuracy without dropout; batch norm: the training loss after 2 epochs without it;
# augmentation: accuracy on moved test digits without it; transfer: test accuracy from scratch.
SPREAD = {"lesson_dropout": 0.007, "lesson_bn": 0.035, "lesson_aug": 0.017, "lesson_tl": 0.047}
MEASURES = {"lesson_dropout": dropout_measures, "lesson_bn": batchnorm_measures, "lesson_aug": augmentation_measures,
            "lesson_tl": transfer_measures}


def measured(key: str, results: list, ds) -> dict[str, float]:
    """The numbers a lesson's verdict compares ("baseline" and "treated" among them), for bench/lesson_spread.py."""
    return MEASURES[key](results, ds)
