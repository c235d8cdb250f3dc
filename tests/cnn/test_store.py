"""cnn.store: atomic saves, no silent overwrite, safe loading, a listing that ignores junk."""
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import zipfile

import keras
import numpy as np
import pytest

from cnn import architectures as arch
from cnn import keras_files, presets, store

from layer_cases import CONTEXT


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_MODELS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def small_model():
    return arch.build_model(arch.preset("lenet"), (28, 28, 1))


def test_round_trip_gives_identical_predictions(folder, small_model):
    store.save_model(small_model, "lenet-test", {"dataset": "mnist", "input_shape": [28, 28, 1]})
    loaded = store.load_model("lenet-test")
    x = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(small_model(x)), np.asarray(loaded(x)))
    [entry] = store.list_models()
    assert entry.name == "lenet-test" and entry.dataset == "mnist" and "saved" in entry.meta


def test_a_trained_model_is_saved_without_its_optimizer_state_and_predicts_the_same(folder):
    import io

    import h5py

    model = arch.build_model(arch.preset("fast"), (28, 28, 1))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    model.fit(x, np.arange(64) % 10, epochs=1, verbose=0)  # Adam now holds two moments per weight
    entry = store.save_model(model, "trained", {"dataset": "mnist", "input_shape": [28, 28, 1]})
    with zipfile.ZipFile(entry.path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as h5:
        assert "optimizer" not in h5  # nothing reads it back: training always compiles afresh
    np.testing.assert_allclose(store.load_model("trained").predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)


def test_a_model_trained_in_bfloat16_is_saved_computing_in_float32(folder):
    """bfloat16 is a training speed-up on CPUs with AMX; a saved file must predict on any CPU."""
    model = arch.build_model(arch.preset("fast"), (28, 28, 1), dtype="mixed_bfloat16")
    store.save_model(model, "bf16", {"dataset": "mnist"})
    loaded = store.load_model("bf16")
    assert {layer.dtype_policy.compute_dtype for layer in loaded.layers} == {"float32"}
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), atol=0.05)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_a_bfloat16_model_that_cannot_be_converted_is_refused_loudly_not_saved_as_it_is(folder, monkeypatch):
    import keras

    model = arch.build_model(arch.preset("fast"), (28, 28, 1), dtype="mixed_bfloat16")

    def broken(*args, **kwargs):
        raise ValueError("cannot rebuild this layer")

    monkeypatch.setattr(keras.models, "clone_model", broken)
    with pytest.raises(store.StoreError, match="could not be converted to compute in float32"):
        store.save_model(model, "bf16", {"dataset": "mnist"})
    assert not store.exists("bf16") and not list(folder.glob(".tmp-*"))


def test_half_precision_storage_halves_the_file_and_loads_back_as_float32(folder):
    """Shipped models store float16 weights; Keras casts them back, so the model computes as before."""
    model = arch.build_model(arch.preset("cifar"), (32, 32, 3))
    weights = model.get_weights()
    weights[0][0, 0, 0, 0] = 1e6  # too large for float16: must survive as float32
    model.set_weights(weights)
    full = store.save_model(model, "full", {"dataset": "cifar10"})
    half = store.save_model(model, "half", {"dataset": "cifar10"}, half=True)
    assert half.path.stat().st_size < 0.55 * full.path.stat().st_size
    assert half.meta["weights_stored_as"] == "float16" and store.read_meta("half")["weights_stored_as"] == "float16"
    loaded = store.load_model("half")
    assert {v.dtype for v in loaded.weights} == {"float32"}
    for w, got in zip(weights, loaded.get_weights(), strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-3, atol=1e-4)
    assert loaded.get_weights()[0][0, 0, 0, 0] == 1e6
    x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), atol=2e-3)
    assert keras.saving.load_model(half.path, safe_mode=True).count_params() == model.count_params()  # plain Keras


@pytest.mark.parametrize("name", ["..", "../evil", "a/b", "/etc/passwd", ".hidden", "", "   ", "x" * 65,
                                  "with space", "dot.name", "-leading", "naïve"])
def test_bad_names_are_refused(name):
    with pytest.raises(store.StoreError):
        store.validate_name(name)


def test_never_silently_overwrites(folder, small_model):
    store.save_model(small_model, "m1", {"v": 1})
    with pytest.raises(store.StoreError, match="already exists"):
        store.save_model(small_model, "m1", {"v": 2})
    assert store.read_meta("m1")["v"] == 1
    store.save_model(small_model, "m1", {"v": 3}, overwrite=True)
    assert store.read_meta("m1")["v"] == 3


def test_concurrent_saves_of_one_name_leave_one_intact_model(folder, small_model):
    errors, barrier = [], threading.Barrier(4)

    def save(i):
        barrier.wait()
        try:
            store.save_model(small_model, "race", {"writer": i})
        except store.StoreError as e:
            errors.append(e)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 3
    assert store.load_model("race") is not None and "writer" in store.read_meta("race")
    assert not list(folder.glob(".tmp-*"))


def test_listing_skips_stray_and_half_written_files(folder, small_model):
    store.save_model(small_model, "good", {"dataset": "mnist"})
    (folder / "orphan.keras").write_bytes(b"half written")  # no metadata
    (folder / ".tmp-abc.keras").write_bytes(b"temp")
    (folder / "bad name.keras").write_bytes(b"x")
    (folder / "bad name.json").write_text("{}")
    (folder / "garbled.keras").write_bytes(b"x")
    (folder / "garbled.json").write_text("{not json")
    (folder / "notes.txt").write_text("hello")
    (folder / "dir.keras").mkdir()
    assert [e.name for e in store.list_models()] == ["good"]


def test_delete_and_shipped_models_are_protected(folder, small_model):
    store.save_model(small_model, "gone", {})
    store.delete_model("gone")
    assert store.list_models() == []
    store.save_model(small_model, "ship", {"shipped": True})
    with pytest.raises(store.StoreError, match="ships with"):
        store.delete_model("ship")


def test_lambda_layer_is_refused(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lam.keras"
    model.save(path)
    with pytest.raises(store.StoreError, match="Lambda"):
        keras_files.load_keras_file(path)


def _saved_with_first_layer(model, path, **fields):
    """``model`` saved to ``path`` with its first layer's config entries replaced by ``fields`` in the archive."""
    model.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    config = json.loads(parts["config.json"])
    config["config"]["layers"][1].update(fields)
    parts["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    return path


def test_unknown_custom_object_is_refused(tmp_path, small_model):
    path = _saved_with_first_layer(small_model, tmp_path / "custom.keras", class_name="EvilLayer",
                                   module="evil.module")
    with pytest.raises(store.StoreError, match="EvilLayer"):
        keras_files.load_keras_file(path)


def test_the_labs_own_whitened_convolution_loads_and_a_look_alike_from_elsewhere_does_not(folder, tmp_path):
    """CIFAR small's first layer is CNN Lab's own (cnn.airbench.WhitenedConv2D): its models load back; the same class
    name said to come from another module is a custom object, refused."""
    model = arch.build_model(arch.preset("cifar_small"), (32, 32, 3))
    store.save_model(model, "small", {"dataset": "cifar10", "input_shape": [32, 32, 3]})
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(store.load_model("small")(x)), np.asarray(model(x)), atol=1e-6)
    assert type(model.layers[1]).__name__ == "WhitenedConv2D"
    path = _saved_with_first_layer(model, tmp_path / "look-alike.keras", module="evil.module")
    with pytest.raises(store.StoreError, match="WhitenedConv2D"):
        keras_files.load_keras_file(path)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"\x89HDF\r\n\x1a\n" + b"\x00" * 100, "HDF5"), (b"PK\x03\x04garbage", "not a valid .keras"),
    (b"just some text", "not a valid .keras"),
])
def test_broken_files_get_clear_messages(tmp_path, content, message):
    path = tmp_path / "broken.keras"
    path.write_bytes(content)
    with pytest.raises(store.StoreError, match=message):
        keras_files.load_keras_file(path)


def test_zip_without_model_config(tmp_path):
    path = tmp_path / "nomodel.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(store.StoreError, match=r"no config\.json"):
        keras_files.load_keras_file(path)


def test_oversized_upload_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.keras"
    with open(path, "wb") as f:
        f.truncate(keras_files.MAX_UPLOAD_BYTES + 1)  # sparse: nothing is actually written
    with pytest.raises(store.StoreError, match="over the 100 MB limit"):
        keras_files.load_keras_file(path)


# ---------------------------------------------------------------- the class database is the one truth


def test_a_model_saved_on_one_server_is_loaded_listed_and_protected_on_another_with_its_own_folder(
        tmp_path, small_model):
    """Two servers, one database, separate models folders (no shared folder): B lists A's model with its owner,
    loads it, and refuses another student's replace and delete."""
    a, b = tmp_path / "server-a", tmp_path / "server-b"
    store.save_model(small_model, "ada-model", {"dataset": "mnist", "owner": "ada-id", "owner_name": "Ada"},
                     folder=a, actor=store.Actor("ada-id"))
    [entry] = [e for e in store.list_models(b) if e.name == "ada-model"]
    assert entry.meta["owner_name"] == "Ada" and not (b / "ada-model.keras").exists()
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(store.load_model("ada-model", b)(x)), np.asarray(small_model(x)))
    ben = store.Actor("ben-id")
    with pytest.raises(store.StoreError, match="Ada's model"):
        store.save_model(small_model, "ada-model", {"dataset": "mnist", "owner": "ben-id"}, folder=b, overwrite=True,
                         actor=ben)
    with pytest.raises(store.StoreError, match="Ada's model"):
        store.delete_model("ada-model", b, actor=ben)
    assert store.read_meta("ada-model", a)["owner"] == "ada-id"


def test_the_files_are_only_a_cache(folder, small_model):
    """Without its .json (or with a stale or damaged copy) a model is still the class's; without its database row
    it is gone for everyone."""
    from cnn import db

    store.save_model(small_model, "cached", {"dataset": "mnist"})
    (folder / "cached.json").unlink()
    assert [e.name for e in store.list_models()] == ["cached"]
    (folder / "cached.keras").write_bytes(b"damaged")
    assert store.load_model("cached") is not None  # the copy did not match the database's file: written again
    assert (folder / "cached.json").exists()
    db.database().execute("DELETE FROM models WHERE name = 'cached'")
    assert store.list_models() == [] and not store.exists("cached")
    with pytest.raises(store.StoreError, match="No saved model"):
        store.load_model("cached")


def test_a_model_without_its_file_in_the_database_says_no_saved_model(folder, small_model):
    from cnn import db

    entry = store.save_model(small_model, "lost", {"dataset": "mnist"})
    db.database().execute("DELETE FROM blobs WHERE sha256 = ?", (entry.sha,))
    (folder / "lost.keras").unlink()  # and this server has no copy of it
    with pytest.raises(store.StoreError, match="No saved model named 'lost'"):
        store.load_model("lost")


def test_replacing_and_deleting_keep_no_orphan_files_in_the_database(folder, small_model):
    from cnn import db

    store.save_model(small_model, "m", {"dataset": "mnist"})
    other = arch.build_model(arch.preset("fast"), (28, 28, 1))
    store.save_model(other, "m", {"dataset": "mnist"}, overwrite=True)
    assert db.database().query("SELECT COUNT(*) AS n FROM blobs")[0]["n"] == 1
    store.delete_model("m")
    assert db.database().query("SELECT COUNT(*) AS n FROM blobs")[0]["n"] == 0
    assert not (folder / "m.keras").exists()


KILLED_SAVER = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
from cnn import architectures as arch, keras_files, store
model = arch.build_model(arch.preset("fast"), (28, 28, 1))
model.set_weights([np.full_like(w, {value}) for w in model.get_weights()])
print("saving", flush=True)
for i in range(1000):  # replaced again and again until killed
    store.save_model(model, "contested", {{"dataset": "mnist", "round": i}}, overwrite=True)
"""


@pytest.mark.heavy
def test_a_server_killed_while_saving_leaves_the_old_model_or_the_new_never_half(folder, small_model):
    """kill -9 at a random moment of repeated saves: every time, the class's model loads and is one of the two."""
    import os
    import signal
    import subprocess
    import sys

    rng = np.random.default_rng(7)
    old = arch.build_model(arch.preset("fast"), (28, 28, 1))
    old.set_weights([np.full_like(w, 0.01) for w in old.get_weights()])
    store.save_model(old, "contested", {"dataset": "mnist"})
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    for kill_after in rng.uniform(0.0, 1.5, size=4):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER.format(root=str(store.ROOT), value=0.02)],
                                stdout=subprocess.PIPE, env=os.environ.copy())
        assert proc.stdout.readline().strip() == b"saving"
        time.sleep(float(kill_after))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        loaded = store.load_model("contested")
        first = float(loaded.get_weights()[0].flat[0])
        assert first in (np.float32(0.01), np.float32(0.02)), first
        assert np.isfinite(np.asarray(loaded(x))).all()
    assert store.read_meta("contested")["dataset"] == "mnist"


def test_a_new_release_of_a_shipped_model_replaces_the_classs_copy_and_is_never_reverted(folder, tmp_path):
    """The shipped models are the release's files: after an upgrade (a new mnist.keras in the folder) the class gets
    the new one, and the folder's file is not written back from the database's older copy."""
    import shutil

    from cnn import db

    from conftest import ROOT

    for f in ("mnist.keras", "mnist.json"):
        shutil.copy(ROOT / "models" / f, folder / f)
    before = store.get("mnist").sha
    newer = arch.build_model(arch.preset("lenet"), (28, 28, 1))
    newer.save(folder / "mnist.keras")  # the next release's file
    store._imported.clear()  # a restart of the server
    db.forget_shared()
    entry = store.get("mnist")
    assert entry.sha != before and entry.sha == hashlib.sha256((folder / "mnist.keras").read_bytes()).hexdigest()
    assert entry.path.read_bytes() == (folder / "mnist.keras").read_bytes()


def test_every_saved_model_opens_in_plain_keras_where_cnn_lab_is_not_installed(folder, tmp_path):
    """A student takes a model to Colab: every preset and a model of every kind of layer, saved by the lab, loads
    with ``keras.saving.load_model`` in safe mode in a Python that cannot import ``cnn``, and reads the same."""
    specs = {name: (arch.preset(name), (32, 32, 3) if name.startswith("cifar") or name == "vgg" else (28, 28, 1))
             for name in presets.PRESETS}
    specs.update({f"kind-{kind}": (spec, (16, 16, 3)) for kind, spec in CONTEXT.items()})
    x, expected, files = {}, {}, {}
    for name, (spec, shape) in specs.items():
        model = arch.build_model(spec, shape)
        x[name] = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
        expected[name] = np.asarray(model(x[name]))
        store.save_model(model, name, {"dataset": "mnist", "input_shape": list(shape)})
        files[name] = str(store.cached_file(store.get(name)))
    np.savez(tmp_path / "inputs.npz", **x)
    script = (
        "import json, sys, numpy as np, keras\n"
        "x = np.load(sys.argv[1]); files = json.loads(sys.argv[2]); out = {}\n"
        "for name, path in files.items():\n"
        "    out[name] = keras.saving.load_model(path, safe_mode=True)(x[name]).numpy()\n"
        "assert not any(m == 'cnn' or m.startswith('cnn.') for m in sys.modules), 'cnn was imported'\n"
        "np.savez(sys.argv[3], **out)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "inputs.npz"), json.dumps(files),
                           str(tmp_path / "outputs.npz")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = np.load(tmp_path / "outputs.npz")
    for name in specs:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5, err_msg=name)
