"""Your own data: small datasets a student makes by drawing, photographing or uploading examples.

Stored in the class database (every server of the class sees them; nothing on disk): a row per dataset
(classes in order, image size, owner) and one per example (a PNG at the dataset's image size). Zips of
class folders (the layout Keras' ``image_dataset_from_directory`` reads) import and export the same
thing. Everything a user gives is checked before it is decoded or stored: file counts and sizes, zip
bombs, paths that leave the folder, names, image sizes. Every change is one transaction.
``cnn.dataset_sources.load_dataset("user:NAME")`` turns a dataset into train and test arrays (a stable,
stratified split). Dataset folders of earlier versions (``CNN_USER_DATA_DIR``) are imported once
(:func:`import_folder`).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from cnn import db as dbm
from cnn import index, preprocess, settings, store
from cnn.errors import LabError
from cnn.i18n import M_, N_, Message, _, n_

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


class UserDataError(LabError, ValueError):
    """A dataset, class, image or zip was refused; the message says why and what to do."""


def user_data_dir() -> Path:
    """``$CNN_USER_DATA_DIR`` or ``data/user`` in the project."""
    return settings.value("CNN_USER_DATA_DIR")


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
    version: int = 0  # moves on with every change

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


def _db() -> dbm.Database:
    return dbm.database()


def _guard(fn):
    """A step on the class database; one that cannot answer is a UserDataError with its message."""
    try:
        return fn()
    except dbm.DatabaseError as e:
        raise UserDataError(str(e)) from None


def _dataset(row: dict[str, Any], counts: dict[str, int]) -> UserDataset:
    try:
        classes = tuple(validate_classes(dbm.loads(row["classes"], [])))
        shape = tuple(int(x) for x in dbm.loads(row["image_shape"], []))
        if shape not in SIZES.values():
            raise ValueError(shape)
    except (TypeError, ValueError, UserDataError):
        raise UserDataError(_("The dataset '{name}' has a damaged description; download it, fix it, or delete it.",
                              name=row["name"])) from None
    return UserDataset(row["name"], classes, shape, str(row["owner"]), str(row["owner_name"]), str(row["created"]),
                       tuple(counts.get(c, 0) for c in classes), int(row["version"]))


_COLUMNS = "name, classes, image_shape, owner, owner_name, created, version"


def get(name: str) -> UserDataset:
    """The stored dataset ``name``; UserDataError when there is none (or its description is damaged)."""
    name = validate_name(name)
    import_folder()
    rows = _guard(lambda: _db().query(f"SELECT {_COLUMNS} FROM datasets WHERE name = ?", (name,)))
    if not rows:
        raise UserDataError(_("No dataset named '{name}'.", name=name))
    counts = _guard(lambda: _db().query("SELECT class_name, COUNT(*) AS n FROM dataset_examples WHERE dataset = ? "
                                        "GROUP BY class_name", (name,)))
    return _dataset(rows[0], {r["class_name"]: int(r["n"]) for r in counts})


def list_datasets() -> list[UserDataset]:
    """Every readable dataset of the class, by name (a damaged one is skipped, never an error)."""
    import_folder()
    rows = _guard(lambda: _db().query(f"SELECT {_COLUMNS} FROM datasets ORDER BY name"))
    counts: dict[str, dict[str, int]] = {}
    for r in _guard(lambda: _db().query("SELECT dataset, class_name, COUNT(*) AS n FROM dataset_examples GROUP BY "
                                        "dataset, class_name")):
        counts.setdefault(r["dataset"], {})[r["class_name"]] = int(r["n"])
    out = []
    for row in rows:
        try:
            out.append(_dataset(row, counts.get(row["name"], {})))
        except UserDataError:
            continue
    return out


def signature(name: str) -> tuple:
    """Changes whenever an example is added or removed (a cache key): the dataset's version and counts."""
    ds = get(name)
    return (ds.version, ds.counts)


def create(name: str, classes: list[str], image_shape: tuple[int, int, int], owner: str = "",
           owner_name: str = "") -> UserDataset:
    """A new, empty dataset (one transaction: it appears complete or not at all); refuses an existing name."""
    name = validate_name(name)
    classes = validate_classes(classes)
    if tuple(image_shape) not in SIZES.values():
        raise UserDataError(_("Image size must be one of {join}.", join=', '.join(SIZES)))
    import_folder()

    def commit() -> None:
        with _db().transaction(f"dataset:{name}") as tx:
            if tx.one("SELECT 1 AS taken FROM datasets WHERE name = ?", (name,)):
                raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name))
            tx.execute("INSERT INTO datasets (name, owner, owner_name, classes, updated, image_shape, created, "
                       "version) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                       (name, owner, owner_name, dbm.dumps(classes), tx.now(), dbm.dumps(list(image_shape)),
                        time.strftime("%Y-%m-%d %H:%M:%S")))

    _guard(commit)
    return get(name)


_imported: set[tuple[str, str]] = set()


def import_folder() -> None:
    """Dataset folders of earlier CNN Lab versions under ``CNN_USER_DATA_DIR`` (``dataset.json`` and a folder of PNGs
    per class) join the class database with every example, once per database and folder; a name the database
    already has is left alone."""
    folder, url = user_data_dir(), dbm.default_url()
    if (url, str(folder)) in _imported:
        return
    _imported.add((url, str(folder)))
    key = f"imported-datasets:{folder.resolve()}"
    if not folder.is_dir() or _guard(lambda: _db().query("SELECT 1 AS done FROM settings WHERE key = ?", (key,))):
        return

    def commit() -> None:
        with _db().transaction("import") as tx:
            if tx.one("SELECT 1 AS done FROM settings WHERE key = ?", (key,)):
                return
            known = {r["name"] for r in tx.all("SELECT name FROM datasets")}
            for meta_path in sorted(folder.glob("*/dataset.json")):
                name, meta = meta_path.parent.name, index.read_json(meta_path)
                if meta is None or name in known or not store.NAME_RE.match(name):
                    continue
                _import_one(tx, name, meta, meta_path.parent)
            tx.set_setting(key, time.strftime("%Y-%m-%d %H:%M:%S"))

    _guard(commit)


def _import_one(tx: dbm.Transaction, name: str, meta: dict[str, Any], folder: Path) -> None:
    try:
        classes = validate_classes(meta["classes"])
        shape = tuple(int(x) for x in meta["image_shape"])
    except (KeyError, TypeError, ValueError, UserDataError):
        return  # a damaged description: left on disk, not imported
    now = tx.now()
    tx.execute("INSERT INTO datasets (name, owner, owner_name, classes, updated, image_shape, created, version) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
               (name, str(meta.get("owner") or ""), str(meta.get("owner_name") or ""), dbm.dumps(classes), now,
                dbm.dumps(list(shape)), str(meta.get("created") or "")))
    for c in classes:
        try:
            files = sorted((p for p in (folder / c).iterdir() if p.suffix == ".png" and not p.name.startswith(".")),
                           key=lambda p: p.stat().st_mtime_ns)
        except OSError:
            continue
        for i, path in enumerate(files):
            try:
                raw = path.read_bytes()
                _read_png(raw, path.stem, shape)
            except (OSError, UserDataError):
                continue
            example_id = path.stem if re.fullmatch(r"[0-9a-f]{16}", path.stem) else uuid.uuid4().hex[:16]
            tx.execute("INSERT INTO dataset_examples (dataset, id, class_name, png, added) VALUES (?, ?, ?, ?, ?)",
                       (name, example_id, c, raw, now + i * 1e-6))


def _check_may_change(ds: UserDataset, actor: store.Actor | None) -> None:
    if actor is not None and not actor.may_change(ds.meta):
        who = store.owner_words(ds.meta)
        raise UserDataError(_("'{name}' is {who} dataset: you can change only datasets you made. Make your own, or "
                              "ask your teacher.", name=ds.name, who=who))


def _changed(tx: dbm.Transaction, name: str) -> None:
    tx.execute("UPDATE datasets SET version = version + 1, updated = ? WHERE name = ?", (tx.now(), name))


def add_class(name: str, class_name: str, actor: store.Actor | None = None) -> UserDataset:
    """One more class (up to 20). The read and the write are one transaction on the dataset's lock, so students
    adding classes at once each keep theirs."""
    ds = get(name)
    _check_may_change(ds, actor)

    def commit() -> None:
        with _db().transaction(f"dataset:{ds.name}") as tx:
            row = tx.one("SELECT classes FROM datasets WHERE name = ?", (ds.name,))
            if row is None:
                raise UserDataError(_("No dataset named '{name}'.", name=ds.name))
            classes = validate_classes([*dbm.loads(row["classes"], []), class_name])
            tx.execute("UPDATE datasets SET classes = ? WHERE name = ?", (dbm.dumps(classes), ds.name))
            _changed(tx, ds.name)

    _guard(commit)
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


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, format="PNG")
    return buf.getvalue()


def add_images(name: str, class_name: str, images: list[np.ndarray], actor: store.Actor | None = None,
               ids: list[str] | None = None) -> int:
    """Store prepared examples (uint8, the dataset's shape) in a class, in one transaction; returns how many were
    added. ``ids`` keeps the examples' own ids (an import), else each gets a new one."""
    ds = get(name)
    _check_may_change(ds, actor)
    if class_name not in ds.classes:
        raise UserDataError(_("'{name}' has no class '{class_name}'.", name=name, class_name=class_name))
    encoded = []
    for arr in images:
        arr = np.asarray(arr, np.uint8)
        if arr.shape != ds.image_shape:
            raise UserDataError(_("An example is {shape}, the dataset's images are {image_shape}.",
                                  shape=arr.shape, image_shape=ds.image_shape))
        encoded.append(_png(arr))
    ids = list(ids) if ids is not None else [uuid.uuid4().hex[:16] for _ in encoded]

    def commit() -> None:
        with _db().transaction(f"dataset:{ds.name}") as tx:
            n = tx.one("SELECT COUNT(*) AS n FROM dataset_examples WHERE dataset = ?", (ds.name,))["n"]
            if int(n) + len(encoded) > MAX_IMAGES:
                raise UserDataError(_("A dataset may hold at most {max_images:,} examples; '{name}' has {total:,}.",
                                      max_images=MAX_IMAGES, name=name, total=int(n)))
            now = tx.now()
            for i, (example_id, png) in enumerate(zip(ids, encoded, strict=True)):
                tx.execute("INSERT INTO dataset_examples (dataset, id, class_name, png, added) VALUES (?, ?, ?, ?, ?)",
                           (ds.name, example_id, class_name, png, now + i * 1e-6))
            _changed(tx, ds.name)

    _guard(commit)
    return len(encoded)


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
    """(id, image) of every example of a class, oldest first (an unreadable one is skipped)."""
    ds = get(name)
    rows = _guard(lambda: _db().query("SELECT id, png FROM dataset_examples WHERE dataset = ? AND class_name = ? "
                                      "ORDER BY added, id", (ds.name, class_name)))
    out = []
    for r in rows:
        try:
            out.append((r["id"], _read_png(bytes(r["png"]), r["id"], ds.image_shape)))
        except UserDataError:
            continue
    return out


def remove_example(name: str, class_name: str, example_id: str, actor: store.Actor | None = None) -> None:
    """Delete one example (its id from :func:`examples`)."""
    ds = get(name)
    _check_may_change(ds, actor)
    if class_name not in ds.classes or not re.fullmatch(r"[0-9a-f]{16}", example_id):
        raise UserDataError(_("No such example."))

    def commit() -> None:
        with _db().transaction(f"dataset:{ds.name}") as tx:
            tx.execute("DELETE FROM dataset_examples WHERE dataset = ? AND class_name = ? AND id = ?",
                       (ds.name, class_name, example_id))
            _changed(tx, ds.name)

    _guard(commit)


def delete(name: str, actor: store.Actor | None = None) -> None:
    """Remove a whole dataset (its owner or the teacher), in one transaction."""
    ds = get(name)
    _check_may_change(ds, actor)

    def commit() -> None:
        with _db().transaction(f"dataset:{ds.name}") as tx:
            tx.execute("DELETE FROM dataset_examples WHERE dataset = ?", (ds.name,))
            tx.execute("DELETE FROM datasets WHERE name = ?", (ds.name,))

    _guard(commit)


def check_png(raw: bytes, shape: tuple[int, int, int]) -> None:
    """UserDataError unless ``raw`` is a PNG image of ``shape`` (what an example of a dataset is)."""
    if not raw.startswith(b"\x89PNG"):
        raise UserDataError(_("{name}: unreadable ({e}).", name="PNG", e="no PNG signature"))
    _read_png(raw, "PNG", shape)


def _read_png(raw: bytes, example_id: str, shape: tuple[int, int, int]) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(raw)) as img:
            arr = np.asarray(img.convert("L" if shape[2] == 1 else "RGB"), np.uint8)
    except (OSError, ValueError) as e:
        raise UserDataError(_("{name}: unreadable ({e}).", name=example_id, e=e)) from None
    arr = arr[..., None] if arr.ndim == 2 else arr
    if arr.shape != shape:
        raise UserDataError(_("{name}: {shape}, expected {shape2}.", name=example_id, shape=arr.shape, shape2=shape))
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
    notes: tuple[Message, ...]  # said in the reader's language when shown


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
            notes.append(M_("Class '{name}' has no examples: the model can never predict it. Add some.", name=c))
            continue
        if len(items) == 1:
            notes.append(M_("Class '{name}' has only 1 example: it is used for training only, so it is never tested. "
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
        z.writestr(f"{ds.name}/dataset.json", json.dumps({"name": ds.name, "classes": list(ds.classes),
                                                          "image_shape": list(ds.image_shape), "format": 1}, indent=1))
        for c in ds.classes:
            for r in _guard(lambda c=c: _db().query("SELECT id, png FROM dataset_examples WHERE dataset = ? AND "
                                                    "class_name = ? ORDER BY added, id", (ds.name, c))):
                z.writestr(f"{ds.name}/{c}/{r['id']}.png", bytes(r["png"]))
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
    if name in {d.name for d in list_datasets()}:
        raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name))
    contents = read_zip(raw, image_shape)
    ds = create(name, list(contents.classes), contents.image_shape, owner, owner_name)
    for c, images in contents.classes.items():
        add_images(name, c, images)
    return get(ds.name), contents.skipped
