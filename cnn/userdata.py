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

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn import db as dbm
from cnn import index, preprocess, settings, store
from cnn.i18n import _, n_
from cnn.userdata_rules import (  # noqa: F401  (what a dataset may hold; its names are this module's for callers)
    CLASS_RE,
    MAX_CLASSES,
    MAX_IMAGES,
    MIN_CLASSES,
    SHAPES,
    SIZE_WORDS,
    SIZES,
    UserDataError,
    check_png,
    png_bytes,
    prepare,
    read_png,
    size_label,
    validate_classes,
    validate_name,
)


def user_data_dir() -> Path:
    """``$CNN_USER_DATA_DIR`` or ``data/user`` in the project."""
    return settings.value("CNN_USER_DATA_DIR")


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
                read_png(raw, path.stem, shape)
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
        encoded.append(png_bytes(arr))
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
            out.append((r["id"], read_png(bytes(r["png"]), r["id"], ds.image_shape)))
        except UserDataError:
            continue
    return out


def example_pngs(name: str, class_name: str) -> list[tuple[str, bytes]]:
    """(id, PNG bytes) of a class's examples, oldest first, as stored (an export writes them as they are)."""
    return [(r["id"], bytes(r["png"])) for r in _guard(lambda: _db().query(
        "SELECT id, png FROM dataset_examples WHERE dataset = ? AND class_name = ? ORDER BY added, id",
        (name, class_name)))]


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
