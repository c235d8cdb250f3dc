"""cnn.layers: every registered kind round-trips spec → model → spec → code → model, and counts like Keras."""
import keras
import numpy as np
import pytest

from cnn import architectures as arch
from cnn.layers import KINDS, SpecError

from layer_cases import CONTEXT, CONV


def full(spec):
    """The spec with every field filled in (what reading a model back gives)."""
    return [{**KINDS[layer["type"]].defaults(), **layer} for layer in spec]


def test_every_registered_kind_has_a_round_trip_case():
    assert set(CONTEXT) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CONTEXT))
def test_kind_round_trips_spec_model_spec_code_model(kind):
    spec = CONTEXT[kind]
    model = arch.build_model(spec, (28, 28, 1), 10)
    assert arch.spec_from_model(model) == full(spec)
    assert arch.count_params(spec, (28, 28, 1), 10) == model.count_params()
    shapes = arch.validate(spec, (28, 28, 1), 10)
    assert shapes[-1].output_shape == tuple(model.layers[-2].output.shape[1:])
    namespace: dict = {}
    exec(arch.to_keras_code(spec, (28, 28, 1), 10).replace("model.summary()", ""), namespace)
    rebuilt = namespace["model"]
    assert rebuilt.count_params() == model.count_params()
    assert [type(layer).__name__ for layer in rebuilt.layers] == [type(layer).__name__ for layer in model.layers]
    assert arch.spec_from_model(rebuilt) == full(spec)
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt(x), model(x), rtol=1e-5, atol=1e-6)


def test_residual_block_adds_its_input_back():
    spec = [{"type": "residual", "filters": 1, "kernel": 3}, {"type": "flatten"}]
    model = arch.build_model(spec, (6, 6, 1), 2)
    conv2 = model.get_layer("res1_conv2")
    conv2.set_weights([np.zeros_like(w) for w in conv2.get_weights()])  # the branch adds nothing
    x = np.random.default_rng(1).random((1, 6, 6, 1)).astype(np.float32)
    out = keras.Model(model.inputs, model.get_layer("res1").output)(x)
    np.testing.assert_allclose(out, np.maximum(x, 0), atol=1e-6)  # relu(input + 0)


def test_models_with_other_layers_are_not_read_as_specs():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, name="c")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    assert arch.spec_from_model(keras.Model(inputs, outputs)) is None  # a dilated convolution is not a spec's
    odd = keras.layers.LayerNormalization()(keras.layers.Flatten()(inputs))
    assert arch.spec_from_model(keras.Model(inputs, keras.layers.Dense(2)(odd))) is None


@pytest.mark.parametrize("layer,message", [
    ({**CONV, "filters": 2000}, "'filters' must be between 1 and 1,024, got 2,000"),
    ({**CONV, "kernel": 2.5}, "'kernel' must be a whole number"),
    ({"type": "dropout", "rate": 1.0}, "'rate' must be between 0 and 0.95, got 1"),
    ({**CONV, "activation": "swishy"}, "'activation' must be one of relu"),
    ({"type": "residual", "filters": 8, "kernel": 9}, "'kernel' must be between 1 and 7"),
])
def test_fields_are_checked_with_the_bounds_the_editor_shows(layer, message):
    with pytest.raises(SpecError, match=message) as e:
        arch.validate([layer, {"type": "flatten"}] if layer["type"] != "dropout" else [{"type": "flatten"}, layer],
                      (28, 28, 1))
    assert e.value.index in (0, 1)
