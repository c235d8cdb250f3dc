"""The class database on SQLite and on a real PostgreSQL server: schema, transactions, bad files."""
from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from cnn import db, store


def test_schema_is_created_once_and_versioned(database):
    assert database.schema_version() == db.SCHEMA_VERSION
    again = db.Database(database.url)  # a second server opening the same database
    try:
        assert again.schema_version() == db.SCHEMA_VERSION
        assert {"identities", "runs", "models", "challenge"} <= _tables(again)
    finally:
        again.close()


def _tables(d: db.Database) -> set[str]:
    if d.kind == "sqlite":
        return {r["name"] for r in d.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {r["table_name"] for r in d.query("SELECT table_name FROM information_schema.tables WHERE "
                                             "table_schema = 'public'")}


def test_read_then_write_transactions_never_interleave(database):
    """8 threads each add 1 to a counter 25 times, reading then writing: no increment is lost."""
    database.execute("INSERT INTO settings (key, value) VALUES ('counter', '0')")

    def bump() -> None:
        for _ in range(25):
            with database.transaction() as tx:
                n = int(tx.one("SELECT value FROM settings WHERE key = 'counter'")["value"])
                tx.set_setting("counter", str(n + 1))

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert database.query("SELECT value FROM settings WHERE key = 'counter'")[0]["value"] == "200"


def test_a_failed_transaction_changes_nothing(database):
    with pytest.raises(RuntimeError), database.transaction() as tx:
        tx.set_setting("half", "done")
        raise RuntimeError("boom")
    assert database.query("SELECT * FROM settings WHERE key = 'half'") == []


def test_a_newer_schema_is_refused_with_a_message(tmp_path):
    d = db.Database(f"sqlite:///{tmp_path / 'x.db'}")
    d.execute("UPDATE settings SET value = '99' WHERE key = 'schema_version'")
    d.close()
    with pytest.raises(db.DatabaseError, match="newer CNN Lab"):
        db.Database(f"sqlite:///{tmp_path / 'x.db'}")


def test_a_corrupt_database_file_is_one_clear_message(tmp_path):
    path = tmp_path / "cnnlab.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(db.DatabaseError, match="cannot be used") as e:
        db.Database(f"sqlite:///{path}")
    assert "move that file away" in str(e.value)
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only files")
def test_a_read_only_database_file_is_one_clear_message(tmp_path):  # pragma: no cover - CI runs as root
    db.Database(f"sqlite:///{tmp_path / 'ro.db'}").close()
    os.chmod(tmp_path / "ro.db", 0o444)
    os.chmod(tmp_path, 0o555)
    try:
        with pytest.raises(db.DatabaseError, match="cannot be used"):
            db.Database(f"sqlite:///{tmp_path / 'ro.db'}").execute("DELETE FROM runs")
    finally:
        os.chmod(tmp_path, 0o755)


def test_a_database_locked_by_another_writer_is_one_clear_message(tmp_path):
    path = tmp_path / "locked.db"
    db.Database(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(db.DatabaseError, match="locked"):
            db.Database(f"sqlite:///{path}", busy_timeout_s=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_bad_urls_say_what_is_expected(monkeypatch):
    with pytest.raises(db.DatabaseError, match="neither sqlite"):
        db.Database("mysql://x")
    with pytest.raises(db.DatabaseError, match="Cannot connect") as e:
        db.Database("postgresql://u:secret@127.0.0.1:1/nothing")
    assert "secret" not in str(e.value)


def test_models_and_datasets_saved_before_the_database_are_indexed_once(database, models_dir, tmp_path):
    from cnn import index

    user = tmp_path / "user"
    (user / "shapes").mkdir(parents=True)
    (user / "shapes" / "dataset.json").write_text('{"name": "shapes", "classes": ["a", "b"], "owner": "o1", '
                                                  '"owner_name": "Ana"}')
    n = index.import_existing(database, models_dir, user)
    assert n == 4  # the three shipped models and the dataset
    assert {r["name"] for r in database.query("SELECT name FROM models")} == {"mnist", "fashion_mnist", "cifar10"}
    assert database.query("SELECT owner_name FROM datasets WHERE name = 'shapes'")[0]["owner_name"] == "Ana"
    assert index.import_existing(database, models_dir, user) == 0  # once
    assert len(store.list_models(models_dir)) == 3  # the files are untouched
