"""Who is who in a class without accounts: a random token per browser, and the teacher's grant.

A browser keeps a random, unguessable token (a cookie the app sets; never in a URL). The server
keeps only the token's SHA-256, mapped to an identity id that owns the student's name, runs,
models and datasets, so a reload, a new tab or a server restart re-attaches all of it. A token
the database does not know (forged, tampered, from another class) gets a new identity, never
someone else's. Teacher mode is a grant bound to one identity: an expiry and an HMAC of both,
keyed by the teacher passphrase, so changing the passphrase revokes every grant at once.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from cnn.db import Database

COOKIE = "cnnlab_id"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
GRANT_HOURS = 10.0  # a school day
SEEN_EVERY_S = 600.0  # how often "last seen" is written for an identity that keeps coming back


@dataclass(frozen=True)
class Identity:
    """One browser's identity: ``id`` owns runs, models and datasets; ``name`` is what the teacher sees."""

    id: str
    name: str = ""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Database) -> tuple[Identity, str]:
    """A new identity and the token its browser keeps (shown to nobody, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    ident = Identity(secrets.token_hex(12))
    now = time.time()
    db.execute("INSERT INTO identities (id, token_hash, name, created, seen) VALUES (?, ?, '', ?, ?)",
               (ident.id, _hash(token), now, now))
    return ident, token


def attach(db: Database, token: str | None) -> Identity | None:
    """The identity a browser's token belongs to; None for a missing, malformed or unknown token."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    rows = db.query("SELECT id, name, seen FROM identities WHERE token_hash = ?", (_hash(token),))
    if not rows:
        return None
    row = rows[0]
    if time.time() - float(row["seen"]) > SEEN_EVERY_S:
        db.execute("UPDATE identities SET seen = ? WHERE id = ?", (time.time(), row["id"]))
    return Identity(row["id"], row["name"])


def set_name(db: Database, identity_id: str, name: str) -> None:
    """Record the (already validated) display name; the runs still listed under the old name follow it."""
    with db.transaction() as tx:
        tx.execute("UPDATE identities SET name = ? WHERE id = ?", (name, identity_id))
        tx.execute("UPDATE runs SET owner_name = ? WHERE owner = ?", (name, identity_id))


def name_of(db: Database, identity_id: str) -> str:
    rows = db.query("SELECT name FROM identities WHERE id = ?", (identity_id,))
    return rows[0]["name"] if rows else ""


# ---------------------------------------------------------------- teacher grants


def _signature(passphrase: str, identity_id: str, expires: float) -> str:
    return hmac.new(passphrase.encode(), f"teacher|{identity_id}|{expires:.0f}".encode(), hashlib.sha256).hexdigest()


def grant_teacher(db: Database, identity_id: str, passphrase: str, hours: float = GRANT_HOURS) -> float:
    """Teacher mode for this identity until the returned time (after the passphrase was checked)."""
    expires = float(round(time.time() + hours * 3600))
    with db.transaction() as tx:
        tx.execute("INSERT INTO teacher_grants (identity, expires, signature) VALUES (?, ?, ?) ON CONFLICT (identity) "
                   "DO UPDATE SET expires = excluded.expires, signature = excluded.signature",
                   (identity_id, expires, _signature(passphrase, identity_id, expires)))
    return expires


def teacher_until(db: Database, identity_id: str, passphrase: str) -> float | None:
    """When this identity's teacher grant expires; None without a valid one (expired, revoked, other passphrase)."""
    if not passphrase:
        return None
    rows = db.query("SELECT expires, signature FROM teacher_grants WHERE identity = ?", (identity_id,))
    if not rows:
        return None
    expires, signature = float(rows[0]["expires"]), str(rows[0]["signature"])
    if expires <= time.time():
        return None
    if not hmac.compare_digest(signature, _signature(passphrase, identity_id, expires)):
        return None  # signed with an older passphrase: changing it revokes every grant
    return expires


def revoke_teacher(db: Database, identity_id: str) -> None:
    """"Leave": this identity's grant ends now."""
    db.execute("DELETE FROM teacher_grants WHERE identity = ?", (identity_id,))
