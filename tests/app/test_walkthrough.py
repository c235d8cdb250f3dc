"""What walking every page as a student and a teacher found, each checked through the page (AppTest)."""

import pytest
from streamlit.testing.v1 import AppTest

from cnn import architectures, keras_files, store

from needs import need
from test_pages import finish_runs, page

pytestmark = pytest.mark.heavy


def test_grad_cam_explains_the_class_the_image_is_predicted_as(models_dir):
    at = page("pages/4_Inspect.py")
    at.run()
    at.selectbox(key="in_mnist_cls").set_value("7")
    at.run()
    cam = next(b for b in at.selectbox if b.key.startswith("in_cam_cls_"))
    assert cam.value == 7 and cam.format_func(cam.value) == "7 (predicted)"
    assert any("Grad-CAM for “7”" in str(img.proto) for img in at.get("image"))
    at.selectbox(key="in_model").set_value("saved:fashion_mnist")  # another model: its own prediction
    at.run()
    cam = next(b for b in at.selectbox if b.key.startswith("in_cam_cls_"))
    assert cam.format_func(cam.value).endswith("(predicted)")


def test_inspect_page_boxes_have_labels(models_dir):
    at = page("pages/4_Inspect.py")
    at.run()
    pagers = [n for n in at.number_input if n.key.startswith("in_page_")]
    assert pagers and all(n.label.strip() for n in pagers)


def train_once(at: AppTest, **settings) -> AppTest:
    at.select_slider(key="tr_train_limit").set_value(1000)
    for key, value in settings.items():
        (at.selectbox(key=key) if key == "tr_optimizer" else at.number_input(key=key)).set_value(value)
    at.button(key="tr_start").click()
    at.run()
    finish_runs(at, "train")
    return at


def test_a_diverging_run_is_called_diverged_not_finished(models_dir):
    at = page("pages/2_Train.py")
    at.run()
    train_once(at, tr_learning_rate=10.0, tr_batch_size=256)
    assert not at.exception
    assert any("diverged" in str(e.value) and "Lower the learning rate" in str(e.value) for e in at.error)
    assert not any("Finished" in str(s.value) for s in at.success)


def test_one_epoch_is_one_epoch_and_an_overlong_name_is_refused_not_dropped(models_dir):
    at = page("pages/2_Train.py")
    at.run()
    train_once(at, tr_epochs=1)
    assert any(str(s.value).startswith("Finished 1 epoch in") for s in at.success)
    name = "x" * 70
    at.text_input[0].set_value(name)
    next(b for b in at.button if b.label == "Save model").click()
    at.run()
    assert any("70 characters long; use at most 64" in str(e.value) for e in at.error)
    assert not list(models_dir.glob("x*.keras")) and not store.exists("fast-mnist")


def test_the_dataset_cannot_change_under_a_running_run(models_dir):
    at = page("pages/2_Train.py")
    at.run()
    at.select_slider(key="tr_train_limit").set_value(1000)
    at.number_input(key="tr_epochs").set_value(3)
    at.button(key="tr_start").click()
    at.run()
    assert at.selectbox(key="tr_ds").disabled and at.selectbox(key="tr_arch").disabled
    at.session_state["tr_ds"] = "fashion_mnist"  # even if it were changed behind the disabled box...
    group = finish_runs(at, "train")
    meta = at.session_state["train_result"][2]
    assert meta["dataset"] == "mnist" and meta["class_names"] == [str(i) for i in range(10)]  # ...the run's facts
    next(b for b in at.button if b.label == "Save model").click()
    at.run()
    saved = store.read_meta("fast-mnist")  # the name the form proposed
    assert saved["dataset"] == "mnist" and group.jobs[0].dataset == "mnist"


def keras_bytes(model) -> bytes:
    return keras_files.model_to_bytes(model)


def test_evaluate_shows_new_results_for_a_reuploaded_file_of_the_same_name(models_dir):
    good = store.load_model("mnist")
    untrained = architectures.build_model(architectures.preset("fast"), (28, 28, 1))
    at = page("pages/3_Evaluate.py")
    at.run()
    accuracies = []
    for model in (good, untrained):  # the same file name, different contents
        at.file_uploader(key="ev_upload").set_value(("digits.keras", keras_bytes(model), "application/octet-stream"))
        at.run()
        assert at.selectbox(key="ev_model").value == "session:upload digits"
        accuracies.append(float(next(m for m in at.metric if m.label == "Test accuracy").value.rstrip("%")))
    assert accuracies[0] > 95 and accuracies[1] < 40


def test_evaluate_exports_a_checked_litert_file(models_dir):

    need("ai_edge_litert", "the export packages are not installed")
    at = page("pages/3_Evaluate.py")
    at.run()
    next(b for b in at.button if b.label == "LiteRT (TFLite), float32").click()
    at.run()
    assert not at.exception
    assert any("2,000/2,000 test predictions agree with Keras" in str(s.value).replace("\\\\", "")
               for s in at.success)
    assert [d for d in at.get("download_button") if "Download" in str(d.proto)]
