"""Identities and teacher grants, on SQLite and PostgreSQL."""
from __future__ import annotations

import time

from cnn import identity


def test_a_token_finds_its_identity_and_nothing_else_does(database):
    ana, token = identity.create(database)
    identity.set_name(database, ana.id, "Ana")
    assert identity.attach(database, token) == identity.Identity(ana.id, "Ana")
    ben, ben_token = identity.create(database)
    assert ben.id != ana.id and ben_token != token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "", None, "x" * 40, token + "'; DROP TABLE identities; --", "../" * 20):
        assert identity.attach(database, bad) is None
    assert identity.attach(database, token).id == ana.id  # still there after the attempts


def test_only_the_token_hash_is_stored(database):
    _, token = identity.create(database)
    stored = database.query("SELECT * FROM identities")
    assert token not in repr(stored)


def test_a_teacher_grant_is_bound_to_its_identity_expires_and_dies_with_the_passphrase(database):
    teacher, _ = identity.create(database)
    student, _ = identity.create(database)
    assert identity.teacher_until(database, teacher.id, "owl") is None
    until = identity.grant_teacher(database, teacher.id, "owl", hours=10)
    assert until > time.time() + 9 * 3600
    assert identity.teacher_until(database, teacher.id, "owl") == until
    assert identity.teacher_until(database, student.id, "owl") is None  # bound to one identity
    assert identity.teacher_until(database, teacher.id, "new passphrase") is None  # a new passphrase revokes
    assert identity.teacher_until(database, teacher.id, "") is None  # no passphrase: no teacher mode
    # a grant copied onto another identity does not verify
    row = database.query("SELECT key_id, expires, signature FROM teacher_grants WHERE identity = ?", (teacher.id,))[0]
    database.execute("INSERT INTO teacher_grants (identity, key_id, expires, signature) VALUES (?, ?, ?, ?)",
                     (student.id, row["key_id"], row["expires"], row["signature"]))
    assert identity.teacher_until(database, student.id, "owl") is None
    identity.revoke_teacher(database, teacher.id)
    assert identity.teacher_until(database, teacher.id, "owl") is None
    identity.grant_teacher(database, teacher.id, "owl", hours=-1)
    assert identity.teacher_until(database, teacher.id, "owl") is None  # expired


def test_a_copy_of_the_database_holds_nothing_to_try_passphrases_against(database, monkeypatch):
    """Grants are signed with the server's key, which the database never holds: neither the passphrase nor the key
    can be found in it, and a grant signed with the passphrase alone (what an attacker could compute) fails."""
    import hashlib
    import hmac

    monkeypatch.setenv("CNN_SECRET_KEY", "k" * 64)
    teacher, _ = identity.create(database)
    identity.grant_teacher(database, teacher.id, "owl")
    dump = repr([database.query(f"SELECT * FROM {t}") for t in ("teacher_grants", "settings", "identities")])
    assert "owl" not in dump and "k" * 64 not in dump
    row = database.query("SELECT expires FROM teacher_grants WHERE identity = ?", (teacher.id,))[0]
    guess = hmac.new(b"owl", f"teacher|{teacher.id}|{row['expires']:.0f}".encode(), hashlib.sha256).hexdigest()
    database.execute("UPDATE teacher_grants SET signature = ? WHERE identity = ?", (guess, teacher.id))
    assert identity.teacher_until(database, teacher.id, "owl") is None


def test_servers_sharing_a_key_share_grants_and_a_new_key_needs_a_new_grant(database, monkeypatch):
    teacher, _ = identity.create(database)
    monkeypatch.setenv("CNN_SECRET_KEY", "a" * 64)
    until = identity.grant_teacher(database, teacher.id, "owl")
    assert identity.teacher_until(database, teacher.id, "owl") == until  # any server with key a
    monkeypatch.setenv("CNN_SECRET_KEY", "b" * 64)
    assert identity.teacher_until(database, teacher.id, "owl") is None  # a server given another key
    identity.grant_teacher(database, teacher.id, "owl")
    monkeypatch.setenv("CNN_SECRET_KEY", "a" * 64)
    assert identity.teacher_until(database, teacher.id, "owl") == until  # its grant did not undo key a's
    identity.revoke_teacher(database, teacher.id)  # Leave: on every server
    assert identity.teacher_until(database, teacher.id, "owl") is None


def test_without_a_configured_key_one_is_made_once_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_SECRET_KEY", raising=False)
    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path / "data"))
    key = identity.server_key()
    assert len(key) >= 32 and identity.server_key() == key
    path = tmp_path / "data" / identity.KEY_FILE
    assert path.read_text().strip().encode() == key and (path.stat().st_mode & 0o777) == 0o600


def test_the_language_picked_is_kept_with_the_identity(database):
    ana, _ = identity.create(database)
    assert identity.language_of(database, ana.id) == ""
    identity.set_language(database, ana.id, "de")
    assert identity.language_of(database, ana.id) == "de"
    assert identity.language_of(database, "nobody") == ""


def test_page_runs_and_servers_starting_at_once_all_read_the_one_key(tmp_path):
    """The key file was created, then written: a second caller could read it still empty (or fail to create its
    own) and sign grants for the rest of its life with a random key of its own."""
    import concurrent.futures
    import subprocess
    import sys

    from conftest import ROOT

    path = tmp_path / "fresh" / identity.KEY_FILE
    with concurrent.futures.ThreadPoolExecutor(16) as pool:  # one server's page runs
        keys = set(pool.map(lambda _: identity._file_key.__wrapped__(path), range(64)))
    assert keys == {path.read_text().strip().encode()}
    other = tmp_path / "two-servers" / identity.KEY_FILE
    read = ("from pathlib import Path; from cnn import identity; "
            f"print(identity._file_key(Path({str(other)!r})).decode())")
    servers = [subprocess.Popen([sys.executable, "-c", read], cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for _ in range(4)]  # servers starting at once
    keys = {p.communicate(timeout=60)[0].strip().encode() for p in servers}
    assert keys == {other.read_text().strip().encode()} and len(other.read_text().strip()) == 64
    assert sorted(p.name for p in other.parent.iterdir()) == [identity.KEY_FILE]  # no temporary file left
