"""Your own data: small datasets a student makes by drawing, photographing or uploading examples.

Format (portable, documented in the README): a folder per dataset under ``CNN_USER_DATA_DIR``
(default ``data/user/``) holding ``dataset.json`` (classes in order, image size, owner) and one
folder per class of PNG files at the dataset's image size. Zips of class folders (the layout
Keras' ``image_dataset_from_directory`` reads) import and export the same thing. Everything a
user gives is checked before it is decoded or written: file counts and sizes, zip bombs, paths
that leave the folder, names, image sizes. Writes are atomic; nothing is written outside the
data folder. ``cnn.data.load_dataset("user:NAME")`` turns a dataset into train and test arrays
(a stable, stratified split).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from cnn import index, preprocess, settings, store
from cnn.i18n import N_, _, n_

PREFIX = "user:"
SHAPES: dict[int, tuple[int, int, int]] = {28: (28, 28, 1), 32: (32, 32, 3), 64: (64, 64, 3)}  # by side


def size_label(shape: tuple[int, int, int]) -> str:
    """"28×28 grey (drawings)", "32×32 colour (photos)"."""
    h, w, c = shape
    return f"{h}×{w} grey (drawings)" if c == 1 else f"{h}×{w} colour (photos)"


SIZES: dict[str, tuple[int, int, int]] = {size_label(s): s for s in SHAPES.values()}  # as the page offers them
SIZE_WORDS = (N_("28×28 grey (drawings)"), N_("32×32 colour (photos)"), N_("64×64 colour (photos)"))  # translated there
MIN_CLASSES, MAX_CLASSES = 2, 20
MAX_IMAGES = 20_000  # per dataset
MAX_ZIP_BYTES = 100 * 2**20  # the upload limit
MAX_ZIP_FILES = 5_000
MAX_ZIP_TOTAL = 400 * 2**20  # uncompressed, all entries together
MAX_ENTRY_BYTES = preprocess.MAX_UPLOAD_BYTES  # one image
MAX_RATIO = 200  # uncompressed / compressed size of one entry: beyond this it is a zip bomb
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
CLASS_RE = re.compile(r"^[\w][\w .'-]{0,29}$")
TEST_SHARE = 5  # one image in five is held out for testing (at least one per class)


class UserDataError(ValueError):
    """A dataset, class, image or zip was refused; the message says why and what to do."""


def user_data_dir() -> Path:
    """``$CNN_USER_DATA_DIR`` or ``data/user`` in the project."""
    return settings.value("CNN_USER_DATA_DIR")


def key(name: str) -> str:
    """The dataset name every page and the command line use: ``user:NAME``."""
    return PREFIX + name


def is_user(dataset: str) -> bool:
    return isinstance(dataset, str) and dataset.startswith(PREFIX)


def name_of(dataset: str) -> str:
    """The folder name of a dataset key ``user:NAME`` (UserDataError for a key that is not one)."""
    if not is_user(dataset):
        raise UserDataError(_("'{dataset}' is not a dataset of your own (those are named {prefix}NAME).",
                              dataset=dataset, prefix=PREFIX))
    return dataset[len(PREFIX):]


def validate_name(name: str) -> str:
    """A dataset name: the same rules as model names (letters, digits, - and _)."""
    try:
        return store.validate_name(name)
    except store.StoreError as e:
        raise UserDataError(str(e).replace("model", "dataset")) from None


def validate_classes(names: list[str]) -> list[str]:
    """2 to 20 class names, each 1-30 letters, digits, spaces or . ' - _, no two alike (case aside)."""
    clean = [unicodedata.normalize("NFC", " ".join(str(n).split())) for n in names]
    clean = [n for n in clean if n]
    if len(clean) < MIN_CLASSES:
        raise UserDataError(_("A dataset needs at least {min_classes} classes, got {n_clean}.",
                              min_classes=MIN_CLASSES, n_clean=len(clean)))
    if len(clean) > MAX_CLASSES:
        raise UserDataError(_("A dataset may have at most {max_classes} classes, got {n_clean}.",
                              max_classes=MAX_CLASSES, n_clean=len(clean)))
    for n in clean:
        if not CLASS_RE.match(n):
            raise UserDataError(_("Class name '{n}': use 1-30 letters, digits, spaces and . ' - _, starting with a "
                                  "letter or digit.", n=n[:40]))
    seen: dict[str, str] = {}
    for n in clean:
        if n.casefold() in seen:
            raise UserDataError(_("Two classes are named alike: '{seen}' and '{n}'. Give each class its own name.",
                                  seen=seen[n.casefold()], n=n))
        seen[n.casefold()] = n
    return clean


@dataclass(frozen=True)
class UserDataset:
    """A dataset as stored: its classes in order, image shape, owner, and examples per class."""

    name: str
    classes: tuple[str, ...]
    image_shape: tuple[int, int, int]
    owner: str = ""
    owner_name: str = ""
    created: str = ""
    counts: tuple[int, ...] = field(default=())

    @property
    def folder(self) -> Path:
        return user_data_dir() / self.name

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def meta(self) -> dict[str, Any]:
        return {"owner": self.owner, "owner_name": self.owner_name}

    def describe(self) -> str:
        h, w, c = self.image_shape
        examples = n_("{n:,} example", "{n:,} examples", self.total)
        if c == 1:
            text = _("{k} classes, {examples}, {h}×{w} grey", k=len(self.classes), examples=examples, h=h, w=w)
        else:
            text = _("{k} classes, {examples}, {h}×{w} colour", k=len(self.classes), examples=examples, h=h, w=w)
        return text + (_(", by {name}", name=self.owner_name) if self.owner_name else "")


def _image_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".png" and not p.name.startswith("."))
    except OSError:
        return []


def get(name: str) -> UserDataset:
    """The stored dataset ``name``; UserDataError when there is none (or its description is damaged)."""
    name = validate_name(name)
    folder = user_data_dir() / name
    meta = store.read_json(folder / "dataset.json")
    if meta is None:
        raise UserDataError(_("No dataset named '{name}'.", name=name))
    try:
        classes = tuple(validate_classes(meta["classes"]))
        shape = tuple(int(x) for x in meta["image_shape"])
        if shape not in SIZES.values():
            raise ValueError(shape)
    except (KeyError, TypeError, ValueError, UserDataError):
        raise UserDataError(_("The dataset '{name}' has a damaged dataset.json; download it, fix it, or delete it.",
                              name=name)) \
            from None
    counts = tuple(len(_image_files(folder / c)) for c in classes)
    return UserDataset(name, classes, shape, str(meta.get("owner", "")), str(meta.get("owner_name", "")),
                       str(meta.get("created", "")), counts)


def list_datasets() -> list[UserDataset]:
    """Every readable dataset, by name (damaged or half-made folders are skipped, never an error)."""
    try:
        folders = sorted(p for p in user_data_dir().iterdir() if p.is_dir() and store.NAME_RE.match(p.name))
    except OSError:
        return []
    out = []
    for folder in folders:
        try:
            out.append(get(folder.name))
        except UserDataError:
            continue
    return out


def signature(name: str) -> tuple:
    """Changes whenever an example is added or removed (a cache key): each class folder's count and mtime."""
    ds = get(name)
    return tuple((c, n, (ds.folder / c).stat().st_mtime_ns) for c, n in zip(ds.classes, ds.counts, strict=True))


def _write_json(path: Path, meta: dict[str, Any]) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}.json")
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, path)


def create(name: str, classes: list[str], image_shape: tuple[int, int, int], owner: str = "",
           owner_name: str = "") -> UserDataset:
    """A new, empty dataset (atomically: it appears complete or not at all); refuses an existing name."""
    name = validate_name(name)
    classes = validate_classes(classes)
    if tuple(image_shape) not in SIZES.values():
        raise UserDataError(_("Image size must be one of {join}.", join=', '.join(SIZES)))
    root = user_data_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    if final.exists():
        raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name))
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for c in classes:
            (tmp / c).mkdir()
        _write_json(tmp / "dataset.json", {"name": name, "classes": classes, "image_shape": list(image_shape),
                                           "owner": owner, "owner_name": owner_name, "format": 1,
                                           "created": time.strftime("%Y-%m-%d %H:%M:%S")})
        try:
            os.rename(tmp, final)  # atomic; fails if another session made it meanwhile
        except OSError:
            raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ds = get(name)
    index.dataset_changed(name, {**ds.meta, "classes": ds.classes})
    return ds


def _check_may_change(ds: UserDataset, actor: store.Actor | None) -> None:
    if actor is not None and not actor.may_change(ds.meta):
        who = store.owner_words(ds.meta)
        raise UserDataError(_("'{name}' is {who} dataset: you can change only datasets you made. Make your own, or "
                              "ask your teacher.", name=ds.name, who=who))


def add_class(name: str, class_name: str, actor: store.Actor | None = None) -> UserDataset:
    """One more class (up to 20). Read, change and rewrite of dataset.json happen under the dataset's lock, so
    students adding classes at once each keep theirs."""
    folder = get(name).folder
    with store.folder_lock(folder):
        ds = get(name)
        _check_may_change(ds, actor)
        classes = validate_classes([*ds.classes, class_name])
        (ds.folder / classes[-1]).mkdir(exist_ok=True)
        meta = {**(store.read_json(ds.folder / "dataset.json") or {}), "classes": classes}
        _write_json(ds.folder / "dataset.json", meta)
        index.dataset_changed(name, meta)
    return get(name)


def prepare(image: Image.Image, image_shape: tuple[int, int, int]) -> np.ndarray:
    """One example at the dataset's size as uint8 (H, W, C). Grey 28×28 uses the Draw page's own ink
    extraction (centred, MNIST-like), so drawings, photos of paper and the Draw page agree. An image already
    at the dataset's size (an exported dataset, an MNIST-like file) is kept as it is."""
    h, w, c = image_shape
    if image.size == (w, h):
        arr = np.asarray(image.convert("L" if c == 1 else "RGB"), np.uint8)
        return arr[..., None] if c == 1 else arr
    x = preprocess.prepare_image(image, image_shape)[0]
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def add_images(name: str, class_name: str, images: list[np.ndarray], actor: store.Actor | None = None) -> int:
    """Store prepared examples (uint8, the dataset's shape) in a class; returns how many were added."""
    ds = get(name)
    _check_may_change(ds, actor)
    if class_name not in ds.classes:
        raise UserDataError(_("'{name}' has no class '{class_name}'.", name=name, class_name=class_name))
    if ds.total + len(images) > MAX_IMAGES:
        raise UserDataError(_("A dataset may hold at most {max_images:,} examples; '{name}' has {total:,}.",
                              max_images=MAX_IMAGES, name=name, total=ds.total))
    folder = ds.folder / class_name
    for arr in images:
        arr = np.asarray(arr, np.uint8)
        if arr.shape != ds.image_shape:
            raise UserDataError(_("An example is {shape}, the dataset's images are {image_shape}.",
                                  shape=arr.shape, image_shape=ds.image_shape))
        img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
        tmp = folder / f".tmp-{uuid.uuid4().hex}.png"
        img.save(tmp, format="PNG")
        os.replace(tmp, folder / f"{uuid.uuid4().hex[:16]}.png")
    return len(images)


def add_files(name: str, class_name: str, files: list[tuple[str, bytes]],
              actor: store.Actor | None = None) -> tuple[int, list[str]]:
    """Uploaded image files into a class: (added, one line per file that was refused and why)."""
    ds = get(name)
    prepared, problems = [], []
    for filename, raw in files:
        try:
            prepared.append(prepare(preprocess.open_image(raw), ds.image_shape))
        except preprocess.ImageError as e:
            problems.append(f"{filename}: {e}")
    return (add_images(name, class_name, prepared, actor) if prepared else 0), problems


def examples(name: str, class_name: str) -> list[tuple[str, np.ndarray]]:
    """(id, image) of every example of a class, oldest first."""
    ds = get(name)
    out = []
    for path in sorted(_image_files(ds.folder / class_name), key=lambda p: p.stat().st_mtime_ns):
        try:
            out.append((path.stem, _read_png(path, ds.image_shape)))
        except UserDataError:
            continue
    return out


def remove_example(name: str, class_name: str, example_id: str, actor: store.Actor | None = None) -> None:
    """Delete one example (its id from :func:`examples`)."""
    ds = get(name)
    _check_may_change(ds, actor)
    if class_name not in ds.classes or not re.fullmatch(r"[0-9a-f]{16}", example_id):
        raise UserDataError(_("No such example."))
    (ds.folder / class_name / f"{example_id}.png").unlink(missing_ok=True)


def delete(name: str, actor: store.Actor | None = None) -> None:
    """Remove a whole dataset (its owner or the teacher)."""
    ds = get(name)
    _check_may_change(ds, actor)
    trash = ds.folder.with_name(f".tmp-deleted-{name}-{uuid.uuid4().hex[:8]}")
    os.rename(ds.folder, trash)  # gone from the listing at once
    shutil.rmtree(trash, ignore_errors=True)
    index.dataset_deleted(name)


def _read_png(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("L" if shape[2] == 1 else "RGB"), np.uint8)
    except (OSError, ValueError) as e:
        raise UserDataError(_("{name}: unreadable ({e}).", name=path.name, e=e)) from None
    arr = arr[..., None] if arr.ndim == 2 else arr
    if arr.shape != shape:
        raise UserDataError(_("{name}: {shape}, expected {shape2}.", name=path.name, shape=arr.shape, shape2=shape))
    return arr


def _test_rank(example_id: str) -> int:
    """A stable pseudo-random number per example: the split does not move when examples are added."""
    return int(hashlib.sha1(example_id.encode()).hexdigest()[:8], 16)


@dataclass(frozen=True)
class Split:
    """Arrays for training and testing, and notes on classes too small to split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    notes: tuple[str, ...]


def split(name: str) -> Split:
    """A stratified split: one example in five of each class is held out for testing, at least one per class
    with two or more examples (a class with one example trains only, and a note says so)."""
    ds = get(name)
    if ds.total == 0:
        raise UserDataError(_("'{name}' has no examples yet: add some on the My data page.", name=name))
    train, test, notes = [], [], []
    for k, c in enumerate(ds.classes):
        items = examples(name, c)
        if not items:
            notes.append(_("Class '{name}' has no examples: the model can never predict it. Add some.", name=c))
            continue
        if len(items) == 1:
            notes.append(_("Class '{name}' has only 1 example: it is used for training only, so it is never tested. "
                           "Add more (10 or more per class work well).", name=c))
            train += [(arr, k) for _, arr in items]
            continue
        ranked = sorted(items, key=lambda item: _test_rank(item[0]))
        n_test = min(len(items) - 1, max(1, round(len(items) / TEST_SHARE)))
        test += [(arr, k) for _, arr in ranked[:n_test]]
        train += [(arr, k) for _, arr in ranked[n_test:]]
    if not test:
        raise UserDataError(_("'{name}' has too few examples to test on: add at least 2 to some class.", name=name))
    if len({k for _, k in train}) < 2:
        raise UserDataError(_("'{name}' needs examples in at least 2 classes to learn anything.", name=name))

    def stack(items):
        return (np.stack([a for a, _ in items]).astype(np.uint8), np.array([k for _, k in items], np.int64))

    (xtr, ytr), (xte, yte) = stack(train), stack(test)
    order = np.random.default_rng(0).permutation(len(xtr))  # classes interleaved (validation split takes the end)
    return Split(xtr[order], ytr[order], xte, yte, tuple(notes))


def export_zip(name: str) -> bytes:
    """The dataset as a .zip of class folders of PNGs plus dataset.json (re-importable, and readable by
    ``keras.utils.image_dataset_from_directory``)."""
    ds = get(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        meta = store.read_json(ds.folder / "dataset.json") or {}
        z.writestr(f"{name}/dataset.json", json.dumps({k: meta[k] for k in ("name", "classes", "image_shape",
                                                                              "format") if k in meta}, indent=1))
        for c in ds.classes:
            for path in _image_files(ds.folder / c):
                z.write(path, f"{name}/{c}/{path.name}")
    return buf.getvalue()


@dataclass
class ZipContents:
    """What a zip holds, checked: examples per class (in the dataset's shape), and what was skipped and why."""

    classes: dict[str, list[np.ndarray]]
    image_shape: tuple[int, int, int]
    skipped: list[str]


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip entry, or UserDataError for a path that could leave the folder."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise UserDataError(_("The zip holds a file with an absolute or Windows path ('{name}'); refused, as it "
                              "could be written outside the data folder.", name=name[:80]))
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".") for p in parts):
        raise UserDataError(_("The zip holds a path that climbs out of its folder ('{name}'); refused.",
                              name=name[:80]))
    return parts


def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, never more than the limit, whatever its header claims."""
    with z.open(info) as f:
        raw = f.read(MAX_ENTRY_BYTES + 1)
    if len(raw) > MAX_ENTRY_BYTES:
        raise UserDataError(_("'{filename}' unpacks to more than {max_entry_bytes} MB (a zip bomb?); refused.",
                              filename=info.filename[:80], max_entry_bytes=MAX_ENTRY_BYTES // 2**20))
    return raw


def read_zip(raw: bytes, image_shape: tuple[int, int, int] | None = None) -> ZipContents:
    """Read a zip of class folders (``cats/1.png``, ``dogs/2.jpg``; one wrapping folder allowed; files in
    deeper folders count for their class folder, as Keras reads them). Everything is checked before a
    byte is decoded; the images are decoded in memory, never unpacked to disk."""
    if len(raw) > MAX_ZIP_BYTES:
        raise UserDataError(_("The zip is {n_raw:.0f} MB; the limit is {max_zip_bytes} MB.",
                              n_raw=len(raw) / 2**20, max_zip_bytes=MAX_ZIP_BYTES // 2**20))
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserDataError(_("This file is not a readable .zip archive.")) from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > MAX_ZIP_FILES:
        raise UserDataError(_("The zip holds {n_files:,} files; the limit is {max_zip_files:,}.",
                              n_files=len(files), max_zip_files=MAX_ZIP_FILES))
    if sum(i.file_size for i in files) > MAX_ZIP_TOTAL:
        raise UserDataError(_("The zip unpacks to {sum:,.0f} MB; the limit is {max_zip_total} MB (a zip bomb?).",
                              sum=sum(i.file_size for i in files) / 2**20, max_zip_total=MAX_ZIP_TOTAL // 2**20))
    entries = []
    for info in files:
        parts = _safe_parts(info.filename)
        if info.file_size > MAX_ENTRY_BYTES or (info.compress_size and info.file_size > 2**20
                                                and info.file_size / info.compress_size > MAX_RATIO):
            raise UserDataError(_("'{file}' unpacks to {mb:.0f} MB from {size:,} bytes (a zip bomb?); refused.",
                                  file=info.filename[:80], mb=info.file_size / 2**20, size=info.compress_size))
        if any(p.startswith(".") or p == "__MACOSX" for p in parts) or parts[-1] in ("Thumbs.db", "desktop.ini"):
            continue  # system litter, silently
        entries.append((parts, info))
    meta: dict[str, Any] = {}
    tops = {parts[0] for parts, _ in entries}
    if (len(tops) == 1 and all(len(parts) > 1 for parts, _ in entries)
            and any(len(parts) > 2 for parts, _ in entries)):  # one folder wrapping class folders: look inside
        entries = [(parts[1:], info) for parts, info in entries]
    for parts, info in entries:
        if parts == ("dataset.json",):
            try:
                meta = json.loads(_read_entry(z, info))
            except (ValueError, UnicodeDecodeError):
                meta = {}
    shape = image_shape or _shape_from(meta) or (28, 28, 1)
    classes: dict[str, list[np.ndarray]] = {}
    order = [c for c in meta.get("classes", []) if isinstance(c, str)] if isinstance(meta, dict) else []
    skipped: list[str] = []
    for parts, info in sorted(entries, key=lambda e: e[0]):
        if parts == ("dataset.json",):
            continue
        if len(parts) < 2:
            skipped.append(f"{'/'.join(parts)}: not inside a class folder")
            continue
        if PurePosixPath(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{'/'.join(parts)}: not an image file")
            continue
        try:
            img = preprocess.open_image(_read_entry(z, info))
            classes.setdefault(parts[0], []).append(prepare(img, shape))
        except preprocess.ImageError as e:
            skipped.append(f"{'/'.join(parts)}: {e}")
    if not classes:
        raise UserDataError(_("The zip holds no images in class folders. Put each class's images in a folder named "
                              "after the class (cats/…, dogs/…) and zip those folders."))
    names = validate_classes(list(classes))  # the folder names: 2-20, valid, none alike
    ordered = [c for c in order if c in classes] + [c for c in names if c not in order]
    total = sum(len(v) for v in classes.values())
    if total > MAX_IMAGES:
        raise UserDataError(_("The zip holds {total:,} images; a dataset may hold at most {max_images:,}.",
                              total=total, max_images=MAX_IMAGES))
    return ZipContents({c: classes[c] for c in ordered}, tuple(shape), skipped)


def _shape_from(meta: Any) -> tuple[int, int, int] | None:
    try:
        shape = tuple(int(x) for x in meta["image_shape"])
    except (KeyError, TypeError, ValueError):
        return None
    return shape if shape in SIZES.values() else None


def import_zip(name: str, raw: bytes, image_shape: tuple[int, int, int] | None = None, owner: str = "",
               owner_name: str = "") -> tuple[UserDataset, list[str]]:
    """A new dataset from a zip of class folders (see :func:`read_zip`): (the dataset, what was skipped)."""
    name = validate_name(name)
    if (user_data_dir() / name).exists():
        raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name))
    contents = read_zip(raw, image_shape)
    ds = create(name, list(contents.classes), contents.image_shape, owner, owner_name)
    for c, images in contents.classes.items():
        add_images(name, c, images)
    return get(ds.name), contents.skipped
