"""Saved models: their files and metadata in the class database, local ``.keras`` files as a cache.

The class database (:mod:`cnn.index`) is the one truth: who saved a model, its metadata and its
``.keras`` bytes. Saving, replacing and deleting are each one transaction, so a server killed at any
point leaves the class the old model or the new one, never half; a server on another host finds every
model without a shared folder. ``models/<name>.keras`` plus ``<name>.json`` are written after the
transaction as a cache (checked against the database's SHA-256 before use, rewritten when stale).
Loading always uses Keras safe mode, after a look inside the archive that refuses code-carrying layers
(Lambda) and unknown classes.
"""
from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn import blobs, index, settings
from cnn import db as dbm
from cnn.errors import StoreError
from cnn.i18n import N_, _
from cnn.keras_files import halve_weights, load_keras_file, portable

ROOT = Path(__file__).resolve().parent.parent
MAX_NAME = 64
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Actor:
    """Who asks to change a saved model: a browser session (its owner id) or, with ``teacher``, the teacher.
    The command line passes none: it is the person running the server."""

    owner: str = ""
    teacher: bool = False

    def may_change(self, meta: dict[str, Any]) -> bool:
        """The teacher may change any model; a session only those it saved (a model with no owner: nobody)."""
        owner = meta.get("owner")
        return self.teacher or (isinstance(owner, str) and bool(owner) and hmac.compare_digest(owner, self.owner))


def owner_words(meta: dict[str, Any]) -> str:
    """"Anna's" / "someone else's", as in "'x' is Anna's model" (each language words it in its own sentence)."""
    name = meta.get("owner_name")
    return _("{name}'s", name=name) if isinstance(name, str) and name else _("someone else's")


@dataclass(frozen=True)
class ModelEntry:
    """A saved model as the listing shows it."""

    name: str
    meta: dict[str, Any]
    sha: str  # SHA-256 of its .keras file (the database's)
    saved: float  # when it was saved (changes with every replacement)
    folder: Path  # where this server caches its file

    @property
    def dataset(self) -> str:
        return self.meta.get("dataset", "?")

    @property
    def test_accuracy(self) -> float | None:
        return (self.meta.get("test") or {}).get("accuracy")

    @property
    def mtime(self) -> float:
        """When it was saved: with :attr:`path`, what caches of a loaded model are keyed by."""
        return self.saved

    @property
    def path(self) -> Path:
        """Its ``.keras`` file on this server (written from the database when missing or stale)."""
        return cached_file(self)


def models_dir() -> Path:
    """``$CNN_MODELS_DIR`` or ``models/`` in the project."""
    return settings.value("CNN_MODELS_DIR")


# What a name that is not one is told, for a model and for a dataset: whole sentences, so that each language words
# them its own way (a word swapped in English afterwards would stay English in German).
NAME_WORDS = {
    "model": (N_("Give the model a name."),
              N_("'{name}' is not a valid model name: use letters, digits, '-' and '_' only, starting with a letter "
                 "or digit (no spaces, dots or slashes).")),
    "dataset": (N_("Give the dataset a name."),
                N_("'{name}' is not a valid dataset name: use letters, digits, '-' and '_' only, starting with a "
                   "letter or digit (no spaces, dots or slashes).")),
}


def validate_name(name: str, what: str = "model") -> str:
    """Return the name if it is safe as a file name; raise StoreError saying what is wrong (of a model, or of
    ``what`` else: "dataset")."""
    empty, invalid = NAME_WORDS[what]
    if not isinstance(name, str) or not name.strip():
        raise StoreError(_(empty))
    name = name.strip()
    if len(name) > MAX_NAME:
        raise StoreError(_("The name is {n_name:,} characters long; use at most {max_name}.",
                           n_name=len(name), max_name=MAX_NAME))
    if not NAME_RE.match(name):
        raise StoreError(_(invalid, name=name))
    return name


def paths(name: str, folder: Path | None = None) -> tuple[Path, Path]:
    folder = folder or models_dir()
    name = validate_name(name)
    return folder / f"{name}.keras", folder / f"{name}.json"


def _guard(fn):
    """Run a database step of a model's save, load or listing; a database that cannot answer is a StoreError."""
    try:
        return fn()
    except dbm.DatabaseError as e:
        raise StoreError(str(e)) from None

_imported: set[tuple[str, str]] = set()


def import_folder(folder: Path | None = None) -> None:
    """Models in ``folder`` from before the database held them join it, once per process and folder (and once per
    database: :func:`cnn.index.import_existing`)."""
    folder = folder or models_dir()
    url = dbm.default_url()
    if (url, str(folder)) in _imported:
        return
    _guard(lambda: index.import_existing(dbm.database(), folder, names_ok=lambda n: bool(NAME_RE.match(n))))
    _guard(lambda: index.sync_shipped(dbm.database(), folder))  # an upgrade of CNN Lab brings its new models
    _imported.add((url, str(folder)))


def _entry(row: index.ModelRow, folder: Path) -> ModelEntry:
    return ModelEntry(row.name, {**row.meta, "name": row.name}, row.blob, row.saved, folder)


def list_models(folder: Path | None = None) -> list[ModelEntry]:
    """Every saved model of the class (on any server), shipped ones first, then newest first."""
    folder = folder or models_dir()
    import_folder(folder)
    entries = [_entry(r, folder) for r in _guard(index.models)]
    return sorted(entries, key=lambda e: (not e.meta.get("shipped", False), -e.saved, e.name))


def get(name: str, folder: Path | None = None, detail: bool = False) -> ModelEntry:
    """One saved model; StoreError "No saved model named ..." when there is none."""
    folder = folder or models_dir()
    name = validate_name(name)
    import_folder(folder)
    row = _guard(lambda: index.model(name, detail=detail))
    if row is None:
        raise StoreError(_("No saved model named '{name}'.", name=name))
    return _entry(row, folder)


def exists(name: str, folder: Path | None = None) -> bool:
    folder = folder or models_dir()
    name = validate_name(name)
    import_folder(folder)
    return _guard(lambda: index.model(name)) is not None


def cached_file(entry: ModelEntry) -> Path:
    """The entry's ``.keras`` file in its folder, written (atomically) from the database unless the one there is
    this very version; StoreError when the database has lost it."""
    kpath, _json = paths(entry.name, entry.folder)
    if kpath.is_file() and _file_sha(kpath) == entry.sha:
        return kpath  # this very version (a shipped model's own file, or one this server wrote)
    data = _guard(lambda: blobs.get(dbm.database(), entry.sha))
    if data is None:
        raise StoreError(_("No saved model named '{name}'.", name=entry.name))
    whole = _guard(lambda: index.model(entry.name, detail=True))
    _write_cache(entry.folder, entry.name, data, whole.meta if whole else entry.meta, entry.sha)
    return kpath

_file_shas: dict[tuple[str, int, int], str] = {}


def _file_sha(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and modification time stay the same."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _file_shas:
        _file_shas[key] = blobs.digest(path.read_bytes())
    return _file_shas[key]


def _write_cache(folder: Path, name: str, data: bytes, meta: dict[str, Any], sha: str) -> None:
    """This server's copy of a model's files, each put in place by a rename (never half a file)."""
    kpath, jpath = paths(name, folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp_k = _write_temp(folder, ".keras", lambda p: p.write_bytes(data))
        tmp_j = _write_temp(folder, ".json", lambda p: p.write_text(json.dumps({**meta, "file_sha256": sha}, indent=1,
                                                                               default=_json_default)))
        os.replace(tmp_k, kpath)
        os.replace(tmp_j, jpath)
    except OSError as e:
        raise StoreError(_("The model '{name}' cannot be written to {folder} on this server ({why}).", name=name,
                           folder=folder, why=e.strerror or e)) from None


def _write_temp(folder: Path, suffix: str, write) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # saved models are shared on purpose (mkstemp makes them private)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def save_model(model, name: str, meta: dict[str, Any], *, overwrite: bool = False,
               folder: Path | None = None, actor: Actor | None = None, half: bool = False) -> ModelEntry:
    """Save a Keras model and its metadata in one transaction; refuse an existing name unless ``overwrite`` (and
    then only when ``actor`` may change the model there). ``half`` stores the weights as float16
    (:func:`halve_weights`), for the models shipped in the repository."""
    folder = folder or models_dir()
    name = validate_name(name)
    if exists(name, folder) and not overwrite:
        raise StoreError(_("A model named '{name}' already exists. Choose another name.", name=name))
    meta = {**meta, "name": name, "saved": time.strftime("%Y-%m-%d %H:%M:%S")}
    if half:
        meta["weights_stored_as"] = "float16"

    def write_keras(p: Path) -> None:
        portable(model).save(p)  # float32, Keras' own layers, no optimizer: it opens anywhere
        if half:
            halve_weights(p)

    with tempfile.TemporaryDirectory(prefix="cnnlab-save-") as tmp:  # the slow part, outside the transaction
        write_keras(Path(tmp) / "model.keras")
        data = (Path(tmp) / "model.keras").read_bytes()

    def commit() -> None:
        with dbm.database().transaction(f"model:{name}") as tx:  # the check and the write, one step for the class
            existing = index.live(tx, name)
            if existing is not None and not overwrite:
                raise StoreError(_("A model named '{name}' already exists. Choose another name.", name=name))
            if existing is not None and actor is not None:
                if existing.meta.get("shipped"):
                    raise StoreError(_("'{name}' ships with CNN Lab and cannot be replaced. Choose another name.",
                                       name=name))
                if not actor.may_change(existing.meta):
                    raise StoreError(_("'{name}' is {owner_words} model: you can replace only models you saved. "
                                       "Choose another name, or ask your teacher.",
                                       name=name, owner_words=owner_words(existing.meta)))
            index.put_model(tx, name, meta, data)

    _guard(commit)
    entry = get(name, folder)
    with contextlib.suppress(StoreError):  # the class has the model; this server's copy is written when first used
        _write_cache(folder, name, data, meta, entry.sha)
    return entry


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(_("not JSON serialisable: {name}", name=type(o).__name__))


def read_meta(name: str, folder: Path | None = None) -> dict[str, Any]:
    """A saved model's whole metadata (StoreError when there is no such model)."""
    return get(name, folder, detail=True).meta


def delete_model(name: str, folder: Path | None = None, actor: Actor | None = None) -> None:
    """Delete a saved model for the whole class (shipped models are protected; a session may delete only its
    own), in one transaction; then this server's copy of its files."""
    folder = folder or models_dir()
    name = validate_name(name)
    import_folder(folder)

    def commit() -> None:
        with dbm.database().transaction(f"model:{name}") as tx:
            existing = index.live(tx, name)
            if existing is None:
                raise StoreError(_("No saved model named '{name}'.", name=name))
            meta = existing.meta
            if meta.get("shipped"):
                raise StoreError(_("'{name}' ships with CNN Lab and cannot be deleted here.", name=name))
            if actor is not None and not actor.may_change(meta):
                raise StoreError(_("'{name}' is {owner_words} model: you can delete only models you saved. Ask "
                                   "your teacher.", name=name, owner_words=owner_words(meta)))
            index.remove_model(tx, name, "teacher" if actor is not None and actor.teacher and not (
                isinstance(meta.get("owner"), str) and meta.get("owner") == actor.owner) else "owner")

    _guard(commit)
    for path in paths(name, folder):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def load_model(name: str, folder: Path | None = None):
    """Load a saved model by name (safe mode), from this server's copy of the class's file."""
    return load_keras_file(get(name, folder).path)

