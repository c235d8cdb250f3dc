"""Content-addressed bytes in the class database: a saved model's file, a dataset's images.

A blob is stored once under the SHA-256 of its content, whatever rows name it, and goes when no row
names it any more (:func:`release`). Writing one is part of the caller's transaction, so a save is
whole or absent. Every server reads the same bytes: no shared folder between hosts.
"""
from __future__ import annotations

import hashlib

from cnn.db import Database, Transaction


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(tx: Transaction, data: bytes) -> str:
    """Store ``data`` (once) inside the transaction ``tx``; returns its SHA-256."""
    sha = digest(data)
    tx.execute("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
               (sha, len(data), data))
    return sha


def get(db: Database, sha: str) -> bytes | None:
    """The bytes stored under ``sha``, checked against it; None when there are none (or they are damaged)."""
    rows = db.query("SELECT data FROM blobs WHERE sha256 = ?", (sha,))
    if not rows:
        return None
    data = bytes(rows[0]["data"])
    return data if digest(data) == sha else None


def release(tx: Transaction, sha: str | None) -> None:
    """Remove the blob ``sha`` if no model names it any more (inside ``tx``)."""
    if sha:
        tx.execute("DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM models WHERE blob = ?)",
                   (sha, sha))
