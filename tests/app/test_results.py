"""Small words of the result views (items 2 and 9 of the walkthrough issue)."""
import pytest
from PIL import Image

from cnn import run_config, store, userdata
from cnn.i18n import n_
from ui import chrome, results


@pytest.mark.parametrize(("arch", "dataset", "expected"), [("vgg", "user:shapes", "vgg-user-shapes"),
                                                           ("fast", "mnist", "fast-mnist"),
                                                           ("custom", "user:my set", "custom-user-my-set")])
def test_the_save_name_offered_is_a_valid_model_name(arch, dataset, expected):
    name = results.default_save_name(run_config.TrainConfig(arch=arch, dataset=dataset))
    assert name == expected and store.validate_name(name) == name


def test_numbers_read_as_words_do():
    assert chrome.loss_text(-0.0000001) == "0.0000" and chrome.loss_text(float("nan")) == "—"
    assert n_("{n:,} example", "{n:,} examples", 1) == "1 example"
    assert n_("{n:,} example", "{n:,} examples", 1000) == "1,000 examples"
    ds = userdata.create("one", ["a", "b"], (28, 28, 1))
    assert "0 examples" in ds.describe()
    userdata.add_images("one", "a", [userdata.prepare(Image.new("L", (28, 28)), (28, 28, 1))])
    assert "1 example," in userdata.get("one").describe()


def test_the_draw_page_speaks_of_the_mode_in_use_and_the_data_page_of_the_dataset_shown(models_dir):
    from test_pages import page

    draw = page("pages/5_Draw.py")
    draw.session_state["dr_mode"] = "Upload an image"
    draw.run()
    infos = [str(i.value) for i in draw.info]
    assert any("Upload a photo or scan of one digit" in t for t in infos)
    assert not any("canvas" in t for t in infos)
    data = page("pages/1_Data.py")
    data.run()
    data.selectbox(key="data_ds").set_value("cifar10")
    data.run()
    text = " ".join(str(m.value) for m in data.markdown)
    assert "photo moved or tilted" in text and "digit moved" not in text
