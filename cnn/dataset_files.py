"""The files datasets come in: IDX (MNIST, Fashion-MNIST, gzipped or not), Keras' ``.npz``, CIFAR-10's pickled
batches (a folder or the ``.tar.gz``), and the bundled samples' JPEG arrays; each read into checked uint8 arrays."""
from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

from cnn.data import DatasetError
from cnn.i18n import _

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}



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
