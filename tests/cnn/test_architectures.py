"""cnn.architectures: the Tutorial preset against the published model, validation, code export."""
import json
import re

import keras
import numpy as np
import pytest

from cnn import architectures as arch
from cnn import presets


def test_tutorial_matches_published_architecture_layer_by_layer():
    model = arch.build_model(arch.preset("tutorial"), (28, 28, 1), 10)
    expected = [  # (type, key config, parameters) of the classic Keras tutorial
        ("Conv2D", dict(filters=32, kernel_size=(3, 3), activation="relu", padding="same"), 320),
        ("MaxPooling2D", dict(pool_size=(2, 2)), 0),
        ("Conv2D", dict(filters=64, kernel_size=(3, 3), activation="relu", padding="same"), 18496),
        ("MaxPooling2D", dict(pool_size=(2, 2)), 0),
        ("Conv2D", dict(filters=128, kernel_size=(3, 3), activation="relu", padding="same"), 73856),
        ("Flatten", {}, 0),
        ("Dense", dict(units=1024, activation="relu"), 6423552),
        ("Dropout", dict(rate=0.2), 0),
        ("Dense", dict(units=10, activation="softmax"), 10250),
    ]
    layers = model.layers[1:]
    assert len(layers) == len(expected)
    for layer, (kind, cfg, params) in zip(layers, expected, strict=True):
        assert type(layer).__name__ == kind
        got = layer.get_config()
        for k, v in cfg.items():
            assert (tuple(got[k]) if isinstance(got[k], list) else got[k]) == v, (layer.name, k)
        assert layer.count_params() == params
    assert model.count_params() == 6_526_474
    assert tuple(model.inputs[0].shape[1:]) == (28, 28, 1)


@pytest.mark.parametrize("name,shape", [("tutorial", (28, 28, 1)), ("fast", (28, 28, 1)), ("lenet", (28, 28, 1)),
                                        ("cifar", (32, 32, 3)), ("vgg", (28, 28, 1)), ("fast", (32, 32, 3)),
                                        ("cifar_wide", (32, 32, 3)), ("cifar_small", (32, 32, 3))])
def test_presets_build_with_named_layers(name, shape):
    model = arch.build_model(arch.preset(name), shape, 10)
    assert model.outputs[0].shape[-1] == 10
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == len(names) and names[-1] == "predictions"
    out = model(np.zeros((2, *shape), np.float32))
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("spec,index,message", [
    ([{"type": "conv2d", "filters": 8, "kernel": 5, "stride": 1, "padding": "valid", "activation": "relu"}] * 7
     + [{"type": "flatten"}], 6, "does not fit"),
    ([{"type": "maxpool", "size": 2}] * 5 + [{"type": "flatten"}], 4, "spatial size below 1"),
    ([{"type": "flatten"}, {"type": "dense", "units": 0, "activation": "relu"}], 1, "between 1"),
    ([{"type": "flatten"}, {"type": "wobble"}], 1, "unknown layer type"),
    ([{"type": "dense", "units": 10, "activation": "relu"}], 0, "needs a flat input"),
    ([{"type": "flatten"}, {"type": "conv2d", "filters": 8, "kernel": 3, "stride": 1, "padding": "same",
                            "activation": "relu"}], 1, "image-shaped input"),
    ([{"type": "conv2d", "filters": 8, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"}], 0,
     "end with Flatten"),
    ([{"type": "flatten"}, {"type": "dropout", "rate": 1.5}], 1, "'rate' must be between 0 and 0.95"),
    ([{"type": "conv2d", "filters": 8, "kernel": 3, "stride": 1, "padding": "same", "activation": "swish"},
      {"type": "flatten"}], 0, "'activation' must be one of"),
])
def test_invalid_specs_name_the_layer(spec, index, message):
    with pytest.raises(arch.SpecError, match=message) as err:
        arch.validate(spec, (28, 28, 1))
    assert err.value.index == index
    assert f"Layer {index + 1}" in str(err.value) or err.value.index == len(spec) - 1


def test_empty_spec_and_bad_input_channels():
    with pytest.raises(arch.SpecError, match="no layers"):
        arch.validate([], (28, 28, 1))
    with pytest.raises(arch.SpecError, match="Input shape"):
        arch.validate(arch.preset("fast"), (28, 28, 0))


def test_inferred_shapes_match_keras():
    for name, shape in (("tutorial", (28, 28, 1)), ("lenet", (28, 28, 1)), ("cifar", (32, 32, 3))):
        spec = arch.preset(name)
        model = arch.build_model(spec, shape)
        inferred = arch.validate(spec, shape)
        for s, layer in zip(inferred, model.layers[1:], strict=False):
            assert s.name == layer.name and s.output_shape == tuple(layer.output.shape[1:])


@pytest.mark.parametrize("name,shape", [("tutorial", (28, 28, 1)), ("cifar", (32, 32, 3)), ("lenet", (28, 28, 1))])
def test_exported_keras_code_rebuilds_the_same_model(name, shape):
    spec = arch.preset(name)
    code = arch.to_keras_code(spec, shape, 10)
    namespace = {}
    exec(compile(code.replace("model.summary()", ""), "<export>", "exec"), namespace)
    rebuilt, original = namespace["model"], arch.build_model(spec, shape, 10)
    assert [type(x).__name__ for x in rebuilt.layers] == [type(x).__name__ for x in original.layers]
    assert [x.name for x in rebuilt.layers] == [x.name for x in original.layers]
    assert rebuilt.count_params() == original.count_params()
    assert arch.spec_from_model(rebuilt) == spec


def test_every_preset_has_a_title_a_caption_and_a_recipe_and_an_unknown_name_lists_them():
    from cnn import run_config

    for name, preset in presets.PRESETS.items():
        assert preset.name == name and preset.title and preset.caption, name
        config = run_config.default_config(name, "mnist")
        run_config.check_values(config.as_dict())  # every recipe is inside the schema's bounds
        assert "bench" not in preset.caption and "bfloat16" not in preset.caption, "captions speak to a student"
        assert not re.search(r"20\d\d-\d\d|EPYC|Xeon|seed", preset.caption), "no benchmark diary in a caption"
    with pytest.raises(arch.SpecError, match=r"Unknown architecture 'resnet'\. Choose one of: tutorial, fast"):
        run_config.default_config("resnet", "mnist")  # never silently the fast preset
    with pytest.raises(arch.SpecError, match="Unknown architecture"):
        arch.preset("resnet")
    widths = [layer["filters"] for layer in arch.preset("cifar_wide") if layer["type"] == "conv2d"]
    assert widths == [24, 64, 64, 256, 256, 256, 256]  # airbench's widths behind the 2x2 stem


def test_cifar_small_saves_its_work_at_full_resolution():
    """CIFAR small is the CIFAR blocks with a narrow first block, where most multiplications are, and its whitening
    merged into the first convolution (one 4×4 convolution of the photo's 3 channels instead of 2×2 then 3×3)."""
    def multiplies(name):
        total, prev = 0, 3
        for layer, shape in zip(arch.preset(name), arch.validate(arch.preset(name), (32, 32, 3)), strict=False):
            if layer["type"] in ("conv2d", "whitenconv"):
                taps = layer["kernel"] ** 2 if layer["type"] == "conv2d" else 16  # whitenconv: 4×4 on the photo
                total += shape.output_shape[0] * shape.output_shape[1] * taps * prev * layer["filters"]
                prev = layer["filters"]
        return total

    assert multiplies("cifar_small") < 0.5 * multiplies("cifar")
    small, cifar = arch.preset("cifar_small"), arch.preset("cifar")
    assert small[0]["type"] == "whitenconv" and [x["type"] for x in small[1:]] == [x["type"] for x in cifar[2:]]
    first_maps = arch.validate(small, (32, 32, 3))[0].output_shape[:2]
    assert first_maps == arch.validate(cifar, (32, 32, 3))[1].output_shape[:2] == (31, 31)


def test_specs_are_plain_json():
    for name in presets.PRESETS:
        assert json.loads(json.dumps(arch.preset(name))) == arch.preset(name)
    spec = arch.preset("fast")
    spec[0]["filters"] = 1
    assert arch.preset("fast")[0]["filters"] != 1  # presets are copied, never shared


def test_functional_model_has_inputs_and_outputs():
    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    extractor = keras.Model(model.inputs, [model.get_layer("conv1").output])
    assert extractor(np.zeros((1, 28, 28, 1), np.float32)).shape == (1, 24, 24, 8)


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_the_summary_without_keras_is_the_one_keras_gives(name):
    """The Train page's model summary comes from the spec alone (no TensorFlow on a fresh server's first page)."""
    from cnn import inspection

    shape = (32, 32, 3) if name.startswith("cifar") else (28, 28, 1)
    spec = arch.preset(name)
    assert arch.summary(spec, shape, 10) == inspection.layer_table(arch.build_model(spec, shape, 10))
