"""Where a dataset comes from, decided in one place: a student's own (the class database, :mod:`cnn.userdata`),
else a local copy in the data folder (``CNN_DATA_DIR``, default ``data/``) or Keras' own cache, then the standard
``keras.datasets`` download with a short timeout, then the small sample bundled in ``cnn/bundled`` (DESIGN.md).
The dataset says which source it used, so the page can tell the student.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnn import settings, userdata, userdata_split
from cnn.data import DATASETS, Dataset, DatasetError, DatasetInfo, DownloadError, is_user, title, user_key, user_name
from cnn.dataset_files import (
    IDX_FILES,
    _check_arrays,
    _find_idx_set,
    decode_jpeg_array,
    read_cifar_batches,
    read_cifar_tar,
    read_idx_set,
    read_npz,
)
from cnn.i18n import M_, Message, _

ROOT = Path(__file__).resolve().parent.parent


BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


KERAS_CACHE_DIR = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


DOWNLOAD_TIMEOUT_S = 5.0


log = logging.getLogger("cnnlab.data")


def data_dir() -> Path:
    """The local data folder: ``$CNN_DATA_DIR`` or ``data/`` in the project."""
    return settings.value("CNN_DATA_DIR")


def info(name: str) -> DatasetInfo:
    """What a dataset is: a built-in one, or a student's own (``user:NAME``, see :mod:`cnn.userdata`)."""
    if name in DATASETS:
        return DATASETS[name]
    if is_user(name):
        ds = _stored(name)
        return DatasetInfo(name, title(name), ds.image_shape, ds.classes, "", "your own data")
    raise DatasetError(_("Unknown dataset '{name}'. Choose one of: {join}.",
                         name=name, join=', '.join(dataset_names())))


def dataset_names() -> list[str]:
    """Every dataset a page or the command line may pick: the built-in ones, then each ``user:NAME``."""
    return list(DATASETS) + [user_key(d.name) for d in userdata.list_datasets()]


def _stored(name: str):
    """The stored dataset behind ``user:NAME``, its errors as DatasetError (what every caller of this module
    catches)."""
    try:
        return userdata.get(user_name(name))
    except userdata.UserDataError as e:
        raise DatasetError(str(e)) from None


def user_signature(name: str) -> tuple:
    """What changes when examples of ``user:NAME`` are added or removed (a cache key); DatasetError if gone."""
    try:
        return userdata.signature(user_name(name))
    except userdata.UserDataError as e:
        raise DatasetError(str(e)) from None


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


# The downloads' published checksums: Keras' own for mnist.npz and CIFAR-10's archive (the file_hash its
# get_file checks), Zalando's for Fashion-MNIST's files (MD5 is what Fashion-MNIST publishes).
PUBLISHED = {
    "mnist.npz": ("sha256", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "cifar-10-python.tar.gz": ("sha256", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    "train-images-idx3-ubyte.gz": ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train-labels-idx1-ubyte.gz": ("md5", "25c81989df183df01b3e8a0aad5dffbe"),
    "t10k-images-idx3-ubyte.gz": ("md5", "bef4ecab320f06d8554ea6380940ec79"),
    "t10k-labels-idx1-ubyte.gz": ("md5", "bb300cfdad3c16e7a12a480ee83cd310"),
}


def _check_published(path: Path, fname: str, title: str) -> None:
    """DownloadError (and the file removed) unless ``path`` has the published checksum of ``fname``."""
    kind, expected = PUBLISHED[fname]
    digest = hashlib.new(kind, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        path.unlink(missing_ok=True)
        raise DownloadError(_("The {title} download ({fname}) is not the published file (its {kind} checksum "
                              "differs), so it was not used: a broken download or a changed server.",
                              title=_(title), fname=fname, kind=kind.upper()), offline=False)


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
            _check_published(tmp, fname, meta.title)  # before anything reads it, as Keras' get_file does
            os.replace(tmp, dest)
        except urllib.error.HTTPError as e:  # the server answered, with an error: not "offline"
            tmp.unlink(missing_ok=True)
            raise DownloadError(_("Could not download {title}: {url} answered HTTP {code} ({reason}). Put the "
                                  "dataset files in {data_dir} (or set CNN_DATA_DIR).",
                                  title=_(meta.title), url=url, code=e.code, reason=e.reason, data_dir=data_dir()),
                                offline=False) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:  # no connection: offline
            tmp.unlink(missing_ok=True)
            _offline_until = time.monotonic() + 300
            reason = getattr(e, "reason", e)
            raise DownloadError(_("Could not download {title} ({reason}). You seem to be offline: put the dataset "
                                  "files in {data_dir} (or set CNN_DATA_DIR), or use the bundled sample.",
                                  title=_(meta.title), reason=reason, data_dir=data_dir()), offline=True) from None
        except OSError as e:  # the download worked but the file could not be written: say where and why
            tmp.unlink(missing_ok=True)
            raise DownloadError(_("Could not save the {title} download to {parent} ({value}). Free some disk space "
                                  "or set KERAS_HOME to a writable folder.",
                                  title=_(meta.title), parent=dest.parent, value=e.strerror or e),
                                offline=False) from None
    return target


def load_dataset(name: str, *, allow_download: bool = True,
                 progress: Callable[[float], None] | None = None) -> Dataset:
    """Load a dataset from the first source that works; see the module docstring for the order.
    A student's own dataset (``user:NAME``) is read from its folder and split into train and test."""
    if is_user(name):
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
                        "server's keeper puts its files in the server's data folder (README).", title=M_(meta.title))
                     if e.offline else
                     M_("{title} could not be downloaded, so this is its bundled sample. The server's log says why.",
                        title=M_(meta.title)),)
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
    ds = _stored(name)
    try:
        parts = userdata_split.split(ds.name)
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
