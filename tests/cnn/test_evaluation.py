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


def test_evaluate_agrees_with_keras_evaluate(tiny):
    import keras

    from cnn import run_config, training

    model = training.train(run_config.TrainConfig(dataset="mnist", arch="fast", epochs=1, batch_size=32, seed=3),
                           tiny, evaluate=False).model
    ev = evaluation.evaluate(model, tiny)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(tiny.x_test, keras.utils.to_categorical(tiny.y_test, 10), verbose=0)
    assert ev.n == len(tiny.y_test)
    assert ev.accuracy == pytest.approx(acc, abs=1e-6) and ev.loss == pytest.approx(loss, rel=1e-4)
    assert 0.3 < ev.accuracy < 1.0 or ev.accuracy == 1.0  # it learned something: not a trivial model


def test_evaluate_refuses_a_model_for_other_images(tiny):
    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    assert evaluation.evaluate(model, tiny).n == len(tiny.y_test)
    cifar = arch.build_model(arch.preset("cifar"), (32, 32, 3))
    with pytest.raises(evaluation.CompatibilityError, match="expects images of shape"):
        evaluation.evaluate(cifar, tiny)


def test_mirrored_evaluation_averages_each_image_with_its_mirror(tiny):
    from cnn.data import to_float
    from cnn.predict import predict_proba

    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    x = to_float(tiny.test_images)
    plain, flipped = predict_proba(model, x), predict_proba(model, x[:, :, ::-1])
    ev = evaluation.evaluate(model, tiny, tta=1)
    np.testing.assert_allclose(ev.probs, (plain + flipped) / 2, rtol=1e-5, atol=1e-6)
    assert ev.accuracy == pytest.approx(float(np.mean(((plain + flipped) / 2).argmax(1) == tiny.y_test)))


def test_level_2_adds_one_pixel_moves_with_reflected_borders(tiny):
    """airbench's weights: the image and its mirror count half, each moved pair a quarter."""
    from cnn.data import to_float
    from cnn.predict import predict_proba

    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    x = to_float(tiny.test_images[:40])
    # By hand: move up-left = row/column 1 becomes 0, the last row/column reflects the one before it.
    up_left = np.concatenate([x[:, 1:], x[:, -2:-1]], axis=1)
    up_left = np.concatenate([up_left[:, :, 1:], up_left[:, :, -2:-1]], axis=2)
    down_right = np.concatenate([x[:, 1:2], x[:, :-1]], axis=1)
    down_right = np.concatenate([down_right[:, :, 1:2], down_right[:, :, :-1]], axis=2)
    pair = [(predict_proba(model, v) + predict_proba(model, v[:, :, ::-1])) / 2 for v in (x, up_left, down_right)]
    expected = pair[0] / 2 + pair[1] / 4 + pair[2] / 4
    np.testing.assert_allclose(predict_proba(model, x, tta=2), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict_proba(model, x, tta=2).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("config,level", [
    ({"dataset": "cifar10", "augment": True, "augment_params": None}, 2),  # CIFAR's default: flips and shifts
    ({"dataset": "mnist", "augment": True, "augment_params": None}, 0),  # digits are never flipped
    ({"dataset": "cifar10", "augment": False}, 0),
    ({"dataset": "user:cats", "augment": True, "augment_params": {"flip": True, "shift": 0.1}}, 2),
    ({"dataset": "user:cats", "augment": True, "augment_params": {"flip": True, "shift": 0.0}}, 1),
])
def test_test_time_augmentation_follows_the_training_augmentation(config, level):
    from cnn.predict import tta_level

    assert tta_level({"config": config}) == level
    assert tta_level({}) == 0 and tta_level(None) == 0
