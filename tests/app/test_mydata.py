"""My data through its page: make a dataset, add examples every way, prune them, train, draw against it."""
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn import run_config, store, userdata
from ui import canvas

from test_pages import finish_runs, page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cnn"))
from test_userdata import make_zip, png, shape_image

SHAPES = ["circle", "square", "triangle"]


@pytest.fixture
def user_dir(tmp_path, monkeypatch, models_dir):
    monkeypatch.setenv("CNN_USER_DATA_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def canvas_of(kind: str, seed: int) -> np.ndarray:
    """What the canvas sends: RGBA, the strokes white and opaque, the rest transparent."""
    grey = np.asarray(shape_image(kind, seed, size=280))
    rgba = np.zeros((320, 280, 4), np.uint8)
    rgba[40:, :, :3] = 255
    rgba[40:, :, 3] = grey
    return rgba


def create(at, name="shapes", classes="circle\nsquare\ntriangle", size="28×28 grey (drawings)"):
    at.text_input(key="md_new_name").set_value(name)
    at.text_area(key="md_new_classes").set_value(classes)
    at.radio(key="md_new_size").set_value(size)
    next(b for b in at.button if b.label == "Create the dataset").click()
    at.run()


def test_make_a_dataset_then_add_by_drawing_and_uploading_and_remove_one(user_dir, monkeypatch):
    at = page("pages/7_My_data.py")
    at.run()
    assert not at.exception
    create(at, classes="circle\nCircle")
    assert any("named alike" in str(e.value) for e in at.error)
    create(at, classes="circle")
    assert any("at least 2 classes" in str(e.value) for e in at.error)
    create(at)
    assert not at.exception and userdata.get("shapes").classes == tuple(SHAPES)
    drawings = itertools.cycle([canvas_of("circle", 1), canvas_of("circle", 2)])
    monkeypatch.setattr(canvas, "read_canvas", lambda key, stroke_width: next(drawings))
    for _ in range(2):
        at.run()
        at.button(key="md_add_drawing").click()
        at.run()
    assert userdata.get("shapes").counts == (2, 0, 0)
    at.selectbox(key="md_class_shapes").set_value("square")
    at.run()
    files = [(f"s{i}.png", png(shape_image("square", i)), "image/png") for i in range(3)]
    at.file_uploader(key="md_files_0").set_value([*files, ("broken.png", b"nope", "image/png")])
    at.run()
    at.button(key="md_add_files").click()
    at.run()
    assert userdata.get("shapes").counts == (2, 3, 0)
    assert any("broken.png: This file is not an image" in str(w.value).replace("\\", "") for w in at.warning)
    first = userdata.examples("shapes", "square")[0][0]
    at.button(key=f"md_rm_{first}").click()
    at.run()
    assert userdata.get("shapes").counts == (2, 2, 0) and not at.exception


def test_import_a_zip_as_a_new_dataset_and_refuse_a_bad_one(user_dir):
    at = page("pages/7_My_data.py")
    at.run()
    at.text_input(key="md_zip_name").set_value("pets")
    at.file_uploader(key="md_zip_new").set_value(("evil.zip", make_zip({"../../x.png": png(shape_image("circle", 0)),
                                                                        "b/y.png": png(shape_image("square", 0))}),
                                                  "application/zip"))
    at.run()
    at.button(key="md_zip_import").click()
    at.run()
    assert any("climbs out" in str(e.value) for e in at.error) and not (user_dir / "pets").exists()
    good = make_zip({f"{k}/{i}.jpg": png(shape_image(k, i, mode="RGB"), "JPEG") for k in ("cats", "dogs")
                     for i in range(5)})
    at.file_uploader(key="md_zip_new").set_value(("pets.zip", good, "application/zip"))
    at.radio(key="md_zip_size").set_value("32×32 colour (photos)")
    at.run()
    at.button(key="md_zip_import").click()
    at.run()
    ds = userdata.get("pets")
    assert ds.counts == (5, 5) and ds.image_shape == (32, 32, 3)


def test_another_session_may_train_on_a_dataset_but_not_change_it(user_dir):
    userdata.create("adas", SHAPES, (28, 28, 1), owner="ada-session", owner_name="Ada")
    at = page("pages/7_My_data.py")
    at.run()
    at.selectbox(key="md_dataset").set_value("adas")
    at.run()
    assert any("Ada's dataset: you can train on it" in str(i.value) for i in at.info)
    assert not [b for b in at.button if b.key == "md_add_drawing"]


def test_drawings_that_start_from_the_digit_model_get_its_settings_whichever_way_they_are_chosen(user_dir):
    """The settings are those of the network that trains: the digit model's recipe (not the Architecture
    box's Fast one, whose learning rate of 0.01 suits no fine-tuning), on choosing the dataset as after
    switching transfer off and on again."""
    userdata.create("shapes", SHAPES, (28, 28, 1))
    for k in SHAPES:
        userdata.add_files("shapes", k, [(f"{i}.png", png(shape_image(k, i, size=200))) for i in range(15)])

    def settings(at):
        return {name: at.session_state[f"tr_{name}"] for name in ("optimizer", "learning_rate", "batch_size",
                                                                   "epochs", "label_smoothing")}

    def recipe(arch_name):
        values = run_config.config_values(run_config.default_config(arch_name, "user:shapes", n_train=36))
        return {name: values[name] for name in ("optimizer", "learning_rate", "batch_size", "epochs",
                                                "label_smoothing")}

    at = page("pages/2_Train.py")
    at.run()
    at.selectbox(key="tr_ds").set_value("user:shapes")
    at.run()
    chosen = settings(at)
    assert at.checkbox(key="tr_transfer").value and chosen == recipe(store.read_meta("mnist")["arch"])
    at.checkbox(key="tr_transfer").uncheck()
    at.run()
    assert settings(at) == recipe("fast")
    at.checkbox(key="tr_transfer").check()
    at.run()
    assert settings(at) == chosen and not at.exception


def test_train_on_your_drawings_then_the_draw_page_reads_them_by_name(user_dir, monkeypatch):
    userdata.create("shapes", SHAPES, (28, 28, 1))
    for k in SHAPES:
        userdata.add_files("shapes", k, [(f"{i}.png", png(shape_image(k, i, size=200))) for i in range(15)])
    at = page("pages/2_Train.py")
    at.run()
    at.selectbox(key="tr_ds").set_value("user:shapes")
    at.run()
    assert at.checkbox(key="tr_transfer").value  # drawings start from the digit model by default
    assert at.number_input(key="tr_batch_size").value <= 9 and at.checkbox(key="tr_augment").value
    at.number_input(key="tr_epochs").set_value(8)
    at.run()
    at.button(key="tr_start").click()
    at.run()
    finish_runs(at, "train")
    assert not at.exception and not at.error, [str(e.value) for e in at.error]
    meta = at.session_state["train_result"][2]
    assert meta["class_names"] == SHAPES and meta["dataset"] == "user:shapes" and meta["config"]["start_from"]
    monkeypatch.setattr(canvas, "read_pad", lambda *a, **k: (canvas_of("triangle", 77), None, ""))
    draw = page("pages/5_Draw.py")
    draw.session_state["session_models"] = at.session_state["session_models"]
    draw.session_state["current_model"] = at.session_state["current_model"]
    draw.run()
    assert not draw.exception
    assert next(t.value for t in draw.title).endswith("Draw one of your classes")
    head = next(m for m in draw.markdown if str(m.value).startswith("## Prediction: "))
    assert str(head.value).removeprefix("## Prediction: ") in SHAPES


def test_a_class_without_test_images_gets_a_message_on_evaluate_and_inspect(user_dir):
    """Item 10 of the walkthrough issue: Evaluate's pool[0] and Inspect's number_input(0, -1) on an empty class."""
    import keras

    userdata.create("sparse", ["circle", "square", "empty"], (28, 28, 1))
    for k in ("circle", "square"):
        userdata.add_files("sparse", k, [(f"{i}.png", png(shape_image(k, i, size=200))) for i in range(10)])
    inputs = keras.Input((28, 28, 1), name="image")
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(
        keras.layers.Flatten(name="flat")(inputs)))
    store.save_model(model, "sparse-model", {"dataset": "user:sparse", "input_shape": [28, 28, 1], "num_classes": 3,
                                             "class_names": ["circle", "square", "empty"]})
    for path, key in (("pages/3_Evaluate.py", None), ("pages/4_Inspect.py", "in_user:sparse_cls")):
        at = page(path)
        at.session_state["current_model"] = "saved:sparse-model"
        at.run()
        assert not at.exception, at.exception
        box = next(s for s in at.selectbox if s.key == key or (key is None and s.key and s.key.startswith("ev_one_")
                                                                 and s.key.endswith("_cls")))
        box.set_value("empty")
        at.run()
        assert not at.exception, at.exception
        assert any("No test image of “empty” yet" in str(i.value) for i in at.info), path


def test_train_on_it_waits_while_a_run_trains_so_the_train_page_shows_that_runs_settings(user_dir):
    """Item 3 of the walkthrough: "Train on it" during an MNIST run made the locked Train page show the new
    dataset's settings (transfer, 60 epochs, batch 4) while the run was MNIST Fast."""
    userdata.create("shapes", SHAPES, (28, 28, 1))
    userdata.add_files("shapes", "circle", [("0.png", png(shape_image("circle", 0, size=200)))])
    at = page("pages/2_Train.py")
    at.run()
    at.number_input(key="tr_epochs").set_value(200)
    at.run()
    at.button(key="tr_start").click()
    at.run()
    try:
        at.switch_page("pages/7_My_data.py")
        at.run()
        at.selectbox(key="md_dataset").set_value("shapes")
        at.run()
        assert at.button(key="md_train").disabled
        assert any("still training" in str(c.value) for c in at.caption)
        at.switch_page("pages/2_Train.py")
        at.run()
        assert at.selectbox(key="tr_ds").value == "mnist" and at.number_input(key="tr_epochs").value == 200
    finally:
        for job in at.session_state["runs"]["train"].jobs:
            job.stop("user")
            job.wait(120)
