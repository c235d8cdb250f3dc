"""Who is who in a class without accounts: a random token per browser, and the teacher's grant.

A browser keeps a random, unguessable token (a cookie the app sets; never in a URL). The server
keeps only the token's SHA-256, mapped to an identity id that owns the student's name, runs,
models and datasets, so a reload, a new tab or a server restart re-attaches all of it. A token
the database does not know (forged, tampered, from another class) gets a new identity, never
someone else's. Teacher mode is a grant bound to one identity: an expiry and an HMAC of both,
keyed by the teacher passphrase, so changing the passphrase revokes every grant at once.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cnn import settings
from cnn.db import Database

log = logging.getLogger("cnnlab.identity")
KEY_FILE = ".cnnlab-secret-key"

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


def set_language(db: Database, identity_id: str, code: str) -> None:
    """The language this identity picked: its other tabs, a reload and every server of the class speak it."""
    db.execute("UPDATE identities SET language = ? WHERE id = ?", (code, identity_id))


def language_of(db: Database, identity_id: str) -> str:
    """The language this identity picked ("" when it never picked one)."""
    rows = db.query("SELECT language FROM identities WHERE id = ?", (identity_id,))
    return str(rows[0]["language"] or "") if rows else ""


def name_of(db: Database, identity_id: str) -> str:
    rows = db.query("SELECT name FROM identities WHERE id = ?", (identity_id,))
    return rows[0]["name"] if rows else ""


# ---------------------------------------------------------------- teacher grants


def server_key() -> bytes:
    """The key that signs teacher grants: ``CNN_SECRET_KEY``, else a random key made once in the data folder (one
    server), else one for this process only (grants then end with it). Never stored in the database."""
    configured = settings.value("CNN_SECRET_KEY")
    if configured:
        return configured.encode()
    return _file_key(settings.value("CNN_DATA_DIR") / KEY_FILE)


_key_lock = threading.Lock()


@functools.cache
def _file_key(path: Path) -> bytes:
    """The key in ``path``, made there first if there is none. Made whole in a file of its own and linked into place
    (atomic): two page runs, or two servers, starting at once all read the one complete key. Before, the second
    could read the first's still empty file (or fail to create its own) and sign grants with a key of its own
    for the rest of the process: a teacher's grant then failed on the next page run that used the other key."""
    with _key_lock:
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
                try:
                    os.link(tmp, path)  # fails if another server linked its key first: that one is read below
                except FileExistsError:
                    pass
                finally:
                    tmp.unlink(missing_ok=True)
            key = path.read_text().strip()
            if len(key) >= 32:
                return key.encode()
        except OSError as e:
            log.error("CNN Lab: cannot keep a key for teacher grants in %s (%s): grants last until this server stops; "
                      "set CNN_SECRET_KEY.", path, e)
        return secrets.token_hex(32).encode()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"cnnlab-key-id|" + key).hexdigest()[:16]


def _signature(key: bytes, passphrase: str, identity_id: str, expires: float) -> str:
    # The passphrase enters only as a hash, under a key the database never holds: a copy of the database cannot be
    # used to try passphrases, and a new passphrase makes every older signature wrong.
    pass_hash = hashlib.sha256(b"cnnlab-passphrase|" + passphrase.encode()).hexdigest()
    return hmac.new(key, f"teacher|{identity_id}|{expires:.0f}|{pass_hash}".encode(), hashlib.sha256).hexdigest()


def grant_teacher(db: Database, identity_id: str, passphrase: str, hours: float = GRANT_HOURS) -> float:
    """Teacher mode for this identity until the returned time (after the passphrase was checked)."""
    key = server_key()
    with db.transaction() as tx:
        expires = float(round(tx.now() + hours * 3600))  # the database's clock: every server reads it the same
        tx.execute("INSERT INTO teacher_grants (identity, key_id, expires, signature) VALUES (?, ?, ?, ?) ON CONFLICT "
                   "(identity, key_id) DO UPDATE SET expires = excluded.expires, signature = excluded.signature",
                   (identity_id, _key_id(key), expires, _signature(key, passphrase, identity_id, expires)))
    return expires


def teacher_until(db: Database, identity_id: str, passphrase: str) -> float | None:
    """When this identity's teacher grant expires; None without a valid one (expired, revoked, other passphrase)."""
    if not passphrase:
        return None
    key = server_key()
    rows = db.query(f"SELECT expires, signature FROM teacher_grants WHERE identity = ? AND key_id = ? AND expires > "
                    f"{db.now_sql}", (identity_id, _key_id(key)))
    if not rows:
        return None
    expires, signature = float(rows[0]["expires"]), str(rows[0]["signature"])
    if not hmac.compare_digest(signature, _signature(key, passphrase, identity_id, expires)):
        return None  # signed under an older passphrase (changing it revokes every grant), or not by this class
    return expires


def revoke_teacher(db: Database, identity_id: str) -> None:
    """"Leave": this identity's grants end now, on every server."""
    db.execute("DELETE FROM teacher_grants WHERE identity = ?", (identity_id,))
