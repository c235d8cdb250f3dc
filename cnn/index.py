"""The class database's rows of saved models, with their files (as blobs).

The database is the truth for models: who saved one, its metadata and its ``.keras`` bytes (:mod:`cnn.blobs`).
:mod:`cnn.store` keeps a local copy of each file only as a cache. A deleted model keeps its row (without
its file), so a student can be told "deleted by your teacher". Models on disk before the database held
them are imported once per database and folder (:func:`import_existing`).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn import blobs
from cnn import db as dbm

DETAIL_KEYS = ("batch_history",)  # large, read only with one model (never in listings)


@dataclass(frozen=True)
class ModelRow:
    """A saved model as the class database holds it."""

    name: str
    owner: str
    owner_name: str
    dataset: str
    meta: dict[str, Any]
    saved: float  # when it was saved (the database's clock): changes with every replacement
    blob: str  # SHA-256 of its .keras file


def _db() -> dbm.Database:
    return dbm.database()


def _row(r: dict[str, Any], detail: dict[str, Any] | None = None) -> ModelRow:
    meta = {**dbm.loads(r["meta"], {}), **(detail or {})}
    return ModelRow(r["name"], r["owner"], r["owner_name"], r["dataset"], meta, float(r["saved"]), r["blob"])


def models(database: dbm.Database | None = None) -> list[ModelRow]:
    """Every saved model of the class (not the deleted ones), without their large metadata."""
    rows = (database or _db()).query("SELECT name, owner, owner_name, dataset, meta, saved, blob FROM models WHERE "
                                     "blob IS NOT NULL AND deleted IS NULL")
    return [_row(r) for r in rows]


def model(name: str, database: dbm.Database | None = None, detail: bool = False) -> ModelRow | None:
    """One saved model (None when there is none by that name), with its whole metadata when ``detail``."""
    columns = "name, owner, owner_name, dataset, meta, saved, blob" + (", detail" if detail else "")
    rows = (database or _db()).query(f"SELECT {columns} FROM models WHERE name = ? AND blob IS NOT NULL AND "
                                     "deleted IS NULL", (name,))
    if not rows:
        return None
    return _row(rows[0], dbm.loads(rows[0]["detail"], {}) if detail else None)


def live(tx: dbm.Transaction, name: str) -> ModelRow | None:
    """The saved model ``name`` inside a transaction (for a check then a write)."""
    r = tx.one("SELECT name, owner, owner_name, dataset, meta, saved, blob FROM models WHERE name = ? AND blob IS NOT "
               "NULL AND deleted IS NULL", (name,))
    return _row(r) if r else None


def put_model(tx: dbm.Transaction, name: str, meta: dict[str, Any], data: bytes, saved: float | None = None) -> str:
    """Save (or replace) the model ``name``: its file and its row, in ``tx``; returns the file's SHA-256."""
    old = tx.one("SELECT blob FROM models WHERE name = ?", (name,))
    sha = blobs.put(tx, data)
    slim = {k: v for k, v in meta.items() if k not in DETAIL_KEYS}
    detail = {k: v for k, v in meta.items() if k in DETAIL_KEYS}
    tx.execute("INSERT INTO models (name, owner, owner_name, dataset, meta, detail, saved, blob, deleted, deleted_by) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, '') ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
               "owner_name = excluded.owner_name, dataset = excluded.dataset, meta = excluded.meta, detail = "
               "excluded.detail, saved = excluded.saved, blob = excluded.blob, deleted = NULL, deleted_by = ''",
               (name, str(meta.get("owner") or ""), str(meta.get("owner_name") or ""), str(meta.get("dataset") or ""),
                dbm.dumps(slim), dbm.dumps(detail), tx.now() if saved is None else saved, sha))
    if old and old["blob"] != sha:
        blobs.release(tx, old["blob"])
    return sha


def remove_model(tx: dbm.Transaction, name: str, by: str) -> None:
    """A model was deleted, by its ``"owner"`` or by the ``"teacher"``: its file goes, its row says who."""
    old = tx.one("SELECT blob FROM models WHERE name = ?", (name,))
    tx.execute("UPDATE models SET deleted = ?, deleted_by = ?, blob = NULL WHERE name = ?", (tx.now(), by, name))
    if old:
        blobs.release(tx, old["blob"])


def model_status(name: str) -> dict[str, Any] | None:
    """{"owner", "deleted", "deleted_by"} of a model the class has known, or None."""
    rows = _db().query("SELECT owner, deleted, deleted_by FROM models WHERE name = ?", (name,))
    return rows[0] if rows else None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file; None when it is missing, unreadable or not an object (never raises)."""
    try:
        meta = json.loads(path.read_text())
        return meta if isinstance(meta, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def import_existing(database: dbm.Database, models_folder: Path, names_ok=None) -> int:
    """Bring every model file already on disk that the database does not know into it, with its file; returns how
    many. Once per database and folder (remembered in ``settings``), in one transaction. ``names_ok`` tells a
    model file name CNN Lab would have written."""
    key = f"imported:{models_folder.resolve()}"
    n = 0
    if database.query("SELECT 1 AS done FROM settings WHERE key = ?", (key,)):
        return 0
    with database.transaction("import") as tx:
        if tx.one("SELECT value FROM settings WHERE key = ?", (key,)):
            return 0
        # rows with a file, or of a deleted model; a row from before files were kept here is completed from disk
        known = {r["name"] for r in tx.all("SELECT name FROM models WHERE blob IS NOT NULL OR deleted IS NOT NULL")}
        found = sorted(models_folder.glob("*.keras")) if models_folder.is_dir() else []
        for kpath in found:
            name, meta = kpath.stem, read_json(kpath.with_suffix(".json"))
            if name in known or meta is None or (names_ok is not None and not names_ok(name)):
                continue
            try:
                data = kpath.read_bytes()
            except OSError:
                continue
            meta.pop("file_sha256", None)
            put_model(tx, name, meta, data, saved=kpath.stat().st_mtime)
            n += 1
        tx.set_setting(key, time.strftime("%Y-%m-%d %H:%M:%S"))
    return n


def sync_shipped(database: dbm.Database, models_folder: Path) -> int:
    """The models that ship with this CNN Lab (``"shipped": true`` in their ``.json``) as its release has them: a
    newer release's file replaces the class's copy (never a student's model of that name); returns how many."""
    n = 0
    for jpath in sorted(models_folder.glob("*.json")) if models_folder.is_dir() else []:
        meta, kpath = read_json(jpath), jpath.with_suffix(".keras")
        if not meta or not meta.get("shipped") or not kpath.is_file():
            continue
        data = kpath.read_bytes()
        row = model(jpath.stem, database)
        if row is not None and (row.blob == blobs.digest(data) or not row.meta.get("shipped")):
            continue
        with database.transaction(f"model:{jpath.stem}") as tx:
            current = live(tx, jpath.stem)
            if current is None or current.meta.get("shipped"):
                meta.pop("file_sha256", None)
                put_model(tx, jpath.stem, meta, data, saved=kpath.stat().st_mtime)
                n += 1
    return n
