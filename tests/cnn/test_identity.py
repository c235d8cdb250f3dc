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
    row = database.query("SELECT expires, signature FROM teacher_grants WHERE identity = ?", (teacher.id,))[0]
    database.execute("INSERT INTO teacher_grants (identity, expires, signature) VALUES (?, ?, ?)",
                     (student.id, row["expires"], row["signature"]))
    assert identity.teacher_until(database, student.id, "owl") is None
    identity.revoke_teacher(database, teacher.id)
    assert identity.teacher_until(database, teacher.id, "owl") is None
    identity.grant_teacher(database, teacher.id, "owl", hours=-1)
    assert identity.teacher_until(database, teacher.id, "owl") is None  # expired
