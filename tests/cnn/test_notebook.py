"""cnn.notebook: a run as a Jupyter notebook in plain Keras that executes and lands where the app's run lands."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from cnn import notebook
from cnn.run_config import default_config


def test_a_fast_run_becomes_a_valid_notebook_with_the_seed_steps_in_the_students_language():
    import nbformat

    from cnn import i18n

    config = default_config("fast", "mnist", train_limit=2000)
    nb = nbformat.reads(notebook.to_bytes(notebook.make(config, (28, 28, 1), [str(i) for i in range(10)])).decode(),
                        as_version=4)
    nbformat.validate(nb)
    text = "\n".join(c.source for c in nb.cells)
    for step in ("1. Load the data", "2. Preprocess", "3. Build the layers", "4. Compile", "5. Train",
                 "6. Evaluate", "7. Save", "8. Plot the history", "9. Predict one image"):
        assert f"## {step}" in text
    assert "keras.datasets.mnist.load_data()" in text and 'LOCAL_COPY = Path("mnist.npz")' in text
    assert "x_train[:2000]" in text and "SEED = 42" in text and "CosineDecay" in text
    assert "beta_1=0.7" in text and "label_smoothing=0.1" in text  # adam-fast, the fast preset's recipe
    assert 'layers.Conv2D(8, (5, 5)' in text
    i18n.set_language("de")
    try:
        german = "\n".join(c["source"] for c in notebook.make(config, (28, 28, 1), list("0123456789"))["cells"])
    finally:
        i18n.set_language("en")
    assert "## 1. Daten laden" in german and "## 1. Load the data" not in german


@pytest.mark.parametrize("arch", ["cifar_small"])
def test_a_run_plain_keras_would_not_reproduce_is_refused_with_the_reason(arch):
    config = default_config(arch, "cifar10")
    with pytest.raises(notebook.NotebookError, match="cannot be a notebook in plain Keras: it trains with airbench"):
        notebook.make(config, (32, 32, 3), [str(i) for i in range(10)])


def test_an_own_dataset_comes_as_a_zip_with_its_images_in_keras_layout():
    from cnn.data import Dataset

    rng = np.random.default_rng(0)
    ds = Dataset("user:shapes", rng.integers(0, 255, (12, 28, 28, 1), np.uint8), np.arange(12) % 3,
                 rng.integers(0, 255, (6, 28, 28, 1), np.uint8), np.arange(6) % 3, ("circle", "square", "triangle"),
                 "your own")
    name, blob = notebook.export(default_config("fast", "user:shapes", epochs=2), ds)
    assert name == "fast-user-shapes.zip"
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert sorted(z.namelist()) == ["fast-user-shapes.ipynb", "shapes.npz"]
        with np.load(io.BytesIO(z.read("shapes.npz"))) as f:
            assert f["x_train"].shape == (12, 28, 28) and f["y_test"].tolist() == ds.y_test.tolist()
        nb = json.loads(z.read("fast-user-shapes.ipynb"))
    assert '"circle", "square", "triangle"' in "".join(c["source"] for c in nb["cells"])


def _run_notebook(nb_bytes: bytes, folder, ds) -> float:
    """Execute a notebook offline in a Jupyter kernel, with the dataset's copy beside it; its test accuracy."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.reads(nb_bytes.decode(), as_version=4)
    for cell in nb.cells:  # offline, as CI is: Keras' download fails and the copy beside the notebook is read
        cell.source = re.sub(r"keras\.datasets\.\w+\.load_data\(\)", 'exec("raise OSError(\'offline\')")', cell.source)
    (folder / notebook.data_file(ds.name)).write_bytes(notebook.keras_layout(ds))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    return float(re.search(r"test accuracy: ([\d.]+)", printed).group(1))


@pytest.mark.heavy
@pytest.mark.parametrize(("arch", "overrides"), [("fast", {}), ("tutorial", {"epochs": 1})])
def test_the_notebook_lands_within_two_points_of_the_apps_run(tmp_path, arch, overrides):
    from cnn import training
    from cnn.dataset_sources import load_dataset

    ds = load_dataset("mnist", allow_download=False)
    config = replace(default_config(arch, "mnist", train_limit=10000, precision="float32"), **overrides)
    app = training.train(config, dataset=ds)
    name, blob = notebook.export(config, ds)
    ours = _run_notebook(blob, tmp_path, ds)
    print(f"{arch}: the app's run {app.test_accuracy:.4f}, the notebook {ours:.4f} ({len(ds.test_images)} test images)")
    assert abs(ours - app.test_accuracy) <= 0.02
    assert (tmp_path / f"{name.removesuffix('.ipynb')}.keras").is_file()  # step 7 saved the model
