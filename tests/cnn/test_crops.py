"""cnn.crops: the first epochs on random crops, the network on any image size, and runs that use them."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from cnn import architectures, cifar_budget, crops, presets, run_config, training, transfer
from cnn.data import Dataset

GMP_SPEC = [{"type": "conv2d", "filters": 12, "kernel": 2, "padding": "valid", "activation": "relu"},
            {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "linear"}, {"type": "maxpool", "size": 2},
            {"type": "batchnorm"}, {"type": "activation", "activation": "relu"}, {"type": "gmp"}]


@pytest.mark.parametrize("share, epochs, expected", [(0.0, 14, 0), (0.4, 14, 6), (0.4, 5, 2), (0.4, 1, 0),
                                                     (0.8, 2, 1), (0.8, 10, 8)])
def test_crop_epochs_are_the_share_rounded_and_never_the_last(share, epochs, expected):
    assert crops.crop_epochs(share, epochs) == expected


def test_crops_are_three_quarters_of_the_side():
    assert crops.crop_side((32, 32, 3)) == (24, 24)
    assert crops.crop_side((28, 28, 1)) == (21, 21)


def test_only_networks_ending_in_global_pooling_fit_crops():
    assert crops.fits(presets.get("cifar_small").spec(), (32, 32, 3), 10)
    assert crops.fits(GMP_SPEC, (32, 32, 3), 10)
    assert not crops.fits(presets.get("tutorial").spec(), (32, 32, 3), 10)  # Flatten: weights depend on the size
    pools = [{"type": "conv2d", "filters": 4, "kernel": 3}] + [{"type": "maxpool", "size": 2}] * 5 + [{"type": "gmp"}]
    assert crops.fits(pools, (64, 64, 3), 10) and not crops.fits(pools, (32, 32, 3), 10)  # a 24x24 crop pools to 0


def test_each_image_is_cropped_at_its_own_place_and_mirrored_at_random():
    images = tf.constant(np.random.default_rng(0).random((64, 32, 32, 3)), tf.float32)
    out = crops.random_crops((24, 24), True, seed=5)(images).numpy()
    assert out.shape == (64, 24, 24, 3)
    places, mirrored = set(), 0
    for src, crop in zip(images.numpy(), out, strict=True):
        windows = [(top, left, src[top:top + 24, left:left + 24]) for top in range(9) for left in range(9)]
        found = [(top, left, m) for top, left, w in windows for m in (False, True)
                 if np.array_equal(w[:, ::-1] if m else w, crop)]
        assert len(found) == 1  # a window of its own image, as it is or mirrored
        places.add(found[0][:2])
        mirrored += found[0][2]
    assert len(places) > 20 and 16 <= mirrored <= 48
    again = crops.random_crops((24, 24), True, seed=5)(images).numpy()
    np.testing.assert_array_equal(out, again)  # the same seed, the same crops
    plain = crops.random_crops((24, 24), False, seed=5)(images).numpy()
    assert all(any(np.array_equal(s[t:t + 24, left:left + 24], c) for t in range(9) for left in range(9))
               for s, c in zip(images.numpy(), plain, strict=True))


def test_the_crop_view_is_the_same_network_on_any_size():
    model = architectures.build_model(GMP_SPEC, (32, 32, 3), 10)
    view = crops.crop_view(model)
    assert all(a is b for a, b in zip(view.weights, model.weights, strict=True))
    x = np.random.default_rng(1).random((3, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(view(x), model(x), atol=1e-6)
    assert view(x[:, :24, :24]).shape == (3, 10)


def _photos_dataset(n=192):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (n + 64, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n + 64)
    return Dataset("cifar10", x[:n], y[:n], x[n:], y[n:], tuple("abcdefghij"), "test photos")


def _config(**kw):
    return run_config.TrainConfig(dataset="cifar10", arch="custom", spec=GMP_SPEC, epochs=3, batch_size=32,
                                optimizer="airbench", learning_rate=0.05, schedule="triangle", augment=True,
                                label_smoothing=0.2, seed=3, crop_share=0.4, **kw)


def test_a_run_trains_its_first_epochs_on_crops_then_whole_images(monkeypatch):
    made = []
    real = crops.random_crops

    def recording(side, flip, seed, flips=None):
        crop = real(side, flip, seed, flips)

        def wrapped(images, training=True, indices=None):
            out = crop(images, training, indices)
            made.append(tuple(out.shape[1:]))  # traced once per pipeline
            return out
        return wrapped

    monkeypatch.setattr(crops, "random_crops", recording)
    events = []
    result = training.train(_config(validation_split=0.25), _photos_dataset(),
                            on_progress=lambda p: events.append(p.epoch) if p.kind == "epoch" else None)
    assert result.status == "finished" and events == [1, 2, 3] and made == [(24, 24, 3)]
    assert {k: len(v) for k, v in result.history.items()} == {"loss": 3, "accuracy": 3, "val_loss": 3,
                                                              "val_accuracy": 3}
    assert "first 1 epochs train on random 24x24 crops" in run_config.keras_code(result.config, (32, 32, 3), 10)
    plain = training.train(dataclasses.replace(_config(), crop_share=0.0), _photos_dataset())
    assert not any(np.array_equal(a, b) for a, b in zip(result.model.get_weights()[1:3],
                                                        plain.model.get_weights()[1:3], strict=True))


def test_a_run_stopped_on_the_crops_ends_there():
    result = training.train(_config(), _photos_dataset(), should_stop=lambda: True)
    assert result.status == "stopped" and result.epochs_done == 1 and result.stopped_at == (1, 1)


def test_a_prepared_run_on_crops_trains_exactly_as_a_fresh_one():
    config, ds = _config(), _photos_dataset()
    first = training.train(config, ds)
    prepared = training.prepare(config, ds.image_shape, 10, len(ds.train_images))
    assert prepared.view is not None
    again = training.train(config, ds, prepared=prepared)
    for a, b in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_crops_are_refused_where_they_cannot_work():
    ds = _photos_dataset()
    flat = dataclasses.replace(_config(), spec=[{"type": "conv2d", "filters": 4, "kernel": 3}, {"type": "flatten"}])
    with pytest.raises(run_config.TrainingError, match="global pooling"):
        run_config.check_config(flat, 192, ds.image_shape)
    with pytest.raises(run_config.TrainingError, match="starts from a saved model"):
        run_config.check_config(dataclasses.replace(_config(), start_from="digits"), 192, ds.image_shape)
    run_config.check_config(dataclasses.replace(flat, crop_share=0.0), 192, ds.image_shape)  # no crops: fine


def test_the_epoch_estimate_of_a_run_on_crops_times_its_crop_steps_too(monkeypatch):
    views = []
    real = training.compiled_crop_view
    monkeypatch.setattr(cifar_budget, "compiled_crop_view", lambda *a: views.append(a) or real(*a))
    config = dataclasses.replace(_config(), epochs=5)
    assert cifar_budget.estimate_epoch_seconds(config, _photos_dataset(), 1) > 0 and len(views) == 1
    assert cifar_budget.estimate_epoch_seconds(dataclasses.replace(config, crop_share=0.0), _photos_dataset(), 1) > 0
    assert len(views) == 1  # whole images only


def test_a_fine_tune_reads_whole_images(monkeypatch):
    from cnn import store

    monkeypatch.setattr(store, "read_meta", lambda name: {"arch": "cifar_small"})
    assert transfer.recipe("cifar10", None, "my-cifar", "cifar_small").crop_share == 0.0


def test_a_crop_run_prepared_with_its_dataset_trains_exactly_as_a_fresh_one():
    """The pipeline a warm worker makes ahead is the crop epochs' (the run's first batches); whole images follow."""
    ds, config = _photos_dataset(), _config(validation_split=0.25)
    fresh = training.train(config, ds, evaluate=False)
    prepared = training.prepare(config, ds.image_shape, ds.num_classes, len(ds.train_images), ds)
    warm = training.train(config, ds, evaluate=False, prepared=prepared)
    assert warm.model is prepared.model and warm.history == fresh.history
    assert all(np.array_equal(a, b) for a, b in zip(fresh.model.get_weights(), warm.model.get_weights(), strict=True))
