"""Evaluation: test metrics, confusion matrix, per-class precision/recall and mistakes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.data import Dataset, to_float
from cnn.errors import LabError
from cnn.i18n import _
from cnn.predict import model_input_shape, model_num_classes, predict_proba


class CompatibilityError(LabError, ValueError):
    """A model does not fit a dataset or page (input shape or number of classes)."""


@dataclass(frozen=True)
class Evaluation:
    """Predictions of one model on one test set, computed once; views only render this."""

    probs: np.ndarray  # (N, classes)
    y_true: np.ndarray  # (N,)
    loss: float
    accuracy: float

    @property
    def n(self) -> int:
        return len(self.y_true)

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    def confusion(self) -> np.ndarray:
        """counts[true, predicted]."""
        k = self.probs.shape[1]
        return np.bincount(self.y_true * k + self.y_pred, minlength=k * k).reshape(k, k)

    def per_class(self) -> list[dict[str, float]]:
        """Precision, recall and support of each class."""
        cm = self.confusion()
        tp = np.diag(cm).astype(float)
        predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(predicted > 0, tp / predicted, np.nan)
            recall = np.where(actual > 0, tp / actual, np.nan)
        return [{"precision": float(p), "recall": float(r), "support": int(s)}
                for p, r, s in zip(precision, recall, actual, strict=True)]

    def pair_indices(self, true_class: int, pred_class: int) -> np.ndarray:
        """Test indices with this true class and this prediction, most confident first."""
        idx = np.flatnonzero((self.y_true == true_class) & (self.y_pred == pred_class))
        return idx[np.argsort(-self.probs[idx, pred_class])]

    def confident_mistakes(self, k: int = 16) -> np.ndarray:
        """Indices of the wrong predictions the model was surest about."""
        wrong = np.flatnonzero(self.y_pred != self.y_true)
        return wrong[np.argsort(-self.probs[wrong].max(axis=1))][:k]


def check_compatible(model, ds: Dataset) -> None:
    """Raise CompatibilityError unless the model takes this dataset's images and classes."""
    shape, k = model_input_shape(model), model_num_classes(model)
    if tuple(shape) != tuple(ds.image_shape):
        raise CompatibilityError(_("The model expects images of shape {tuple}, but {name} has {tuple2}. Pick the "
                                   "dataset the model was trained on.",
                                   tuple=tuple(shape), name=ds.name, tuple2=tuple(ds.image_shape)))
    if k != ds.num_classes:
        raise CompatibilityError(_("The model predicts {k} classes, but {name} has {num_classes}.",
                                   k=k, name=ds.name, num_classes=ds.num_classes))


def evaluate(model, ds: Dataset, limit: int | None = None, tta: int = 0) -> Evaluation:
    """Predict the test set once and compute loss and accuracy from the probabilities.

    ``tta``: test-time augmentation level for the model (:func:`cnn.predict.tta_level`).
    """
    check_compatible(model, ds)
    x, y = ds.test_images, ds.y_test
    if limit:
        x, y = x[:limit], y[:limit]
    probs = predict_proba(model, to_float(x), tta=tta)
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], eps, 1.0))))
    acc = float(np.mean(probs.argmax(axis=1) == y))
    return Evaluation(probs, y, loss, acc)
