"""cnn.airbench: the whitened first layer, identity-started convolutions, per-layer rates, the schedule and
the weight averaging of the airbench recipe, and a run with it through cnn.training."""
import keras
import numpy as np
import pytest

from cnn import airbench, architectures, optimizers, run_config, training
from cnn.data import Dataset


def photos(n=600, seed=0):
    """Colour images whose neighbouring pixels and channels are correlated, as in photos."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 9, 9, 1))
    smooth = np.kron(base, np.ones((1, 4, 4, 1)))[:, 2:34, 2:34]  # blocks of 4x4 alike, cut to 32x32
    colour = np.concatenate([smooth, 0.8 * smooth, 0.5 * smooth], axis=-1) + 0.2 * rng.normal(size=(n, 32, 32, 3))
    return np.clip(128 + 40 * colour, 0, 255).astype(np.uint8)


def small_model(filters=24):
    spec = [{"type": "conv2d", "filters": filters, "kernel": 2, "padding": "valid", "activation": "relu"},
            {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "linear"}, {"type": "batchnorm"},
            {"type": "gmp"}]
    return architectures.build_model(spec, (32, 32, 3), 10)


def test_the_whitening_kernel_gives_uncorrelated_unit_variance_outputs():
    images = photos()
    kernel, bias = airbench.whitening_kernel(images, 24)
    assert kernel.shape == (2, 2, 3, 24) and bias.shape == (24,)
    x = images[:200].astype(np.float32) / 255.0
    out = keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, padding="valid")) + bias
    flat = out.reshape(-1, 24)[:, :12]
    cov = np.cov(flat, rowvar=False)
    np.testing.assert_allclose(np.diag(cov)[:6], 1.0, atol=0.1)  # the leading directions, not the noise floor
    off = cov - np.diag(np.diag(cov))
    assert np.abs(off[:6, :6]).max() < 0.1
    np.testing.assert_allclose(out[..., 12:], -out[..., :12], atol=1e-4)  # each with its negative
    np.testing.assert_allclose(flat.mean(axis=0), 0.0, atol=0.1)  # the channel means are folded into the bias


def test_init_weights_starts_convolutions_as_the_identity_and_batch_norm_as_a_shift():
    model = small_model()
    airbench.init_weights(model)
    k = model.get_layer("conv2").kernel.numpy()
    assert k[1, 1, np.arange(8), np.arange(8)].tolist() == [1.0] * 8
    assert np.count_nonzero(k) == 8  # 24 in, 8 out: every filter is the identity of its channel
    bn = model.get_layer("bn1")
    assert bn.momentum == airbench.BN_MOMENTUM and not bn.gamma.trainable and bn.beta.trainable
    stem = model.get_layer("conv1")
    assert not stem.kernel.trainable and not stem.bias.trainable, "the stem is frozen before a step is traced"
    bound = np.sqrt(1 / 8) * airbench.OUTPUT_SCALE
    assert np.abs(model.get_layer("predictions").kernel.numpy()).max() <= bound + 1e-7


def test_whiten_first_layer_freezes_its_kernel_and_skips_models_without_one():
    model = small_model()
    assert airbench.whiten_first_layer(model, photos())
    assert not model.get_layer("conv1").kernel.trainable
    plain = architectures.build_model(architectures.preset("fast"), (28, 28, 1), 10)
    assert not airbench.whiten_first_layer(plain, np.zeros((10, 28, 28, 1), np.uint8))


def test_grey_images_whiten_the_four_directions_they_have():
    images = photos()[..., :1]
    m = architectures.build_model([{"type": "conv2d", "filters": 12, "kernel": 2, "padding": "valid"}, {"type": "gmp"}],
                                  (32, 32, 1), 10)
    assert airbench.whiten_first_layer(m, images)
    k = m.get_layer("conv1").kernel.numpy()
    assert k.shape == (2, 2, 1, 12)
    np.testing.assert_allclose(k[..., 4:8], -k[..., :4])  # 4 directions and their negatives


def test_the_whitened_convolution_is_whitening_then_a_3x3_convolution_in_one():
    """WhitenedConv2D computes one 4×4 convolution; inside the border it equals the two layers it merges."""
    images = photos()
    model = architectures.build_model([{"type": "whitenconv", "filters": 8}, {"type": "gmp"}], (32, 32, 3), 10)
    layer = model.get_layer("wconv1")
    assert airbench.whiten_first_layer(model, images, plain_stem=False)  # set outside airbench's recipe too
    kernel, bias = airbench.whitening_kernel(images, 12, negatives=False)
    np.testing.assert_allclose(layer.whiten.numpy(), kernel)
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]  # the whitening never learns
    x = images[:4].astype(np.float32) / 255.0
    whitened = keras.ops.conv(x, kernel, padding="valid") + bias
    two = keras.ops.conv(whitened, layer.kernel.numpy(), padding="same") + layer.bias.numpy()
    one = layer(x)
    assert one.shape == (4, 31, 31, 8)
    np.testing.assert_allclose(np.asarray(one)[:, 1:-1, 1:-1], np.asarray(two)[:, 1:-1, 1:-1], atol=2e-5)
    airbench.init_weights(model)  # its 3×3 kernel starts as the identity of the first 8 whitened directions
    k = layer.kernel.numpy()
    assert k[1, 1, np.arange(8), np.arange(8)].tolist() == [1.0] * 8 and np.count_nonzero(k) == 8


def test_a_plain_2x2_first_layer_is_whitened_only_in_airbench_recipe():
    model = small_model()
    before = model.get_layer("conv1").kernel.numpy()
    assert not airbench.whiten_first_layer(model, photos(), plain_stem=False)
    np.testing.assert_array_equal(model.get_layer("conv1").kernel.numpy(), before)
    assert model.get_layer("conv1").kernel.trainable


def test_a_whitened_convolution_must_come_first():
    with pytest.raises(architectures.SpecError, match=r"must be the\s+first layer") as e:
        architectures.validate([{"type": "conv2d", "filters": 4}, {"type": "whitenconv", "filters": 8},
                                {"type": "gmp"}], (32, 32, 3))
    assert e.value.index == 1


@pytest.mark.parametrize("path, rate", [("bn3/beta", 64.0), ("bn3/gamma", 1.0), ("conv2/kernel", 1.0),
                                        ("predictions/kernel", 1 / 81), ("predictions/bias", 1 / 81),
                                        ("dense1/bias", 1.0)])
def test_each_variable_learns_at_its_airbench_rate(path, rate):
    assert airbench.rate_of(path) == pytest.approx(rate)


def test_airbench_sgd_moves_batch_norm_shifts_64_times_as_far_as_plain_sgd():
    grads = []
    for cls in (airbench.AirbenchSGD, keras.optimizers.SGD):
        model = small_model()
        beta = model.get_layer("bn1").beta
        opt = cls(learning_rate=0.1, momentum=0.85, nesterov=True, weight_decay=0.0)
        opt.build(model.trainable_variables)
        g = [keras.ops.ones_like(v) for v in model.trainable_variables]
        opt.apply_gradients(zip(g, model.trainable_variables, strict=True))
        grads.append(float(beta.numpy()[0]))
    assert grads[0] == pytest.approx(64 * grads[1])


def test_orthogonalise_makes_every_singular_value_about_one():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    v, _ = np.linalg.qr(rng.normal(size=(216, 32)))
    g = (u * np.geomspace(1, 10, 32)) @ v.T  # singular values from 1 to 10
    for m in (g, g.T):  # wide and tall
        s = np.linalg.svd(keras.ops.convert_to_numpy(airbench.orthogonalise(keras.ops.convert_to_tensor(
            m.astype(np.float32)))), compute_uv=False)
        assert s.min() > 0.5 and s.max() < 1.5, s  # airbench94_muon's 3 steps: roughly, cheaply (not exactly 1)


def test_convolutions_learn_by_muon_at_its_share_of_the_rate_and_keep_their_norm():
    model = small_model()
    airbench.init_weights(model)
    conv = model.get_layer("conv2")
    before = conv.kernel.numpy()
    opt = airbench.AirbenchSGD(learning_rate=0.5, weight_decay=0.0)
    opt.build(model.trainable_variables)
    def grads_for(variables):
        rng = np.random.default_rng(1)
        return [keras.ops.convert_to_tensor(rng.normal(size=v.shape).astype(np.float32)) for v in variables]

    opt.apply_gradients(zip(grads_for(model.trainable_variables), model.trainable_variables, strict=True))
    scaled = before * np.sqrt(8) / np.linalg.norm(before)  # norm √(filters) before the step
    step = (scaled - conv.kernel.numpy()).reshape(-1, 8)
    singular = np.linalg.svd(step, compute_uv=False) / (0.5 * airbench.MUON_SHARE)
    assert singular.min() > 0.5 and singular.max() < 1.5  # an orthogonalised step of MUON_SHARE x the rate
    plain = airbench.AirbenchSGD(learning_rate=0.5, weight_decay=0.0, layer_rates=False)  # transfer learning
    other = small_model()
    plain.build(other.trainable_variables)
    kernel = other.get_layer("conv2").kernel
    start = kernel.numpy()
    grads = grads_for(other.trainable_variables)
    plain.apply_gradients(zip(grads, other.trainable_variables, strict=True))
    g = keras.ops.convert_to_numpy(grads[[v is kernel for v in other.trainable_variables].index(True)])
    np.testing.assert_allclose(start - kernel.numpy(), 0.5 * g * (1 + 0.85), rtol=1e-4, atol=1e-6)  # plain Nesterov


def test_the_triangle_schedule_rises_for_23_percent_then_falls_to_7_percent():
    lr = airbench.Triangle(1.0, 100)
    values = [float(lr(s)) for s in (0, 23, 100)]
    assert values == pytest.approx([0.2, 1.0, 0.07])
    assert float(lr(60)) == pytest.approx(1.0 - 0.93 * 37 / 77, rel=1e-5)
    assert airbench.Triangle.from_config(lr.get_config()).get_config() == lr.get_config()


def test_a_run_with_the_recipe_trains_averages_and_repeats_exactly_when_prepared_ahead_too():
    """A warm worker traces the training step before the images come: the whitened layer must not train there
    either."""
    rng = np.random.default_rng(1)
    x = photos(256, seed=2)
    y = rng.integers(0, 10, 256)
    ds = Dataset("cifar10", x[:192], y[:192], x[192:], y[192:], tuple("abcdefghij"), "test photos")
    config = run_config.TrainConfig(dataset="cifar10", arch="custom", spec=[
        {"type": "conv2d", "filters": 12, "kernel": 2, "padding": "valid", "activation": "relu"},
        {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "linear"}, {"type": "batchnorm"},
        {"type": "activation", "activation": "relu"}, {"type": "gmp"}],
        epochs=2, batch_size=32, optimizer="airbench", learning_rate=0.05, schedule="triangle", augment=True,
        label_smoothing=0.2, seed=3)
    first = training.train(config, ds)
    again = training.train(config, ds, prepared=training.prepare(config, ds.image_shape, 10, 192))  # a warm worker's
    assert first.status == "finished" and np.isfinite(first.history["loss"]).all()
    whitened, _ = airbench.whitening_kernel(x[:192], 12)
    np.testing.assert_allclose(first.model.get_layer("conv1").kernel.numpy(), whitened, rtol=1e-5)  # not trained
    for a, b in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert "lookahead" in run_config.keras_code(config, (32, 32, 3), 10)


def test_a_transferred_model_keeps_plain_rates():
    opt = optimizers.make_optimizer("airbench", 0.1, fresh=False)
    model = small_model()
    opt.build(model.trainable_variables)
    assert set(opt._rates) == {1.0} and not opt.get_config()["layer_rates"]
