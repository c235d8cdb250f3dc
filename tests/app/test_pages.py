"""The pages through Streamlit's AppTest: every page runs, and the main flows work through their widgets."""
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui import canvas

from conftest import ROOT
from drawn_digits import STROKES, draw, transform

PAGES = ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))]
TIMEOUT = 120  # importing TensorFlow alone takes several seconds


def page(path: str) -> AppTest:
    """The app as the browser opens it (app.py and its page menu), on the page at ``path``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if path != "app.py":
        at.switch_page(path)
    return at


def finish_runs(at: AppTest, key: str):
    """Let the session's runs under ``key`` finish, rerunning the page as the browser would."""
    group = at.session_state["runs"][key]
    for job in group.jobs:
        assert job.wait(600), f"{job.label} did not finish"
    at.run()
    return group


def texts(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(e.value) for e in at.error)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_without_exception(path, models_dir):
    at = page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_home_lists_datasets_and_shipped_models(models_dir):
    at = page("app.py")
    at.run()
    # a teacher finds the Class page from Home (the menu shows it only in teacher mode)
    assert any(p.proto.page == "Class" for p in at.get("page_link")), "a way to the Class page"
    body = texts(at)
    assert "MNIST" in body and "bundled sample" in body
    names = at.dataframe[0].value["name"].tolist()
    assert "mnist" in names


def start_training(epochs: int) -> AppTest:
    """Open the Train page and press Train on 2,000 images for ``epochs`` epochs, as a student would."""
    at = page("pages/2_Train.py")
    at.run()
    at.select_slider(key="tr_train_limit").set_value(2000)
    at.number_input(key="tr_epochs").set_value(epochs)
    at.button(key="tr_start").click()
    at.run()
    return at


def test_train_page_trains_through_its_controls(models_dir):
    at = start_training(epochs=1)
    assert not at.exception and not at.error
    assert any("Training fast-mnist" in str(m.value) for m in at.markdown)  # the live view is up
    finish_runs(at, "train")
    assert not at.exception and not at.error
    assert len(at.session_state["session_models"]) == 1
    _label, result, meta = at.session_state["train_result"]
    assert result.status == "finished" and result.epochs_done == 1 and meta["dataset"] == "mnist"
    assert any(m.label == "Test accuracy" for m in at.metric)
    assert at.get("plotly_chart"), "the training curves are shown"
    at.text_input[0].set_value("apptest-model")
    next(b for b in at.button if b.label == "Save model").click()
    at.run()
    assert (models_dir / "apptest-model.keras").exists() and (models_dir / "apptest-model.json").exists()


def test_stop_ends_training_and_keeps_the_model(models_dir):
    at = start_training(epochs=200)
    job = at.session_state["runs"]["train"].jobs[0]
    while job.latest() is None:
        job.wait(0.2)
    at.button(key="tr_stop").click()
    at.run()
    finish_runs(at, "train")
    assert not at.exception
    label, result, _ = at.session_state["train_result"]
    assert result.status == "stopped" and result.epochs_done < 200
    assert label in at.session_state["session_models"]
    assert any("Stopped by you" in str(w.value) for w in at.warning)


def test_train_submits_the_run_the_page_showed_at_the_press_and_a_setting_changed_with_the_press_counts(models_dir):
    """The press submits in its callback (before the page runs again) only when the settings are the ones the page
    showed; a setting changed in the same message as the press goes through the page's run, so it is not lost."""
    at = page("pages/2_Train.py")
    at.run()
    at.select_slider(key="tr_train_limit").set_value(500)
    at.run()  # the page now shows this run
    at.button(key="tr_start").click()
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["tr_error"] == ""  # submitted by the press's callback
    assert at.session_state["train_config"].train_limit == 500
    finish_runs(at, "train")
    at.number_input(key="tr_epochs").set_value(2)  # typed, and Train clicked before the page ran again
    at.button(key="tr_start").click()
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["train_config"].epochs == 2 and at.session_state["train_config"].train_limit == 500
    finish_runs(at, "train")


def test_invalid_layer_stack_is_explained_next_to_the_layer(models_dir):
    at = page("pages/2_Train.py")
    at.session_state["tr_arch"] = "custom"
    at.session_state["spec"] = [{"type": "maxpool", "size": 2}] * 5 + [{"type": "flatten"}]
    at.run()
    assert not at.exception
    assert any("spatial size below 1" in str(e.value) and "Layer 5" in str(e.value) for e in at.error)
    assert at.button(key="tr_start").disabled


@pytest.mark.parametrize("change,message", [({"tr_epochs": 1, "tr_batch_size": 600}, "larger than"),
                                            ({"tr_learning_rate": 0.0}, "Learning rate must be between")])
def test_bad_hyperparameters_get_a_message(models_dir, change, message):
    at = page("pages/2_Train.py")
    at.run()
    at.select_slider(key="tr_train_limit").set_value(500)
    for key, value in change.items():
        at.number_input(key=key).set_value(value)
    at.button(key="tr_start").click()
    at.run()
    assert not at.exception and any(message in str(e.value) for e in at.error)


def test_evaluate_links_a_confusion_cell_to_its_images(models_dir):
    at = page("pages/3_Evaluate.py")
    at.run()
    assert not at.exception
    acc = next(m for m in at.metric if m.label == "Test accuracy")
    assert float(acc.value.rstrip("%")) > 95
    true_box = next(b for b in at.selectbox if b.key.startswith("ev_true_"))
    pred_box = next(b for b in at.selectbox if b.key.startswith("ev_pred_"))
    true_box.set_value(4)
    pred_box.set_value(4)
    at.run()
    assert any("test images of **4** predicted as **4** (correct)" in str(m.value) for m in at.markdown)
    assert len(at.get("image")) > 10


def test_inspect_shows_maps_filters_and_grad_cam(models_dir):
    at = page("pages/4_Inspect.py")
    at.run()
    assert not at.exception and not at.error
    captions = " ".join(str(img.proto) for img in at.get("image"))
    assert "Grad-CAM" in captions and "First-layer filters" in captions and "channels 1" in captions


@pytest.mark.parametrize("digit", [1, 7, 0])
def test_draw_page_reads_an_injected_drawing(models_dir, monkeypatch, digit):
    drawing = np.asarray(draw(transform(STROKES[digit], size=200, cx=140, cy=160), 20, 280, mode="RGBA"))
    monkeypatch.setattr(canvas, "read_pad", lambda *a, **k: (drawing, None, ""))
    at = page("pages/5_Draw.py")
    at.run()
    assert not at.exception and not at.error
    assert any(str(m.value).strip() == f"## Prediction: {digit}" for m in at.markdown)
    assert at.session_state["last_drawing"].shape == (1, 28, 28, 1)
    assert any("read on the server in" in c.value for c in at.caption)  # the answer's line, under the drawing


@pytest.mark.parametrize(("size", "hint"), [(50, True), (200, False)])
def test_draw_page_asks_for_a_bigger_digit_when_it_is_tiny(models_dir, monkeypatch, size, hint):
    drawing = np.asarray(draw(transform(STROKES[8], size=size, cx=140, cy=150), 14, 280, mode="RGBA"))
    monkeypatch.setattr(canvas, "read_pad", lambda *a, **k: (drawing, None, ""))
    at = page("pages/5_Draw.py")
    at.run()
    assert not at.exception
    assert any("draw it bigger" in str(w.value) for w in at.warning) == hint


def test_draw_page_leaves_the_answer_to_the_browser_that_read_the_drawing(models_dir, monkeypatch):
    """The pad read the drawing with the model file the page gave it: the server shows the steps, not a second
    answer; a reading made with another model (the pick changed since) is answered by the server."""
    drawing = np.asarray(draw(transform(STROKES[7], size=200, cx=140, cy=160), 20, 280, mode="RGBA"))
    sent = {}

    def pad(key, brush, label, model=None):
        sent.update(model or {})
        url = (model or {}).get("model", {}).get("url", "") if sent.get("same", True) else "another"
        return drawing, canvas.BrowserRead(7, (0.0,) * 7 + (1.0, 0.0, 0.0), 3.0, url), ""

    monkeypatch.setattr(canvas, "read_pad", pad)
    at = page("pages/5_Draw.py")
    at.run()
    assert not at.exception and not at.error
    assert sent["model"]["url"].startswith("/app/static/models/") and sent["model"]["classes"][7] == "7"
    assert not any(str(m.value).startswith("## Prediction") for m in at.markdown)
    assert any(s.value.startswith("What the network sees") for s in at.subheader)
    sent["same"] = False
    at.run()
    assert any(str(m.value).strip() == "## Prediction: 7" for m in at.markdown)


def test_draw_page_prompts_on_an_empty_canvas(models_dir, monkeypatch):
    empty = np.zeros((280, 280, 4), np.uint8)
    monkeypatch.setattr(canvas, "read_pad", lambda *a, **k: (empty, None, ""))
    at = page("pages/5_Draw.py")
    at.run()
    assert not at.exception and not at.error
    assert any("Nothing drawn yet" in str(i.value) for i in at.info)


@pytest.mark.parametrize("lesson", ["Convolution", "Pooling", "Activation functions", "Fully connected layers",
                                    "Dropout", "Batch normalisation", "Data augmentation", "Transfer learning"])
def test_each_lesson_renders(models_dir, lesson):
    at = page("pages/6_Lessons.py")
    at.session_state["lesson"] = lesson
    at.run()
    assert not at.exception and not at.error
    assert any(str(h.value) == lesson for h in at.header)


@pytest.mark.heavy
def test_dropout_lesson_runs_both_models(models_dir):
    at = page("pages/6_Lessons.py")
    at.session_state["lesson"] = "Dropout"
    at.run()
    at.button(key="lesson_dropout_run").click()
    at.run()
    results = finish_runs(at, "lesson_dropout").results()
    assert not at.exception and not at.error
    assert [r[0] for r in results] == ["no dropout", "dropout 0.5"]
    assert all(len(r[1].history["val_accuracy"]) == 15 for r in results)
    # the class's second run of the lesson is labelled "no dropout-2": the page still says the lesson's words
    at.button(key="lesson_dropout_run").click()
    at.run()
    assert [j.label for j in finish_runs(at, "lesson_dropout").jobs] == ["no dropout-2", "dropout 0.5-2"]
    assert not at.exception and not at.error
    shown = [str(m.label) for m in at.metric]
    assert "no dropout: test accuracy" in shown and not any("-2" in s for s in shown), shown


def test_query_parameters_preset_the_train_page(models_dir):
    at = page("pages/2_Train.py")
    at.query_params.update({"dataset": "fashion_mnist", "arch": "lenet", "epochs": "3", "batch": "32",
                            "lr": "0.002", "augment": "1", "seed": "7", "epochs_bad": "x"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="tr_ds").value == "fashion_mnist" and at.selectbox(key="tr_arch").value == "lenet"
    assert at.number_input(key="tr_epochs").value == 3 and at.number_input(key="tr_batch_size").value == 32
    assert at.number_input(key="tr_learning_rate").value == pytest.approx(0.002)
    assert at.checkbox(key="tr_augment").value
    assert at.number_input(key="tr_seed").value == 7


def test_bad_query_parameter_is_reported_not_crashing(models_dir):
    at = page("pages/2_Train.py")
    at.query_params.update({"epochs": "0", "arch": "nonexistent"})
    at.run()
    assert not at.exception
    assert len(at.warning) == 2


def test_delete_asks_for_confirmation(models_dir):
    from cnn import store

    at = page("app.py")
    at.run()
    store.save_model(store.load_model("mnist"), "mine", {"dataset": "mnist", "input_shape": [28, 28, 1],
                                                        "owner": at.session_state["owner"]})  # this very session's
    at.run()
    at.selectbox(key="del_name").set_value("mine")
    at.run()
    assert not [b for b in at.button if b.key == "del_go"]  # no delete button before confirming
    at.checkbox(key="del_sure_mine").check()
    at.run()
    at.button(key="del_go").click()
    at.run()
    assert not store.exists("mine") and store.exists("mnist")
    assert not (models_dir / "mine.keras").exists() and (models_dir / "mnist.keras").exists()


def test_training_failure_is_a_message_not_a_traceback(models_dir, monkeypatch):
    """A run that fails inside the worker process (here: a label outside the 10 classes) is a message."""
    import dataclasses

    from ui import datasets

    from conftest import tiny_dataset

    good = tiny_dataset()
    broken = dataclasses.replace(good, y_train=np.where(np.arange(len(good.y_train)) == 5, 10, good.y_train))
    monkeypatch.setattr(datasets, "load_dataset", lambda name: broken)
    at = page("pages/2_Train.py")
    at.run()
    at.button(key="tr_start").click()
    at.run()
    finish_runs(at, "train")
    assert not at.exception
    assert any("Training failed" in str(e.value) for e in at.error), [e.value for e in at.error]


def test_one_out_of_range_value_gets_one_message_from_the_link_the_widget_and_the_command_line(models_dir):
    import subprocess
    import sys

    expected = "Validation split must be between 0 and 0.5, got 0.9."
    at = page("pages/2_Train.py")  # a share link
    at.query_params.update({"val": "0.9"})
    at.run()
    assert not at.exception and any(expected in str(w.value) for w in at.warning)
    assert at.slider(key="tr_validation_split").max == 0.5  # the widget stops where the schema does
    run = subprocess.run([sys.executable, "-m", "cnn", "train", "--validation-split", "0.9", "--name", "x"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and expected in run.stderr


def _train_page_measured(monkeypatch, tmp_path, minutes: dict[str, float], dataset: str, arch: str):
    """The Train page on ``dataset`` and ``arch``, this computer measured at ``minutes`` per CIFAR recipe."""
    from cnn import cifar_budget

    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: dict(minutes))
    cifar_budget.cifar_minutes(measure=True)
    at = page("pages/2_Train.py")
    at.query_params.update({"dataset": dataset, "arch": arch})
    at.run()
    return at


def test_train_page_names_the_cifar_preset_that_suits_this_computer(models_dir, monkeypatch, tmp_path):
    """Measured fast enough for 12 epochs with the forecast's margin: on CIFAR the page points to CIFAR small, which
    then gets 12."""
    at = _train_page_measured(monkeypatch, tmp_path, {"cifar": 5.1, "cifar_small": 3.6}, "cifar10", "cifar")
    assert not at.exception
    assert any("**CIFAR small** reads more" in str(i.value) for i in at.info), [i.value for i in at.info]
    assert at.number_input(key="tr_epochs").value == 12  # CIFAR keeps its own recipe
    at.selectbox(key="tr_arch").set_value("cifar_small")
    at.run()
    assert not at.exception and at.number_input(key="tr_epochs").value == 12
    assert any("10 minutes hold 12 epochs" in str(i.value) for i in at.info), [i.value for i in at.info]


def test_train_page_fits_the_epochs_when_cifar_is_chosen_after_the_preset(models_dir, monkeypatch, tmp_path):
    """CIFAR small chosen first, on MNIST, then the dataset: Epochs moves to what fits 10 minutes here, as the advice
    says, and back to the recipe's own on leaving CIFAR-10."""
    from cnn import cifar_budget

    at = _train_page_measured(monkeypatch, tmp_path, {"cifar": 9.79, "cifar_small": 1.73}, "mnist", "cifar_small")
    assert not at.exception and at.number_input(key="tr_epochs").value == 5
    at.selectbox(key="tr_ds").set_value("cifar10")
    at.run()
    assert not at.exception and at.number_input(key="tr_epochs").value == cifar_budget.CIFAR_MAX_EPOCHS == 24
    assert any("10 minutes hold 24 epochs" in str(i.value) for i in at.info), [i.value for i in at.info]
    at.selectbox(key="tr_ds").set_value("mnist")
    at.run()
    assert not at.exception and at.number_input(key="tr_epochs").value == 5


def test_train_page_measures_this_computer_for_the_cifar_presets_on_request(models_dir, monkeypatch, tmp_path):
    """Not measured yet: a button measures, then the epochs that fit 10 minutes here are set at once."""
    from cnn import cifar_budget

    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cifar_budget, "measure_cifar_minutes", lambda: {"cifar": 9.0, "cifar_small": 4.6})
    at = page("pages/2_Train.py")
    at.query_params.update({"dataset": "cifar10", "arch": "cifar_small"})
    at.run()
    assert not at.exception and not at.info and at.number_input(key="tr_epochs").value == 5
    at.button(key="tr_measure_cifar").click()
    at.run()
    assert not at.exception and at.number_input(key="tr_epochs").value == 9
    advice = [str(i.value) for i in at.info if "Measured on this computer" in str(i.value)]
    assert advice and "10 minutes hold 9 epochs" in advice[0]


@pytest.mark.parametrize("path", ["app.py", "pages/2_Train.py", "pages/9_Class.py"])
def test_a_corrupt_class_database_is_one_message_and_touches_no_model(path, models_dir, tmp_path, monkeypatch):
    from cnn import db

    bad = tmp_path / "cnnlab.db"
    bad.write_bytes(b"not a database at all" * 200)
    monkeypatch.setenv("CNN_DATABASE_URL", f"sqlite:///{bad}")
    db.forget_shared()
    before = {f.name: f.stat().st_mtime_ns for f in models_dir.iterdir()}
    at = page(path)
    at.run()
    assert not at.exception
    assert [str(e.value) for e in at.error] == [next(str(e.value) for e in at.error)]  # one message
    assert "cannot open its class database" in at.error[0].value and str(bad) in at.error[0].value
    assert {f.name: f.stat().st_mtime_ns for f in models_dir.iterdir()} == before
    assert bad.read_bytes().startswith(b"not a database at all")


def test_train_page_says_what_the_preset_is_for_and_what_it_took_here(models_dir):
    """The caption speaks to a student (benchmark diaries and dates live in bench/README.md); runs of the class say
    what the preset took on this very server."""
    from cnn import db, run_config
    from cnn.jobs import JobRequest, records
    from cnn.jobs.base import Job

    from conftest import tiny_dataset

    at = page("pages/2_Train.py")
    at.run()
    captions = " ".join(str(c.value) for c in at.caption)
    assert "one quick pass" in captions and "Measured here" not in captions and "bench/" not in captions
    assert not any("2026" in str(e.label) or "EPYC" in str(e.label) for e in at.expander)
    database = db.database()
    request = JobRequest(run_config.TrainConfig(dataset="mnist", arch="fast", epochs=1), tiny_dataset(), label="f-1")
    job = Job(request, None)
    records.insert(database, job, request, "server-a")
    database.execute("UPDATE runs SET state = 'done', result = ? WHERE id = ?",
                     (json.dumps({"status": "finished", "seconds": 5.4, "test_accuracy": 0.9912}), job.id))
    at.run()
    captions = " ".join(str(c.value) for c in at.caption)
    assert "Measured here:** 5 s of training for 1 epoch on MNIST (handwritten digits), 99.1% of the test images " \
           "right (one run)" in captions



@pytest.mark.parametrize("path", ["app.py", "pages/2_Train.py"])
def test_a_bad_server_setting_is_one_message_on_every_page(path, models_dir, monkeypatch):
    monkeypatch.setenv("CNN_HEARTBEAT_S", "soon")
    at = page(path)
    at.run()
    assert not at.exception
    assert [str(e.value).count("CNN_HEARTBEAT_S='soon'") for e in at.error] == [1]
    assert "a number from 1 to 86400" in at.error[0].value


def test_the_pooling_and_fully_connected_lessons_have_something_to_try(models_dir):
    at = page("pages/6_Lessons.py")
    at.session_state["lesson"] = "Pooling"
    at.run()
    moved = {m.label: m.value for m in at.metric}
    assert any(label.startswith("Moving the image 1 px") for label in moved)
    at.slider(key="pool_shift").set_value(0).run()
    assert [m.value for m in at.metric] == ["0%", "0%"]  # not moved: nothing changed
    at.session_state["lesson"] = "Fully connected layers"
    at.run()
    assert at.metric[0].value == "6,526,474"  # the tutorial
    at.radio(key="dense_gap").set_value(True).run()
    smaller = int(at.metric[0].value.replace(",", ""))
    assert smaller < 300_000 and not at.exception


def test_a_screen_reader_hears_each_epoch_end_once_not_each_batch():
    from cnn import run_config, run_results
    from cnn.jobs import JobRequest
    from cnn.jobs.base import Job
    from ui.runs import epoch_news

    from conftest import tiny_dataset

    job = Job(JobRequest(run_config.TrainConfig(dataset="mnist", arch="fast", epochs=3), tiny_dataset(), label="f-1"),
              None)
    assert epoch_news(job) == "f-1: waiting to start"
    job.state = "running"
    job.add_event(run_results.Progress("batch", 1, 3, 5, 10, 1.0, 100.0, {"loss": 1.0, "accuracy": 0.5}))
    said = epoch_news(job)
    job.add_event(run_results.Progress("batch", 1, 3, 9, 10, 1.5, 100.0, {"loss": 0.9, "accuracy": 0.6}))
    assert epoch_news(job) == said == "f-1: training started"  # batches change nothing that is read aloud
    job.add_event(run_results.Progress("epoch", 1, 3, 10, 10, 2.0, 100.0, {"loss": 0.5, "accuracy": 0.875,
                                                                          "val_accuracy": 0.9}))
    assert epoch_news(job) == "f-1: epoch 1 of 3 done: loss 0.500, accuracy 87.5%, val accuracy 90.0%"


def test_a_reload_while_a_run_trains_shows_its_settings_locked_and_keeps_them(models_dir):
    """Reloaded mid-run, the page showed the defaults ("Epochs 1") beside "Epoch 13/20", the settings she had typed
    were gone, and Train afterwards trained 1 epoch. The run's own settings come back with it."""
    from cnn import run_config, run_results
    from cnn.jobs import JobRequest
    from cnn.jobs.base import Job
    from ui.runs import RunGroup

    from conftest import tiny_dataset

    config = run_config.TrainConfig(dataset="fashion_mnist", arch="lenet", epochs=20, batch_size=32,
                                    learning_rate=0.002, seed=7)
    job = Job(JobRequest(config, tiny_dataset(), label="lenet-fashion_mnist-101500"), None)
    job.state = "running"
    job.add_event(run_results.Progress("epoch", 13, 20, 10, 10, 30.0, 100.0, {"loss": 0.5, "accuracy": 0.8}))
    at = page("pages/2_Train.py")
    at.session_state["runs"] = {"train": RunGroup("train", [job], register=True)}  # what the workspace brings back
    at.session_state["train_config"] = config
    at.run()
    assert not at.exception
    assert at.selectbox(key="tr_ds").value == "fashion_mnist" and at.selectbox(key="tr_arch").value == "lenet"
    assert at.number_input(key="tr_epochs").value == 20 and at.number_input(key="tr_batch_size").value == 32
    assert at.number_input(key="tr_seed").value == 7 and at.number_input(key="tr_epochs").disabled
    job.state = "done"  # it ended: the page's settings are still the run's, ready for the next press
    at.run()
    assert at.number_input(key="tr_epochs").value == 20 and not at.number_input(key="tr_epochs").disabled


def test_a_run_a_restart_ended_is_told_at_the_top_of_the_page_until_read(models_dir):
    """After a restart, a student's interrupted run was told only in the folded "Your runs" box at the bottom."""
    from cnn import db, run_config
    from cnn.jobs import JobRequest, records
    from cnn.jobs.base import Job

    from conftest import tiny_dataset

    at = page("pages/1_Data.py")
    at.run()
    request = JobRequest(run_config.TrainConfig(epochs=5), tiny_dataset(), label="fast-mnist-093000",
                         owner=at.session_state["owner"])
    job = Job(request, None)
    database = db.database()
    records.insert(database, job, request, "server-before-restart")
    database.execute("UPDATE runs SET state = 'running', progress = ? WHERE id = ?", (json.dumps({"epoch": 3}), job.id))
    assert records.interrupt(database, "server = ?", ("server-before-restart",)) == 1
    at.run()
    said = [str(w.value) for w in at.warning]
    assert any("fast-mnist-093000" in w and "Interrupted by a server restart at epoch 3" in w for w in said), said
    at.button(key=f"told_{job.id}").click()
    at.run()
    assert not any("Interrupted" in str(w.value) for w in at.warning)


def test_draw_page_asks_a_photo_model_for_a_photo(models_dir):
    """A photo model (the shipped CIFAR-10 one) on Draw: no pad, a photo to upload or take, and the view's toggle."""
    at = page("pages/5_Draw.py")
    at.run()
    at.selectbox(key="dr_model").set_value("saved:cifar10").run()
    assert not at.exception and not at.error
    assert at.title[0].value.endswith("Show the network a photo")
    assert any("reads **photos** (32×32 pixels)" in str(i.value) for i in at.info)
    assert [str(o) for o in at.radio(key="dr_photo_mode").options] == ["Upload a photo", "Take a photo"]
    assert at.toggle(key="dr_inside").value is True


def test_train_page_offers_the_settings_as_a_notebook(models_dir):
    at = page("pages/2_Train.py")
    at.run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Open as a notebook (.ipynb)" in labels
