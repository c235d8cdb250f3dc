"""Datasets: MNIST, Fashion-MNIST and CIFAR-10, from the best source available offline first.

Order of sources (DESIGN.md): a local copy in the data folder (``CNN_DATA_DIR``, default
``data/``) or Keras' own cache, then the standard ``keras.datasets`` download with a short
timeout, then the small sample bundled in ``cnn/bundled``. The result says which source it
used, so the UI can tell the student.

Images are kept as uint8 ``(N, H, W, C)`` (four times smaller in caches); :func:`to_float`
is the one scaling to float32 in [0, 1] that training and prediction both use.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import pickle
import struct
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn import settings
from cnn.errors import LabError
from cnn.i18n import M_, N_, Message, _

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
DOWNLOAD_TIMEOUT_S = 5.0
log = logging.getLogger("cnnlab.data")


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is: shape, classes and where the standard download lives."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    url: str
    licence: str


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", N_("MNIST (handwritten digits)"), (28, 28, 1), tuple(str(i) for i in range(10)),
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", N_("Fashion-MNIST (clothes)"), (28, 28, 1),
        (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
         N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot")),
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/fashion-mnist/",
        "Fashion-MNIST by Zalando Research, MIT licence"),
    "cifar10": DatasetInfo(
        "cifar10", N_("CIFAR-10 (small photos)"), (32, 32, 3),
        (N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"),
         N_("dog"), N_("frog"), N_("horse"), N_("ship"), N_("truck")),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "CIFAR-10 by Krizhevsky (2009), free for research and teaching"),
}

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}


class DatasetError(LabError):
    """A dataset could not be loaded; the message says which file and why."""


class DownloadError(DatasetError):
    """The standard download failed; ``offline`` when there was no connection at all (remembered a while)."""

    def __init__(self, message: str, offline: bool):
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class Dataset:
    """Train and test images (uint8, N×H×W×C) with integer labels and where they came from."""

    name: str
    train_images: np.ndarray
    y_train: np.ndarray
    test_images: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    is_sample: bool = False
    # why a better source was not used, or what to know about a student's classes: kept as data, because a loaded
    # dataset is cached for the whole server and each reader sees its note in their own language
    notes: tuple[Message, ...] = ()

    @property
    def note(self) -> str:
        """The notes, in this thread's language ("" when there are none)."""
        return " ".join(str(n) for n in self.notes)

    @property
    def x_train(self) -> np.ndarray:
        """Training images as float32 in [0, 1] (computed on each access)."""
        return to_float(self.train_images)

    @property
    def x_test(self) -> np.ndarray:
        """Test images as float32 in [0, 1] (computed on each access)."""
        return to_float(self.test_images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> str:
        """One line for the UI: source and image counts."""
        return _("{title}: {train:,} training and {test:,} test images from {source}", title=title(self.name),
                 train=len(self.train_images), test=len(self.test_images), source=source_text(self.source))


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]; the single scaling used by training and prediction."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return np.clip(images.astype(np.float32), 0.0, 1.0)


def to_float_tensor(images):
    """:func:`to_float` as TensorFlow ops, bit for bit, for the training pipeline: keeping the training set
    as uint8 and scaling each batch starts a run faster (a quarter of the bytes to hand to TensorFlow)."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0)


def data_dir() -> Path:
    """The local data folder: ``$CNN_DATA_DIR`` or ``data/`` in the project."""
    return settings.value("CNN_DATA_DIR")


def info(name: str) -> DatasetInfo:
    """What a dataset is: a built-in one, or a student's own (``user:NAME``, see :mod:`cnn.userdata`)."""
    if name in DATASETS:
        return DATASETS[name]
    from cnn import userdata

    if userdata.is_user(name):
        ds = _stored(name)
        return DatasetInfo(name, title(name), ds.image_shape, ds.classes, "", "your own data")
    raise DatasetError(_("Unknown dataset '{name}'. Choose one of: {join}.",
                         name=name, join=', '.join(dataset_names())))


def dataset_names() -> list[str]:
    """Every dataset a page or the command line may pick: the built-in ones, then each ``user:NAME``."""
    from cnn import userdata

    return list(DATASETS) + [userdata.key(d.name) for d in userdata.list_datasets()]


def title(name: str) -> str:
    """A dataset's name for people: "MNIST (handwritten digits)", "My data: shapes"."""
    from cnn import userdata

    if name in DATASETS:
        return _(DATASETS[name].title)
    return _("My data: {name}", name=userdata.name_of(name)) if userdata.is_user(name) else name


def _stored(name: str):
    """The stored dataset behind ``user:NAME``, its errors as DatasetError (what every caller of this module
    catches)."""
    from cnn import userdata

    try:
        return userdata.get(userdata.name_of(name))
    except userdata.UserDataError as e:
        raise DatasetError(str(e)) from None


def class_titles(dataset: str, names) -> list[str]:
    """Class names for people: a built-in dataset's in the reader's language ("Sneaker": "Turnschuh"); those a
    student typed for her own data exactly as typed (a class named "Clear" is not the Clear button's word)."""
    return [_(str(n)) for n in names] if dataset in DATASETS else [str(n) for n in names]


def fingerprint(ds: Dataset) -> str:
    """A digest of a dataset's images, labels and class names (about 30 ms for MNIST): a training worker that has
    it already is sent only this."""
    import hashlib

    h = hashlib.sha1(repr((ds.name, tuple(ds.class_names), ds.train_images.shape, ds.test_images.shape)).encode(),
                     usedforsecurity=False)
    for a in (ds.train_images, ds.y_train, ds.test_images, ds.y_test):
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def user_signature(name: str) -> tuple:
    """What changes when examples of ``user:NAME`` are added or removed (a cache key); DatasetError if gone."""
    from cnn import userdata

    try:
        return userdata.signature(userdata.name_of(name))
    except userdata.UserDataError as e:
        raise DatasetError(str(e)) from None


# ---------------------------------------------------------------- file parsers

def _open_maybe_gz(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetError(_("{path}: not a valid gzip file ({e}).", path=path, e=e)) from None
    return raw


def read_idx(path: Path) -> np.ndarray:
    """Parse an idx file (raw or gzip), as MNIST ships them."""
    raw = _open_maybe_gz(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(_("{path}: not an idx file of unsigned bytes (bad magic number).", path=path))
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(_("{path}: idx header is truncated.", path=path))
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DatasetError(_("{path}: idx header promises {expected:,} bytes of data, file has {n_raw:,}.",
                             path=path, expected=expected, n_raw=len(raw) - header))
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _check_arrays(arrays: dict[str, np.ndarray], shape: tuple[int, int, int], where: str) -> dict[str, np.ndarray]:
    """Validate shapes, reshape to (N, H, W, C) uint8 and check labels; name the file on error."""
    out = {}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], np.asarray(arrays[f"y_{split}"]).reshape(-1)
        if x.ndim == 3:
            x = x[..., None]
        if x.shape[1:] != shape:
            raise DatasetError(_("{where}: x_{split} has images of shape {shape}, expected {shape2}.",
                                 where=where, split=split, shape=x.shape[1:], shape2=shape))
        if len(x) != len(y):
            raise DatasetError(_("{where}: x_{split} has {n_x} images but y_{split} has {n_y} labels.",
                                 where=where, split=split, n_x=len(x), n_y=len(y)))
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DatasetError(_("{where}: y_{split} has labels outside 0-9.", where=where, split=split))
        if x.dtype != np.uint8:
            if x.size and x.max() <= 1.0:
                x = x * 255.0
            x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
        out[f"x_{split}"], out[f"y_{split}"] = np.ascontiguousarray(x), y.astype(np.int64)
    return out


def read_npz(path: Path, shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """Read a Keras-style ``.npz`` (x_train, y_train, x_test, y_test)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
            if missing:
                raise DatasetError(_("{path}: missing arrays {sorted}; expected x_train, y_train, x_test, y_test.",
                                     path=path, sorted=sorted(missing)))
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except DatasetError:
        raise
    except Exception as e:  # zipfile.BadZipFile, ValueError, OSError, EOFError...
        raise DatasetError(_("{path}: cannot be read as a .npz file ({name}: {e}).",
                             path=path, name=type(e).__name__, e=e)) from None
    return _check_arrays(arrays, shape, str(path))


def _find_idx_set(folder: Path) -> dict[str, Path] | None:
    found = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz",
                      folder / stem.replace("-idx", ".idx"), folder / f"{stem.replace('-idx', '.idx')}.gz"]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            return None
        found[key] = hit
    return found


def read_idx_set(files: dict[str, Path], shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    return _check_arrays({k: read_idx(p) for k, p in files.items()}, shape, str(files["x_train"].parent))


def _unpickle_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = pickle.loads(raw, encoding="bytes")  # CIFAR-10's own format is a pickle of arrays
        data, labels = d[b"data"], d[b"labels"]
        x = np.asarray(data, np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x, np.asarray(labels, np.int64)
    except Exception as e:
        raise DatasetError(_("{where}: not a CIFAR-10 python batch ({name}: {e}).",
                             where=where, name=type(e).__name__, e=e)) from None


def read_cifar_batches(folder: Path) -> dict[str, np.ndarray]:
    """Read CIFAR-10's python batches (data_batch_1..5, test_batch) from a folder."""
    xs, ys = [], []
    for i in range(1, 6):
        x, y = _unpickle_batch((folder / f"data_batch_{i}").read_bytes(), str(folder / f"data_batch_{i}"))
        xs.append(x)
        ys.append(y)
    xt, yt = _unpickle_batch((folder / "test_batch").read_bytes(), str(folder / "test_batch"))
    return _check_arrays({"x_train": np.concatenate(xs), "y_train": np.concatenate(ys),
                          "x_test": xt, "y_test": yt}, (32, 32, 3), str(folder))


def read_cifar_tar(path: Path) -> dict[str, np.ndarray]:
    """Read ``cifar-10-python.tar.gz`` without unpacking it to disk."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            needed = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
            missing = [n for n in needed if n not in members]
            if missing:
                raise DatasetError(_("{path}: archive lacks {join}.", path=path, join=', '.join(missing)))
            parts = {n: _unpickle_batch(tar.extractfile(members[n]).read(), f"{path}:{n}") for n in needed}
    except DatasetError:
        raise
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DatasetError(_("{path}: not a readable .tar.gz archive ({e}).", path=path, e=e)) from None
    train = [parts[f"data_batch_{i}"] for i in range(1, 6)]
    return _check_arrays({"x_train": np.concatenate([p[0] for p in train]),
                          "y_train": np.concatenate([p[1] for p in train]),
                          "x_test": parts["test_batch"][0], "y_test": parts["test_batch"][1]},
                         (32, 32, 3), str(path))


def decode_jpeg_array(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Decode concatenated JPEG bytes (the bundled CIFAR-10 sample's format) into uint8 RGB."""
    from PIL import Image

    data = blob.tobytes()
    out = np.empty((len(offsets) - 1, 32, 32, 3), np.uint8)
    for i in range(len(out)):
        out[i] = np.asarray(Image.open(io.BytesIO(data[offsets[i]:offsets[i + 1]])).convert("RGB"))
    return out


# ---------------------------------------------------------------- sources

def _local_candidates(name: str) -> list[tuple[str, Path]]:
    """(kind, path) pairs to try for a local copy, most specific first."""
    folders = [data_dir(), KERAS_CACHE_DIR]
    out: list[tuple[str, Path]] = []
    for d in folders:
        if name == "cifar10":
            out += [("npz", d / "cifar10.npz"), ("batches", d / "cifar-10-batches-py"),
                    ("tar", d / "cifar-10-python.tar.gz")]
        else:
            out += [("npz", d / f"{name}.npz")]
            alt = ["mnist"] if name == "mnist" else ["fashion_mnist", "fashion-mnist"]
            out += [("idx", d / sub) for sub in alt] + [("idx", d)] * (name == "mnist")
    if name == "fashion_mnist":
        out.append(("idx", DEBIAN_FASHION_DIR))
    return out


def find_local(name: str) -> tuple[str, Path] | None:
    """The first local copy of a dataset that exists on disk, without reading it."""
    for kind, path in _local_candidates(name):
        if kind == "npz" and path.is_file():
            return kind, path
        if kind == "idx" and path.is_dir() and _find_idx_set(path):
            return kind, path
        if kind == "batches" and (path / "test_batch").is_file():
            return kind, path
        if kind == "tar" and path.is_file():
            return kind, path
    return None


def _read_local(name: str, kind: str, path: Path) -> dict[str, np.ndarray]:
    """A local copy's arrays, decoded once: later reads come from an uncompressed copy in ``CNN_CACHE_DIR``
    (MNIST in 0.1 s instead of 0.35 s; CIFAR-10 without decoding its photos again), made again when the source
    changes. Without a writable cache folder the source is read every time."""
    import hashlib

    cached = None
    with contextlib.suppress(OSError):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        key = hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False)
        for f in files:  # a folder's files (IDX, CIFAR batches) each count
            stat = f.stat()
            key.update(f"|{f.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        cached = settings.value("CNN_CACHE_DIR") / "datasets" / f"{name}-{key.hexdigest()[:16]}.npz"
    if cached is not None and cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as f:
                return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
        except Exception:  # a damaged copy: decoded again below
            pass
    arrays = _decode_local(name, kind, path)
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            for old in cached.parent.glob(f"{name}-*.npz"):  # an earlier copy of a source that changed
                old.unlink(missing_ok=True)
            part = cached.with_suffix(f".part-{os.getpid()}-{threading.get_ident()}")
            with open(part, "wb") as f:
                np.savez(f, **arrays)
            part.replace(cached)
    return arrays


def _decode_local(name: str, kind: str, path: Path) -> dict[str, np.ndarray]:
    shape = DATASETS[name].image_shape
    if kind == "npz":
        return read_npz(path, shape)
    if kind == "idx":
        return read_idx_set(_find_idx_set(path), shape)  # type: ignore[arg-type]
    if kind == "batches":
        return read_cifar_batches(path)
    return read_cifar_tar(path)


def read_bundled(name: str) -> dict[str, np.ndarray]:
    """The small sample of real images committed in ``cnn/bundled``."""
    path = BUNDLED_DIR / f"{name}_sample.npz"
    if not path.is_file():
        raise DatasetError(_("{path}: the bundled sample is missing from this installation.", path=path))
    if name != "cifar10":
        return read_npz(path, DATASETS[name].image_shape)
    try:
        with np.load(path) as f:
            arrays = {"x_train": decode_jpeg_array(f["train_jpeg"], f["train_offsets"]), "y_train": f["y_train"],
                      "x_test": decode_jpeg_array(f["test_jpeg"], f["test_offsets"]), "y_test": f["y_test"]}
    except Exception as e:
        raise DatasetError(_("{path}: the bundled sample is damaged ({e}).", path=path, e=e)) from None
    return _check_arrays(arrays, (32, 32, 3), str(path))


_offline_until = 0.0  # after a failed download, don't retry for a while


def download(name: str, progress: Callable[[float], None] | None = None,
             timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch the standard ``keras.datasets`` file into Keras' cache folder, with a timeout.

    Raises :class:`DatasetError` quickly (seconds) when there is no connection.
    """
    global _offline_until
    if time.monotonic() < _offline_until:
        raise DownloadError(_("No internet connection (checked a moment ago)."), offline=True)
    meta = info(name)
    if name == "fashion_mnist":
        files = {f"{IDX_FILES[k]}.gz": meta.url + f"{IDX_FILES[k]}.gz" for k in IDX_FILES}
        target = KERAS_CACHE_DIR / "fashion-mnist"
    elif name == "cifar10":
        files = {"cifar-10-python.tar.gz": meta.url}
        target = KERAS_CACHE_DIR
    else:
        files = {"mnist.npz": meta.url}
        target = KERAS_CACHE_DIR
    target.mkdir(parents=True, exist_ok=True)
    for i, (fname, url) in enumerate(files.items()):
        dest = target / fname
        if dest.is_file():
            continue
        tmp = dest.with_suffix(dest.suffix + f".part{os.getpid()}")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress and total:
                        progress((i + done / total) / len(files))
            os.replace(tmp, dest)
        except urllib.error.HTTPError as e:  # the server answered, with an error: not "offline"
            tmp.unlink(missing_ok=True)
            raise DownloadError(_("Could not download {title}: {url} answered HTTP {code} ({reason}). Put the "
                                  "dataset files in {data_dir} (or set CNN_DATA_DIR).",
                                  title=meta.title, url=url, code=e.code, reason=e.reason, data_dir=data_dir()),
                                offline=False) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:  # no connection: offline
            tmp.unlink(missing_ok=True)
            _offline_until = time.monotonic() + 300
            reason = getattr(e, "reason", e)
            raise DownloadError(_("Could not download {title} ({reason}). You seem to be offline: put the dataset "
                                  "files in {data_dir} (or set CNN_DATA_DIR), or use the bundled sample.",
                                  title=meta.title, reason=reason, data_dir=data_dir()), offline=True) from None
        except OSError as e:  # the download worked but the file could not be written: say where and why
            tmp.unlink(missing_ok=True)
            raise DownloadError(_("Could not save the {title} download to {parent} ({value}). Free some disk space "
                                  "or set KERAS_HOME to a writable folder.",
                                  title=meta.title, parent=dest.parent, value=e.strerror or e),
                                offline=False) from None
    return target


def load_dataset(name: str, *, allow_download: bool = True,
                 progress: Callable[[float], None] | None = None) -> Dataset:
    """Load a dataset from the first source that works; see the module docstring for the order.
    A student's own dataset (``user:NAME``) is read from its folder and split into train and test."""
    from cnn import userdata

    if userdata.is_user(name):
        return _load_user(name)
    meta = info(name)
    local = find_local(name)
    if local:
        kind, path = local
        arrays = _read_local(name, kind, path)
        return Dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                       meta.class_names, f"local copy ({path})")
    notes: tuple[Message, ...] = ()
    if allow_download and not settings.value("CNN_OFFLINE"):
        try:
            download(name, progress)
        except DownloadError as e:  # the bundled sample is used: the page says so plainly, the log says why
            log.warning("%s: the bundled sample is used: %s", name, e)
            notes = (M_("No internet connection here, so this is the bundled sample of {title}. For all of it, the "
                        "server's keeper puts its files in the server's data folder (README).", title=meta.title)
                     if e.offline else
                     M_("{title} could not be downloaded, so this is its bundled sample. The server's log says why.",
                        title=meta.title),)
        else:
            local = find_local(name)
            if local:
                arrays = _read_local(name, *local)
                return Dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                               meta.class_names, "keras.datasets download")
    arrays = read_bundled(name)
    return Dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                   meta.class_names, "bundled sample (offline)", is_sample=True, notes=notes)


def _load_user(name: str) -> Dataset:
    from cnn import userdata

    ds = _stored(name)
    try:
        parts = userdata.split(ds.name)
    except userdata.UserDataError as e:
        raise DatasetError(str(e)) from None
    return Dataset(name, parts.x_train, parts.y_train, parts.x_test, parts.y_test, ds.classes,
                   f"your own data ({ds.describe()})", is_sample=False, notes=parts.notes)


def source_status(name: str) -> str:
    """Which source :func:`load_dataset` would use now, without loading or downloading anything."""
    local = find_local(name)
    if local:
        return _("local copy ({path})", path=local[1])
    return _("bundled sample (offline), or the download if online")


_SOURCES = {"local copy": N_("local copy ({path})"), "your own data": N_("your own data ({path})")}


def source_text(source: str) -> str:
    """A dataset's source (kept in English: the command line prints it) in the language of the page."""
    for start, text in _SOURCES.items():
        if source.startswith(start + " (") and source.endswith(")"):
            return _(text, path=source[len(start) + 2:-1])
    return _(source)


OTHER_SOURCES = (N_("keras.datasets download"), N_("bundled sample (offline)"))  # translated by source_text


def stratified_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of each class, in a seeded random order."""
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def subset(ds: Dataset, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
    """A smaller, class-balanced copy of a dataset (for lessons and quick experiments)."""
    def pick(labels: np.ndarray, n: int | None) -> np.ndarray:
        if n is None or n >= len(labels):
            return np.arange(len(labels))
        return stratified_indices(labels, max(1, n // ds.num_classes), seed)

    itr, ite = pick(ds.y_train, n_train), pick(ds.y_test, n_test)
    return Dataset(ds.name, ds.train_images[itr], ds.y_train[itr], ds.test_images[ite], ds.y_test[ite],
                   ds.class_names, ds.source, ds.is_sample)
