"""cnn.fields: one bounded-value type for settings, hyperparameters and layer fields: the same check, the same words,
the same on/off table wherever a value comes from."""
import pytest

from cnn import hyperparams, layers, run_config, settings
from cnn.fields import FALSE, TRUE, Bounded, OutOfBounds


def test_a_hyperparameter_and_a_layer_field_say_the_same_thing_in_the_same_words():
    with pytest.raises(hyperparams.HyperparamError) as param:
        run_config.PARAMS["batch_size"].check(10_000)
    with pytest.raises(layers.SpecError) as field:
        layers.kind("conv2d").checked({"type": "conv2d", "filters": 2000}, "Layer 1", 0)
    assert str(param.value) == "Batch size must be between 1 and 8,192, got 10,000."
    assert str(field.value).endswith("'filters' must be between 1 and 1,024, got 2,000.")


@pytest.mark.parametrize(("bounds", "value", "said"), [
    (Bounded(int, 1, 10), 2.5, "x must be a whole number, got 2.5."),
    (Bounded(float, 0, 1), float("nan"), "x must be a number, got nan."),
    (Bounded(float, 0, 1), True, "x must be a number, got True."),
    (Bounded(str, choices=("a", "b")), "c", "x must be one of a, b; got 'c'."),
    (Bounded(bool), 1, "x must be true or false, got 1."),
])
def test_what_is_wrong_is_said_once_for_every_kind(bounds, value, said):
    with pytest.raises(OutOfBounds, match="^" + said.replace(".", r"\.").replace("(", r"\(") + "$"):
        bounds.check(value, "x")


def test_one_table_of_on_and_off_words_for_settings_links_and_the_command_line(monkeypatch):
    switch = Bounded(bool)
    assert all(switch.parse(w, "x") for w in TRUE) and not any(switch.parse(w, "x") for w in FALSE)
    assert run_config.PARAMS["augment"].parse("yes") is True
    monkeypatch.setenv("CNN_OFFLINE", "on")
    assert settings.value("CNN_OFFLINE") is True
    with pytest.raises(hyperparams.HyperparamError, match="must be true or false"):
        run_config.PARAMS["augment"].parse("maybe")
