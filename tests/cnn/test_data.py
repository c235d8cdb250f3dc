"""cnn.data: local copies in every format, the bundled sample, the offline download, errors."""
import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import time

import numpy as np
import pytest

from cnn import data, dataset_files, dataset_sources, i18n

from conftest import shared_or_skip


def write_idx(path, arr, gz=False):
    raw = bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def tiny_arrays(shape=(28, 28), n=20):
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (n, *shape), dtype=np.uint8), "y_train": np.arange(n) % 10,
            "x_test": rng.integers(0, 256, (n // 2, *shape), dtype=np.uint8), "y_test": np.arange(n // 2) % 10}


class Response(io.BytesIO):
    """A download's answer, as urllib.request.urlopen gives it (a context manager with headers)."""

    headers: dict = {}  # noqa: RUF012

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name,shape,n_train", [("mnist", (28, 28, 1), 10000), ("fashion_mnist", (28, 28, 1), 8000),
                                                 ("cifar10", (32, 32, 3), 3000)])
def test_bundled_sample_is_real_balanced_and_offline(name, shape, n_train):
    ds = dataset_sources.load_dataset(name)
    assert ds.is_sample and "bundled" in ds.source
    assert ds.train_images.shape == (n_train, *shape) and ds.train_images.dtype == np.uint8
    assert np.all(np.bincount(ds.y_train, minlength=10) == n_train // 10)
    x = ds.x_test
    assert x.dtype == np.float32 and x.shape[1:] == shape and x.min() >= 0.0 and x.max() <= 1.0
    assert len(ds.class_names) == 10 and ds.train_images.std() > 10  # real images, not blank


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_in_data_dir(tmp_path, monkeypatch, gz):
    arrays = tiny_arrays()
    folder = tmp_path / "mnist"
    folder.mkdir()
    for key, stem in dataset_files.IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), np.asarray(arrays[key]), gz)
    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path))
    ds = dataset_sources.load_dataset("mnist")
    assert "local copy" in ds.source and ds.train_images.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(ds.train_images[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])


def test_idx_bad_magic_and_truncation_name_the_file(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x09\x03" + b"\x00" * 20)
    with pytest.raises(data.DatasetError, match="train-images-idx3-ubyte"):
        dataset_files.read_idx(bad)
    write_idx(bad, np.zeros((4, 28, 28), np.uint8))
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(data.DatasetError, match="promises"):
        dataset_files.read_idx(bad)


def test_npz_local_copy_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path))
    np.savez(tmp_path / "fashion_mnist.npz", **tiny_arrays())
    ds = dataset_sources.load_dataset("fashion_mnist")
    assert ds.train_images.shape == (20, 28, 28, 1) and ds.class_names[0] == "T-shirt/top"
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((3, 28, 28)), y_train=np.zeros(3))
    with pytest.raises(data.DatasetError, match=r"mnist\.npz: missing arrays"):
        dataset_sources.load_dataset("mnist")
    (tmp_path / "mnist.npz").write_bytes(b"not a zip at all")
    with pytest.raises(data.DatasetError, match=r"mnist\.npz: cannot be read"):
        dataset_sources.load_dataset("mnist")
    np.savez(tmp_path / "mnist.npz", **tiny_arrays(shape=(32, 32)))
    with pytest.raises(data.DatasetError, match=r"mnist\.npz: x_train has images of shape"):
        dataset_sources.load_dataset("mnist")


def test_a_local_copy_is_decoded_once_and_again_when_it_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CNN_CACHE_DIR", str(tmp_path / "cache"))
    np.savez_compressed(tmp_path / "mnist.npz", **tiny_arrays())
    first = dataset_sources.load_dataset("mnist")
    decode = dataset_sources._decode_local
    monkeypatch.setattr(dataset_sources, "_decode_local", lambda *a: pytest.fail("decoded again"))
    again = dataset_sources.load_dataset("mnist")
    assert np.array_equal(first.train_images, again.train_images) and np.array_equal(first.y_test, again.y_test)
    assert len(list((tmp_path / "cache" / "datasets").glob("mnist-*.npz"))) == 1
    changed = tiny_arrays()
    changed["y_train"] = (changed["y_train"] + 1) % 10
    np.savez(tmp_path / "mnist.npz", **changed)
    monkeypatch.setattr(dataset_sources, "_decode_local", decode)
    assert np.array_equal(dataset_sources.load_dataset("mnist").y_train[:, ...].ravel(), changed["y_train"].ravel())
    assert len(list((tmp_path / "cache" / "datasets").glob("mnist-*.npz"))) == 1, "the old copy is gone"


def _cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, n))}


def test_cifar_python_batches_and_tarball(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(_cifar_batch(4, i)))
    (folder / "test_batch").write_bytes(pickle.dumps(_cifar_batch(3, 9)))
    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path))
    ds = dataset_sources.load_dataset("cifar10")
    assert ds.train_images.shape == (20, 32, 32, 3) and ds.test_images.shape == (3, 32, 32, 3)
    first = _cifar_batch(4, 1)[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(ds.train_images[0], first)  # channel order restored
    tar_dir = tmp_path / "t"
    tar_dir.mkdir()
    with tarfile.open(tar_dir / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    arrays = dataset_files.read_cifar_tar(tar_dir / "cifar-10-python.tar.gz")
    np.testing.assert_array_equal(arrays["x_train"], ds.train_images)
    (folder / "test_batch").write_bytes(b"garbage")
    with pytest.raises(data.DatasetError, match="test_batch"):
        dataset_sources.load_dataset("cifar10")


def test_download_offline_fails_fast_and_falls_back(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_OFFLINE")
    monkeypatch.setattr(dataset_sources, "KERAS_CACHE_DIR", tmp_path / "keras")
    monkeypatch.setattr(dataset_sources, "_offline_until", 0.0)
    info = data.DATASETS["mnist"]
    monkeypatch.setitem(data.DATASETS, "mnist", data.DatasetInfo(
        info.name, info.title, info.image_shape, info.class_names, "http://127.0.0.1:9/mnist.npz", info.licence))
    t0 = time.monotonic()
    with pytest.raises(data.DatasetError, match="offline"):
        dataset_sources.download("mnist", timeout=2)
    assert time.monotonic() - t0 < 10
    ds = dataset_sources.load_dataset("mnist")  # the failure is remembered: straight to the sample
    assert ds.is_sample and "No internet connection" in ds.note


def test_the_offline_note_is_said_in_each_readers_language_and_shows_no_server_detail(monkeypatch, tmp_path, caplog):
    """A loaded dataset is cached for the whole server: its note is kept as data and said in whoever reads it."""
    monkeypatch.delenv("CNN_OFFLINE")
    monkeypatch.setattr(dataset_sources, "KERAS_CACHE_DIR", tmp_path / "keras")
    monkeypatch.setattr(dataset_sources, "_offline_until", 0.0)

    def offline(url, timeout):
        raise dataset_sources.urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(dataset_sources.urllib.request, "urlopen", offline)
    i18n.set_language("de")  # a German student loads it first
    try:
        ds = dataset_sources.load_dataset("mnist")
        german = ds.note
    finally:
        i18n.set_language(i18n.DEFAULT)
    assert "Internet" in german and "No internet" not in german, german
    assert ds.note.startswith("No internet connection here"), ds.note  # the next reader's own language
    for detail in ("Errno", "Name or service", str(tmp_path), "CNN_DATA_DIR", "/"):
        assert detail not in ds.note and detail not in german
    assert "Name or service not known" in caplog.text  # the server's keeper finds why in the log


def test_a_server_or_disk_error_is_reported_as_such_not_as_offline(monkeypatch, tmp_path):
    import io
    import urllib.error

    monkeypatch.delenv("CNN_OFFLINE")
    monkeypatch.setattr(dataset_sources, "KERAS_CACHE_DIR", tmp_path / "keras")
    monkeypatch.setattr(dataset_sources, "_offline_until", 0.0)

    def not_found(url, timeout):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, io.BytesIO())

    monkeypatch.setattr(dataset_sources.urllib.request, "urlopen", not_found)
    ds = dataset_sources.load_dataset("mnist")
    assert ds.is_sample and "could not be downloaded" in ds.note and "No internet" not in ds.note
    assert dataset_sources._offline_until == 0.0, "a server error does not mark the machine offline for 5 minutes"

    def write_fails(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dataset_sources.urllib.request, "urlopen", lambda url, timeout: Response(b"x" * 100))
    monkeypatch.setitem(dataset_sources.PUBLISHED, "mnist.npz", ("sha256", hashlib.sha256(b"x" * 100).hexdigest()))
    monkeypatch.setattr(dataset_sources.os, "replace", write_fails)  # the download works, saving it does not
    with pytest.raises(data.DownloadError, match=r"Could not save .* \(No space left"):
        dataset_sources.download("mnist")
    assert "could not be downloaded" in dataset_sources.load_dataset("mnist").note
    assert dataset_sources._offline_until == 0.0


def test_a_download_that_is_not_the_published_file_is_refused_and_removed(monkeypatch, tmp_path):
    """As Keras' get_file checks its file_hash: a broken or changed download is never read."""

    monkeypatch.delenv("CNN_OFFLINE")
    monkeypatch.setattr(dataset_sources, "KERAS_CACHE_DIR", tmp_path / "keras")
    monkeypatch.setattr(dataset_sources, "_offline_until", 0.0)

    monkeypatch.setattr(dataset_sources.urllib.request, "urlopen", lambda url, timeout: Response(b"not mnist"))
    with pytest.raises(data.DownloadError, match=r"\(mnist.npz\) is not the published file \(its SHA256"):
        dataset_sources.download("mnist")
    assert list((tmp_path / "keras").iterdir()) == [], "nothing of it is kept"
    ds = dataset_sources.load_dataset("mnist")
    assert ds.is_sample and "could not be downloaded" in ds.note


def test_unknown_dataset_message():
    with pytest.raises(data.DatasetError, match="Unknown dataset 'svhn'"):
        dataset_sources.load_dataset("svhn")


def test_subset_is_stratified():
    ds = data.subset(dataset_sources.load_dataset("mnist"), 500, 100)
    assert len(ds.y_train) == 500 and np.all(np.bincount(ds.y_train) == 50)


@pytest.mark.slow
def test_full_mnist_matches_published_counts(monkeypatch):
    monkeypatch.setenv("CNN_DATA_DIR", str(shared_or_skip("mnist.npz").parent))
    ds = dataset_sources.load_dataset("mnist")
    assert len(ds.y_train) == 60000 and len(ds.y_test) == 10000
    assert list(np.bincount(ds.y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_training_pipeline_scales_exactly_like_to_float():
    """Training scales batches with TensorFlow ops, prediction with NumPy: the two must agree bit for bit."""
    every_byte = np.arange(256, dtype=np.uint8).reshape(4, 8, 8, 1)
    np.testing.assert_array_equal(np.asarray(data.to_float_tensor(every_byte)), data.to_float(every_byte))
    floats = np.array([-0.5, 0.0, 0.25, 1.0, 3.0], np.float64)
    np.testing.assert_array_equal(np.asarray(data.to_float_tensor(floats)), data.to_float(floats))


def test_a_students_class_names_are_never_translated():
    """A student's class "Clear" stayed "Clear" only by luck before: every class name went through the catalog."""
    i18n.set_language("de")
    try:
        assert data.class_titles("fashion_mnist", ["Bag", "Sneaker"]) == ["Tasche", "Sneaker"]
        assert data.class_titles("user:wetter", ["Clear", "Stop", "Sneaker"]) == ["Clear", "Stop", "Sneaker"]
    finally:
        i18n.set_language(i18n.DEFAULT)


def test_a_datasets_fingerprint_is_computed_once_kept_by_copies_and_not_by_one_made_with_other_arrays(monkeypatch):
    """Every Train page run and press asked for it (30-90 ms for MNIST); the page cache's copies carry it."""
    import dataclasses

    from conftest import tiny_dataset

    ds = tiny_dataset()
    digest = data.fingerprint(ds)
    hashed, sha1 = [], hashlib.sha1
    monkeypatch.setattr(hashlib, "sha1", lambda *a, **k: hashed.append(1) or sha1(*a, **k))
    copy = pickle.loads(pickle.dumps(ds))
    assert data.fingerprint(ds) == data.fingerprint(copy) == digest and hashed == []
    other = dataclasses.replace(ds, train_images=ds.train_images[::-1].copy())
    assert data.fingerprint(other) != digest and hashed == [1]
    assert data.fingerprint(dataclasses.replace(ds)) == digest and hashed == [1, 1]
