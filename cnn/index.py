"""The class database's index of saved models and students' datasets (their files stay where they are).

:mod:`cnn.store` and :mod:`cnn.userdata` call in here inside their folder locks, so the index
changes with the files. The index remembers what files cannot: who saved a model that is gone,
and who deleted it ("deleted by your teacher"). On first start, models and datasets already on
disk are imported (:func:`import_existing`), so nothing saved before the database is lost.
A database that fails never stops a save: the files are the truth; the failure is logged.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from cnn import db as dbm

log = logging.getLogger("cnnlab.index")


def _db() -> dbm.Database:
    return dbm.database()


def _best_effort(fn) -> Any:
    try:
        return fn()
    except dbm.DatabaseError as e:
        log.error("CNN Lab: the class database could not be updated: %s", e)
        return None


def saved(name: str, meta: dict[str, Any]) -> None:
    """A model was saved (or replaced) under ``name``."""
    _best_effort(lambda: _db().execute(
        "INSERT INTO models (name, owner, owner_name, dataset, meta, saved, deleted, deleted_by) VALUES "
        "(?, ?, ?, ?, ?, ?, NULL, '') ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, owner_name = "
        "excluded.owner_name, dataset = excluded.dataset, meta = excluded.meta, saved = excluded.saved, "
        "deleted = NULL, deleted_by = ''",
        (name, str(meta.get("owner") or ""), str(meta.get("owner_name") or ""), str(meta.get("dataset") or ""),
         dbm.dumps({k: v for k, v in meta.items() if k not in ("batch_history", "spec")}), time.time())))


def deleted(name: str, by: str) -> None:
    """A model was deleted, by its ``"owner"`` or by the ``"teacher"``."""
    _best_effort(lambda: _db().execute("UPDATE models SET deleted = ?, deleted_by = ? WHERE name = ?",
                                       (time.time(), by, name)))


def model_status(name: str) -> dict[str, Any] | None:
    """{"owner", "deleted", "deleted_by"} of a model the class has known, or None."""
    rows = _best_effort(lambda: _db().query("SELECT owner, deleted, deleted_by FROM models WHERE name = ?", (name,)))
    return rows[0] if rows else None


def dataset_changed(name: str, meta: dict[str, Any]) -> None:
    """A student's dataset was made or its classes changed."""
    _best_effort(lambda: _db().execute(
        "INSERT INTO datasets (name, owner, owner_name, classes, updated) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) "
        "DO UPDATE SET owner = excluded.owner, owner_name = excluded.owner_name, classes = excluded.classes, "
        "updated = excluded.updated",
        (name, str(meta.get("owner") or ""), str(meta.get("owner_name") or ""), dbm.dumps(meta.get("classes", [])),
         time.time())))


def dataset_deleted(name: str) -> None:
    _best_effort(lambda: _db().execute("DELETE FROM datasets WHERE name = ?", (name,)))


def import_existing(database: dbm.Database, models: Path, user_data: Path) -> int:
    """Index every model and dataset already on disk that the database does not know; returns how many.

    Runs once per database and folder pair (remembered in ``settings``), in one transaction."""
    from cnn import store

    key = f"imported:{models.resolve()}|{user_data.resolve()}"
    n = 0
    with database.transaction("import") as tx:
        if tx.one("SELECT value FROM settings WHERE key = ?", (key,)):
            return 0
        known = {r["name"] for r in tx.all("SELECT name FROM models")}
        for e in store.list_models(models):
            if e.name not in known:
                m = e.meta
                tx.execute("INSERT INTO models (name, owner, owner_name, dataset, meta, saved, deleted_by) VALUES "
                           "(?, ?, ?, ?, ?, ?, '')", (e.name, str(m.get("owner") or ""), str(m.get("owner_name") or ""),
                                                     str(m.get("dataset") or ""), dbm.dumps(
                               {k: v for k, v in m.items() if k not in ("batch_history", "spec")}), e.mtime))
                n += 1
        known = {r["name"] for r in tx.all("SELECT name FROM datasets")}
        for meta_path in sorted(user_data.glob("*/dataset.json")) if user_data.is_dir() else []:
            meta = store.read_json(meta_path)
            name = meta_path.parent.name
            if meta is not None and name not in known and not name.startswith("."):
                tx.execute("INSERT INTO datasets (name, owner, owner_name, classes, updated) VALUES (?, ?, ?, ?, ?)",
                           (name, str(meta.get("owner") or ""), str(meta.get("owner_name") or ""),
                            dbm.dumps(meta.get("classes", [])), time.time()))
                n += 1
        tx.set_setting(key, time.strftime("%Y-%m-%d %H:%M:%S"))
    return n
