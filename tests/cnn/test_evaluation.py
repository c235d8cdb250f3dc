"""cnn.evaluation: metrics from known predictions, and the model/dataset fit check."""
import numpy as np
import pytest

from cnn import architectures as arch
from cnn import evaluation


def known():
    probs = np.full((6, 3), 0.1, np.float32)
    preds = [0, 0, 1, 2, 2, 1]
    for i, p in enumerate(preds):
        probs[i, p] = 0.8
    probs[1, 0] = 0.95
    return evaluation.Evaluation(probs, np.array([0, 1, 1, 2, 0, 1]), 0.5, 0.5)


def test_confusion_and_per_class():
    ev = known()
    cm = ev.confusion()
    assert cm.tolist() == [[1, 0, 1], [1, 2, 0], [0, 0, 1]]
    pc = ev.per_class()
    assert pc[0]["precision"] == pytest.approx(0.5) and pc[1]["recall"] == pytest.approx(2 / 3)
    assert pc[2]["support"] == 1


def test_pairs_and_confident_mistakes():
    ev = known()
    assert ev.pair_indices(1, 0).tolist() == [1]
    assert ev.confident_mistakes(5).tolist()[0] == 1  # 0.95 sure and wrong


def test_evaluate_and_compatibility(tiny):
    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    ev = evaluation.evaluate(model, tiny)
    assert ev.n == len(tiny.y_test) and 0 <= ev.accuracy <= 1 and ev.loss > 0
    cifar = arch.build_model(arch.preset("cifar"), (32, 32, 3))
    with pytest.raises(evaluation.CompatibilityError, match="expects images of shape"):
        evaluation.evaluate(cifar, tiny)
