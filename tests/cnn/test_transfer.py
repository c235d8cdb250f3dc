"""Transfer learning in one place: the Train page's path and the command line make the same network."""
from __future__ import annotations

import numpy as np
import pytest
from test_userdata import png, shape_image

from cnn import cli, dataset_sources, keras_files, store, training, transfer, userdata
from cnn.jobs import worker

SHAPES = ["circle", "square", "triangle"]


@pytest.fixture
def shapes(models_dir):
    userdata.create("shapes", SHAPES, (28, 28, 1))
    for k in SHAPES:
        userdata.add_files("shapes", k, [(f"{i}.png", png(shape_image(k, i, size=200))) for i in range(10)])

    return dataset_sources.load_dataset("user:shapes")


def test_drawings_start_from_the_digit_model_with_its_recipe(shapes):
    assert transfer.base_for("user:shapes", (28, 28, 1)) == "mnist"
    assert transfer.base_for("mnist", (28, 28, 1)) is None and transfer.base_for("user:x", (32, 32, 3)) is None
    config = transfer.recipe("user:shapes", len(shapes.train_images), "mnist")
    assert config.start_from == "mnist" and config.arch == store.read_meta("mnist")["arch"]
    assert config.batch_size <= len(shapes.train_images) // 2 and config.augment and not config.freeze


def test_the_page_and_the_command_line_train_the_same_transfer_model(shapes, models_dir, monkeypatch):
    """The page sends the starting model built by transfer.starting_model to a worker; the CLI lets train() build
    it from TrainConfig.start_from. Same seed, same weights."""
    args = cli.build_parser().parse_args(["train", "--dataset", "user:shapes", "--epochs", "2"])
    config = cli.train_config(args, shapes)
    assert config.start_from == "mnist" and config.epochs == 2
    start = transfer.starting_model("mnist", shapes.num_classes, shapes.image_shape, config.freeze, config.seed)
    page_request = worker.JobRequest(config, shapes, initial_model=keras_files.model_to_bytes(start))
    page = worker.unpack(worker.run_request(page_request, None, lambda: False)).model
    command_line = training.train(config, shapes, evaluate=False).model
    # The same network, layer for layer, learning the same layers.
    assert page.get_config() == command_line.get_config()
    assert [w.trainable for w in page.weights] == [w.trainable for w in command_line.weights]
    assert command_line.name == "transfer" and command_line.get_layer("base").trainable
    # The same answers where they are clear. Probabilities are not compared: TensorFlow's CPU kernels add in an
    # order that varies with threads, and two epochs of augmented training on 36 drawings carry that far (0.03 to
    # 0.17 on an ambiguous drawing between two runs of the same recipe in CI); a near-tie may fall either way. A
    # different recipe, seed or starting model changes the clear answers too.
    x = shapes.x_test[:8]
    ours, theirs = page.predict_on_batch(x), command_line.predict_on_batch(x)
    top2 = np.sort(theirs, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 0.5
    assert clear.sum() >= 4, theirs
    assert (ours.argmax(1) == theirs.argmax(1))[clear].all(), (ours, theirs)


def test_freeze_and_none_and_a_missing_base_on_the_command_line(shapes, capsys):
    frozen = cli.train_config(cli.build_parser().parse_args(["train", "--dataset", "user:shapes", "--freeze"]), shapes)
    assert frozen.start_from == "mnist" and frozen.freeze
    scratch = cli.train_config(cli.build_parser().parse_args(["train", "--dataset", "user:shapes", "--start-from",
                                                              "none"]), shapes)
    assert scratch.start_from is None and scratch.arch == "fast" and scratch.batch_size <= 16  # the small-data recipe
    assert cli.main(["train", "--dataset", "user:shapes", "--start-from", "nope"]) == 1
    assert "No saved model named 'nope'" in capsys.readouterr().err


def test_a_base_without_a_feature_layer_is_refused_in_words():
    import keras

    inputs = keras.Input((28, 28, 1), name="image")
    conv_only = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs), name="convs")
    with pytest.raises(transfer.TransferError, match="no Flatten or global pooling layer"):
        transfer.transfer_model(conv_only, 3)
    pooled = keras.Model(inputs, keras.layers.Dense(3, name="d")(keras.layers.GlobalMaxPooling2D(name="g")(
        keras.layers.Conv2D(2, 3, name="c")(inputs))))
    assert transfer.cut_layer(pooled).name == "g"  # the registry's gmp kind is a cut point too
