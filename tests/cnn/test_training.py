"""cnn.training: progress, stop, NaN, determinism, config checks."""
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from cnn import cifar_budget, crops, input_pipeline, optimizers, presets, run_config, run_results, training
from cnn.data import Dataset
from ui.settings import preset_advice


def cfg(**kw):
    base = dict(dataset="mnist", arch="fast", epochs=1, batch_size=32, validation_split=0.25, seed=1)
    base.update(kw)
    return run_config.TrainConfig(**base)


def test_train_reports_batches_epochs_and_end(tiny):
    events = []
    result = training.train(cfg(epochs=2), tiny, on_progress=events.append, report_every_s=0)
    kinds = [e.kind for e in events]
    assert kinds.count("epoch") == 2 and kinds[-1] == "end" and kinds.count("batch") == 2 * 6
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["loss"]) == 2 and result.status == "finished"
    assert 0 <= result.test_accuracy <= 1 and result.epochs_done == 2
    last = [e for e in events if e.kind == "batch"][-1]
    assert last.fraction == pytest.approx(1.0) and last.images_per_sec > 0


def test_stop_between_batches_keeps_weights_and_history(tiny):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] >= 3

    result = training.train(cfg(epochs=5), tiny, should_stop=should_stop)
    assert result.status == "stopped" and result.message == "Stopped at epoch 1, batch 3."
    assert result.stopped_at == (1, 3)
    assert calls["n"] == 3  # stopped right after the third batch, not at the end of an epoch
    assert result.epochs_done <= 1
    probs = np.asarray(result.model(tiny.x_test[:4]))
    assert probs.shape == (4, 10) and np.isfinite(probs).all()


def test_nan_loss_stops_with_an_explanation(tiny):
    broken = Dataset("mnist", tiny.train_images.astype(np.float32) * np.nan, tiny.y_train, tiny.test_images,
                     tiny.y_test, tiny.class_names, "broken")
    result = training.train(cfg(epochs=3, arch="lenet"), broken)  # tanh passes NaN on (ReLU may zero it)
    assert result.status == "nan" and "NaN" in result.message and "learning rate" in result.message
    assert result.epochs_done <= 1


@pytest.mark.parametrize("augment", [False, True])
def test_same_seed_same_weights(tiny, augment):
    """With augmentation too: each batch's random moves come in a fixed order."""
    a = training.train(cfg(augment=augment, epochs=2), tiny, evaluate=False).model.get_weights()
    b = training.train(cfg(augment=augment, epochs=2), tiny, evaluate=False).model.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_prepared_model_trains_exactly_as_a_fresh_one_and_is_used_only_for_its_own_run(tiny, monkeypatch):
    """What a warm worker builds and traces before Train is pressed gives the very same run (weights, curves)."""
    fresh = training.train(cfg(epochs=2), tiny, evaluate=False)
    prepared = training.prepare(cfg(epochs=2), tiny.image_shape, tiny.num_classes, len(tiny.train_images))
    built, build = [], training.architectures.build_model
    monkeypatch.setattr(training.architectures, "build_model", lambda *a, **k: built.append(1) or build(*a, **k))
    warm = training.train(cfg(epochs=2), tiny, evaluate=False, prepared=prepared)
    assert warm.model is prepared.model and not built, "the prepared model was used, nothing built"
    assert warm.history == fresh.history
    assert all(np.array_equal(x, y) for x, y in zip(fresh.model.get_weights(), warm.model.get_weights(), strict=True))
    other = training.prepare(cfg(epochs=3), tiny.image_shape, tiny.num_classes, len(tiny.train_images))
    assert training.train(cfg(epochs=2), tiny, evaluate=False, prepared=other).model is not other.model


@pytest.mark.parametrize("augment", [False, True])
def test_a_run_prepared_with_its_dataset_starts_on_batches_made_ahead_and_trains_exactly_as_a_fresh_one(
        tiny, augment, monkeypatch):
    """A warm worker also makes the run's arrays and first pipeline (shuffled and augmented by the same seeds), for
    a run on that very dataset object; another object gets its own, made from its own images."""
    config = cfg(epochs=2, augment=augment)
    fresh = training.train(config, tiny, evaluate=False)
    prepared = training.prepare(config, tiny.image_shape, tiny.num_classes, len(tiny.train_images), tiny)
    made, pipeline = [], training.dataset_pipeline
    monkeypatch.setattr(training, "dataset_pipeline", lambda *a, **k: made.append(1) or pipeline(*a, **k))
    warm = training.train(config, tiny, evaluate=False, prepared=prepared)
    assert warm.model is prepared.model and made == [], "the prepared model and batches were used"
    assert warm.history == fresh.history
    assert all(np.array_equal(x, y) for x, y in zip(fresh.model.get_weights(), warm.model.get_weights(), strict=True))
    other = training.prepare(config, tiny.image_shape, tiny.num_classes, len(tiny.train_images), tiny)
    same_images, made[:] = dataclasses.replace(tiny), []
    again = training.train(config, same_images, evaluate=False, prepared=other)
    assert again.model is other.model and made == [1] and again.history == fresh.history


def test_training_batches_come_without_tf_data_autotuning_yet_all_of_them_once(tiny):
    """Autotuning held up each epoch's end by ~1.4 s (cnn.input_pipeline.without_autotune); every image still
    comes exactly once per epoch, in whole batches."""
    labels = np.arange(len(tiny.train_images), dtype=np.float32)
    batches = input_pipeline.dataset_pipeline(tiny.train_images, labels, 32, seed=1)
    assert batches.options().autotune.enabled is False
    seen = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(seen) == list(labels) and len(list(batches)) == -(-len(labels) // 32)


def test_the_training_step_is_traced_once_and_the_metrics_start_from_zero(tiny, monkeypatch):
    """Variables first made while tracing (optimizer moments, metric totals) make TensorFlow trace the whole
    step again (cnn.optimizers.build_training_state); the blank image that builds them is not counted."""
    import keras

    traces = []
    step = keras.Model.train_step
    monkeypatch.setattr(keras.Model, "train_step", lambda self, data: traces.append(1) or step(self, data))
    result = training.train(cfg(validation_split=0.0, batch_size=64), tiny, evaluate=False)
    assert len(traces) == 1 and result.status == "finished"
    model = result.model
    optimizers.compile_model(model, result.config)
    assert model.optimizer.built and all(float(v) == 0 for m in model.metrics for v in m.variables)


def test_augmented_training_runs(tiny):
    result = training.train(cfg(augment=True), tiny)
    assert result.status == "finished" and len(result.history["loss"]) == 1


@pytest.mark.parametrize("change,message", [
    (dict(epochs=0), "Epochs must be between 1 and 500, got 0."),
    (dict(epochs=100000), "Epochs must be between 1 and 500, got 100,000."),
    (dict(batch_size=10_000), "Batch size must be between 1 and 8,192, got 10,000."),
    (dict(batch_size=300), "larger than the 192 training images"),  # 256 less the 25% validation
    (dict(learning_rate=0.0), "Learning rate must be between 1e-06 and 10, got 0."),
    (dict(learning_rate=50.0), "Learning rate must be between"),
    (dict(validation_split=1.0), "Validation split must be between 0 and 0.5, got 1."),
    (dict(optimizer="magic"), "Optimizer must be one of adam, adam-fast, sgd, rmsprop, adamw, airbench; got 'magic'."),
])
def test_bad_configs_are_refused_before_training(change, message):
    with pytest.raises(run_config.TrainingError, match=re.escape(message)):
        run_config.check_config(cfg(**change), 256, (28, 28, 1))


def test_memory_hungry_batch_is_refused():
    with pytest.raises(run_config.TrainingError, match="GiB"):
        run_config.check_config(cfg(arch="tutorial", batch_size=4096), 60000, (28, 28, 1), memory_limit_bytes=2**30)


def test_tutorial_preset_config_is_the_tutorial_recipe():
    c = run_config.default_config("tutorial", "mnist")
    assert (c.epochs, c.batch_size, c.optimizer, c.learning_rate, c.validation_split) == (10, 64, "adam", 0.001, 0.2)
    code = run_config.keras_code(c, (28, 28, 1), 10)
    assert "epochs=10, batch_size=64, validation_split=0.2" in code and "Adam(learning_rate=0.001)" in code


def test_validation_split_holds_out_the_last_fraction_like_keras():
    x, y = np.arange(10), np.arange(10)
    (xt, _), (xv, _) = input_pipeline.split_validation(x, y, 0.2)
    assert list(xv) == [8, 9] and list(xt) == list(range(8))


def test_estimate_epoch_seconds_scales_the_timed_steps_to_an_epoch(tiny, monkeypatch):
    """A clock read before and after the 2 probe steps says they took 1 s: 0.5 s a step, times the epoch's steps."""

    class Clock:
        def __init__(self):
            self.now = 0.0

        def perf_counter(self):
            self.now += 1.0
            return self.now

    monkeypatch.setattr(cifar_budget, "time", Clock())
    # 256 images, 25% held out for validation: 192 to train on, 6 steps of 32
    assert cifar_budget.estimate_epoch_seconds(cfg(), tiny, probe_batches=2) == pytest.approx(6 * 0.5)
    monkeypatch.setattr(cifar_budget, "time", Clock())
    assert cifar_budget.estimate_epoch_seconds(cfg(train_limit=128), tiny, probe_batches=2) == pytest.approx(3 * 0.5)


def test_bfloat16_training_keeps_float32_weights_and_output(tiny):
    result = training.train(cfg(precision="bfloat16"), tiny)
    assert result.status == "finished"
    assert all(w.dtype == np.float32 for w in result.model.get_weights())
    assert np.asarray(result.model(tiny.x_test[:2])).dtype == np.float32
    assert run_config.TrainConfig(precision="float32").dtype_policy() is None


def test_verdict_names_too_few_weight_updates_apart_from_a_model_that_cannot_learn():
    def result(updates, acc=0.1):
        return run_results.TrainResult(None, cfg(batch_size=256), {"loss": [2.3]}, [], 2.3, acc, 1.0, 1,
                                    extra={"updates": updates}, class_names=tuple("0123456789"))

    said = run_results.verdict(result(2))
    assert "only 2 weight updates" in said and "batches of 256" in said
    assert "did not learn:" in run_results.verdict(result(500))  # many updates and still guessing: the model
    assert run_results.verdict(result(2, acc=0.6)) == ""


@pytest.mark.parametrize("minutes,epochs", [({"cifar": 12.4, "cifar_small": 8.5}, 5),  # AVX2: its own 5 fit
                                            ({"cifar": 5.1, "cifar_small": 3.6}, 12),
                                            ({"cifar": 4.0, "cifar_small": 2.4}, 18),
                                            ({"cifar": 2.9, "cifar_small": 1.8},
                                             cifar_budget.CIFAR_MAX_EPOCHS),  # capped
                                            ({"cifar": 9.0, "cifar_small": 4.6}, 9)])
def test_cifar_small_is_recommended_with_the_epochs_that_fit_ten_minutes_here(monkeypatch, tmp_path, minutes, epochs):
    """Recommended by the minutes measured here (10-minute budget): CIFAR small, with as many epochs as fit."""
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: dict(minutes))
    # pages never wait
    assert cifar_budget.cifar_preset(measure=False) is None and preset_advice("cifar") == ""
    assert cifar_budget.budget_epochs("cifar_small") is None
    assert cifar_budget.cifar_preset() == "cifar_small"
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: pytest.fail("measured once per machine"))
    assert cifar_budget.budget_epochs("cifar_small") == epochs and cifar_budget.budget_epochs("cifar") is None
    def minutes_of(n):  # the recipe's minutes, 2 of its 5 epochs on crops, scaled to n epochs (6 of 16 on crops)
        whole = minutes["cifar_small"] / (3 + 2 * crops.EPOCH_COST)
        on_crops = crops.crop_epochs(0.4, n)
        return whole * (n - on_crops + on_crops * crops.EPOCH_COST)

    margin = cifar_budget.FORECAST_MARGIN  # a run may take 1.13x its forecast: the epochs set fit even then
    assert minutes_of(epochs) * margin <= 10 or epochs == 5  # (its own 5 at least)
    assert epochs == cifar_budget.CIFAR_MAX_EPOCHS or minutes_of(epochs + 1) * margin > 10  # and one more would not
    advice = preset_advice("cifar")
    assert "**CIFAR small** reads more" in advice and f"about {minutes['cifar']:.0f} minutes" in advice
    small = preset_advice("cifar_small")
    assert small == "" if epochs == 5 else f"10 minutes hold {epochs} epochs" in small
    assert preset_advice("fast") == "" and cifar_budget.budget_epochs("fast") is None
    assert preset_advice("cifar", "mnist") == ""
    assert cifar_budget.budget_epochs("cifar_small", "mnist") is None


def test_the_command_line_trains_the_epochs_that_fit_unless_told(monkeypatch, tmp_path, capsys):
    """`cnn train --dataset cifar10 --arch cifar_small` makes the Train page's run: the epochs that fit here."""
    from cnn import cli

    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: {"cifar": 9.0, "cifar_small": 4.6})
    ds = Dataset("cifar10", np.zeros((10, 32, 32, 3), np.uint8), np.arange(10), np.zeros((1, 32, 32, 3), np.uint8),
                 np.zeros(1, int), tuple("0123456789"), "ten blank photos")

    def config(*flags):
        return cli.train_config(cli.build_parser().parse_args(["train", "--dataset", "cifar10", *flags]), ds)

    assert config("--arch", "cifar_small").epochs == 5  # not measured here yet: the recipe's
    cifar_budget.cifar_minutes()
    assert config("--arch", "cifar_small").epochs == 9 and "fit 10 minutes" in capsys.readouterr().out
    assert config("--arch", "cifar_small", "--epochs", "3").epochs == 3
    assert config("--arch", "cifar").epochs == 12 and config("--arch", "fast").epochs == 1


def test_a_finished_run_here_corrects_the_forecast_for_the_next(monkeypatch, tmp_path):
    """The probe said 3.6 minutes for 5 epochs (12 fit, with its margin); a real run of 14 epochs took 10.9 min (as
    on the AVX2 EPYC): the next gets 11, which fit with the margin between runs; a quicker real run gives more."""
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: {"cifar": 5.1, "cifar_small": 3.6})
    cifar_budget.cifar_minutes()
    assert cifar_budget.budget_epochs("cifar_small") == 12
    assert cifar_budget.budget_epochs("cifar_small", run=(14, 654.0)) == 11
    assert cifar_budget._whole_epochs("cifar_small", 11) * 654.0 / cifar_budget._whole_epochs("cifar_small", 14) \
        * cifar_budget.RUN_MARGIN <= cifar_budget.CIFAR_BUDGET_S
    assert cifar_budget.budget_epochs("cifar_small", run=(16, 500.0)) == 17
    assert "10 minutes hold 11 epochs" in preset_advice_with_run(monkeypatch, (14, 654.0))


def test_the_page_says_what_the_epochs_that_fit_here_read(monkeypatch, tmp_path):
    """Where 10 minutes hold fewer than 16 epochs (15 on the AVX2-only EPYC), 88% is not promised: the page says
    what they read, from the runs measured; where they hold 24, that it is the most measured."""
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: {"cifar": 20.4, "cifar_small": 2.81})
    cifar_budget.cifar_minutes()
    assert cifar_budget.budget_epochs("cifar_small") == 15
    said = preset_advice("cifar_small")
    assert "10 minutes hold 15 epochs" in said and "about 87.9% of the test photos right" in said
    assert "take longer than 10 minutes here" in said
    assert cifar_budget.expected_accuracy(5) == 0.848 and cifar_budget.expected_accuracy(30) == 0.885
    assert cifar_budget.expected_accuracy(20) == pytest.approx(0.883)
    assert "the most it was measured to reach" in preset_advice_with_run(monkeypatch, (24, 300.0))


def preset_advice_with_run(monkeypatch, run):
    from ui import settings

    monkeypatch.setattr(settings, "last_cifar_run", lambda dataset: run)
    return settings.preset_advice("cifar_small")


def test_where_no_cifar_preset_fits_ten_minutes_the_page_says_so_on_both(monkeypatch, tmp_path):
    """A slow CPU: CIFAR small is still the one, with its own epochs, and neither is said to fit."""
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: {"cifar": 30.2, "cifar_small": 17.3})
    assert cifar_budget.cifar_preset() == "cifar_small" and cifar_budget.budget_epochs("cifar_small") == 5
    assert "Neither fits 10 minutes" in preset_advice("cifar")
    advice = preset_advice("cifar_small")
    assert "about 17 minutes for its 5 epochs, more than 10" in advice and "Epochs starts" not in advice


def test_the_cifar_timing_probe_measures_both_presets_briefly(monkeypatch):
    monkeypatch.setattr(cifar_budget, "estimate_epoch_seconds", lambda config, probe, n: 0.25 if config.arch == "cifar"
                        else 0.125)
    minutes = cifar_budget.measure_cifar_minutes()
    k = cifar_budget.EPOCH_OVER_PROBE  # whole epochs also make augmented batches and average weights
    assert minutes == {"cifar": round(0.25 * k * 196 * 12 / 60, 2), "cifar_small": round(0.125 * k * 98 * 5 / 60, 2)}


def test_the_cifar_minutes_are_kept_under_a_hash_of_the_recipes_and_the_code_they_time(monkeypatch):
    """Before, the key held a sentence someone had to edit when the training step changed."""
    key = cifar_budget.timing_key()
    assert len(key) == 16 and cifar_budget.timing_key() == key
    import dataclasses

    changed = dataclasses.replace(presets.get("cifar_small"), recipe=dict(presets.get("cifar_small").recipe, epochs=99))
    monkeypatch.setitem(presets.PRESETS, "cifar_small", changed)
    assert cifar_budget.timing_key() != key
    monkeypatch.undo()
    assert cifar_budget.timing_key() == key
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: real(p) + (b"#" if p.name == "airbench.py" else b""))
    assert cifar_budget.timing_key() != key
