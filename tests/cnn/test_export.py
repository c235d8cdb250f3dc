"""cnn.export: LiteRT and ONNX files that answer as Keras does, checked in their own runtimes."""
import numpy as np
import pytest

from cnn import architectures, cli, data, dataset_sources, export, run_config, store, training

from conftest import tiny_dataset
from needs import need

pytestmark = pytest.mark.heavy

need("ai_edge_litert", "the export packages are not installed (requirements-export.txt)")
need("onnxruntime", "the export packages are not installed (requirements-export.txt)")


@pytest.fixture(scope="module")
def mnist_test():
    ds = dataset_sources.load_dataset("mnist", allow_download=False)
    return ds.x_test[:200], ds.y_test[:200], ds.x_train[:200]


@pytest.fixture(scope="module")
def fresh_fast_model():
    """A freshly trained fast-preset model (in bfloat16 where the CPU has it, as the Train page trains)."""
    ds = data.subset(dataset_sources.load_dataset("mnist", allow_download=False), 2000, 200)
    return training.train(run_config.default_config("fast", "mnist", seed=1), ds, evaluate=False).model


@pytest.mark.parametrize("which", ["shipped", "fresh"])
def test_float32_files_agree_with_keras_on_every_image_and_int8_on_99_percent(which, mnist_test, fresh_fast_model):
    model = store.load_model("mnist") if which == "shipped" else fresh_fast_model
    x, y, calibration = mnist_test
    probs = np.asarray(model.predict_on_batch(x))
    keras_top = probs.argmax(1)
    top2 = np.sort(probs, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) >= export.NEAR_TIE  # rounding alone cannot flip these
    assert clear.mean() > 0.9
    for fmt in ("litert", "onnx"):
        done = export.export_checked(model, fmt, x, y, calibration)
        assert done.check.agree == done.check.n == 200
        np.testing.assert_array_equal(export.run(fmt, done.data, x).argmax(1)[clear], keras_top[clear])
    int8 = export.export_checked(model, "litert-int8", x, y, calibration)
    assert ((export.run("litert-int8", int8.data, x).argmax(1) == keras_top) | ~clear).mean() >= 0.99
    assert int8.size < 0.5 * export.export_checked(model, "litert", x[:10]).size  # int8 weights: much smaller


def test_a_layer_the_converter_cannot_translate_gets_a_clear_message():
    gelu = architectures.build_model([{"type": "conv2d", "filters": 4, "kernel": 3, "stride": 1, "padding": "same",
                                       "activation": "gelu"}, {"type": "gap"}], (28, 28, 1))
    x = tiny_dataset().x_test[:20]
    with pytest.raises(export.ExportError, match=r"cannot translate Erfc \(from a GELU activation\)"):
        export.export_checked(gelu, "onnx", x)
    assert export.export_checked(gelu, "litert", x).check.agree == 20  # LiteRT has GELU


def test_missing_packages_say_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    with pytest.raises(export.ExportError, match=r"pip install -r requirements-export\.txt"):
        export.convert(store.load_model("mnist"), "onnx")


def test_a_file_that_does_not_answer_like_keras_is_not_offered(monkeypatch, mnist_test):
    x, y, _ = mnist_test
    monkeypatch.setattr(export, "run", lambda fmt, data, x: np.eye(10, dtype=np.float32)[np.zeros(len(x), int)])
    with pytest.raises(export.ExportError, match=r"Not offered: .* agree with Keras"):
        export.export_checked(store.load_model("mnist"), "litert", x, y)


def test_cli_export_writes_a_checked_file(tmp_path, capsys):
    assert cli.main(["export", "--model", "mnist", "--format", "litert", "--int8", "--check", "300",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("LiteRT (TFLite), int8 file: ") and "/300 test predictions agree with Keras" in out[0]
    assert (tmp_path / "mnist-int8.tflite").stat().st_size > 10_000
    assert cli.main(["export", "--model", "mnist", "--format", "onnx", "--int8", str(tmp_path)]) == 1
    assert "for LiteRT files only" in capsys.readouterr().err
