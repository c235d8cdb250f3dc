"""The class database on SQLite and on a real PostgreSQL server: schema and migrations, transactions and their
locks, the bounded pool, the database's clock, bad files and URLs, and passwords that never show."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from cnn import db, db_urls

LEGACY_V1 = Path(__file__).parent / "data" / "cnnlab_v1.sql"


def test_schema_is_created_once_and_versioned(database):
    assert database.schema_version() == db.head_revision()
    again = db.Database(database.url)  # a second server opening the same database
    try:
        assert again.schema_version() == db.head_revision()
        assert {"identities", "runs", "models", "challenge", "attempts", "alembic_version"} <= _tables(again)
    finally:
        again.close()


def _tables(d: db.Database) -> set[str]:
    if d.kind == "sqlite":
        return {r["name"] for r in d.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {r["table_name"] for r in d.query("SELECT table_name FROM information_schema.tables WHERE "
                                             "table_schema = 'public'")}


def test_a_database_made_before_alembic_upgrades_in_place(tmp_path):
    """A copy of the last schema CNN Lab made by hand: stamped as revision 0001, upgraded, every row kept."""
    path = tmp_path / "cnnlab.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_V1.read_text())
    d = db.Database(f"sqlite:///{path}")
    try:
        assert d.schema_version() == db.head_revision()
        assert d.query("SELECT name, language FROM identities") == [{"name": "Ana", "language": ""}]
        assert d.query("SELECT label, owner_name FROM runs") == [{"label": "mnist-fast", "owner_name": "Ana"}]
        assert d.query("SELECT owner FROM models WHERE name = 'ana-model'") == [{"owner": "id1"}]
        assert d.query("SELECT title FROM challenge") == [{"title": "Best digits"}]
        assert d.query("SELECT * FROM teacher_grants") == []  # grants keyed by the passphrase are gone
        assert d.query("SELECT value FROM settings WHERE key = 'schema_version'") == [{"value": db.LEGACY_MARK}]
    finally:
        d.close()


def test_read_then_write_transactions_on_one_lock_never_interleave(database):
    """8 threads each add 1 to a counter 25 times, reading then writing under one lock: no increment is lost."""
    database.execute("INSERT INTO settings (key, value) VALUES ('counter', '0')")

    def bump() -> None:
        for _ in range(25):
            with database.transaction("counter") as tx:
                n = int(tx.one("SELECT value FROM settings WHERE key = 'counter'")["value"])
                tx.set_setting("counter", str(n + 1))

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert database.query("SELECT value FROM settings WHERE key = 'counter'")[0]["value"] == "200"


def test_transactions_on_different_locks_do_not_wait_for_each_other(database):
    """PostgreSQL: while one student's transaction holds its lock, another student's commits (no class-wide lock)."""
    if database.kind == "sqlite":
        pytest.skip("SQLite has one writer at a time by design")
    other_done = threading.Event()

    def other() -> None:
        with database.transaction("student-b") as tx:
            tx.set_setting("b", "written")
        other_done.set()

    with database.transaction("student-a") as tx:
        tx.set_setting("a", "written")
        t = threading.Thread(target=other)
        t.start()
        assert other_done.wait(60), "a transaction on another lock waited for this one"
    t.join(60)
    assert {r["key"] for r in database.query("SELECT key FROM settings WHERE key IN ('a', 'b')")} == {"a", "b"}


def test_a_failed_transaction_changes_nothing(database):
    with pytest.raises(RuntimeError), database.transaction() as tx:
        tx.set_setting("half", "done")
        raise RuntimeError("boom")
    assert database.query("SELECT * FROM settings WHERE key = 'half'") == []


def test_a_question_mark_or_colon_inside_a_literal_is_text_not_a_parameter(database):
    rows = database.query("SELECT ? AS a, 'why? at 10:30' AS b, ? AS c", (1, "x:y"))
    assert rows == [{"a": 1, "b": "why? at 10:30", "c": "x:y"}]


def test_connections_stay_within_the_pool_whatever_the_threads(database):
    """120 threads (as Streamlit runs each page run on a new one) query at once: the pool never grows past its
    size, and on PostgreSQL the server sees no more backends than that."""
    small = db.Database(database.url, pool_size=3)
    barrier = threading.Barrier(40)
    errors: list[BaseException] = []

    def page_run() -> None:
        try:
            barrier.wait(30)
            small.query("SELECT 1 AS one")
            with small.transaction(f"t-{threading.get_ident()}") as tx:
                tx.one("SELECT 1 AS one")
        except BaseException as e:  # pragma: no cover - shown by the assert below
            errors.append(e)

    try:
        for _ in range(3):
            threads = [threading.Thread(target=page_run) for _ in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        assert errors == []
        assert small.pool_status()["open"] <= 3
        if small.kind == "postgresql":
            mine = database.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")[0]["n"]
            assert mine <= 3 + database.pool_status()["open"]
    finally:
        small.close()


def test_the_clock_is_the_databases(database, monkeypatch):
    """Servers compare times by the database's clock: a server whose own clock is off does not move it."""
    import time as time_module

    before = database.now()
    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 3600)
    assert abs(database.now() - before) < 60


def test_a_newer_schema_is_refused_with_a_message(tmp_path):
    d = db.Database(f"sqlite:///{tmp_path / 'x.db'}")
    d.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    d.close()
    with pytest.raises(db.DatabaseError, match="newer CNN Lab"):
        db.Database(f"sqlite:///{tmp_path / 'x.db'}")


def test_a_corrupt_database_file_is_one_clear_message(tmp_path):
    path = tmp_path / "cnnlab.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(db.DatabaseError, match="cannot be used") as e:
        db.Database(f"sqlite:///{path}")
    assert "restore it from a backup" in str(e.value) and "keep it" in str(e.value)
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


def test_bad_urls_say_what_is_expected():
    with pytest.raises(db.DatabaseError, match="neither sqlite"):
        db.Database("mysql://x")
    with pytest.raises(db.DatabaseError, match="Cannot connect") as e:
        db.Database("postgresql://u:secret@127.0.0.1:1/nothing")
    assert "secret" not in str(e.value)


# Every form of a database URL an admin may write with a password in it; the password is always "S3cr#t/pw".
SECRET_URLS = [
    "postgresql://ana:S3cr#t/pw@127.0.0.1:1/class",  # unencoded # and / in the password
    "postgresql://ana:S3cr%23t%2Fpw@127.0.0.1:1/class",  # percent-encoded, as it should be
    "postgresql//ana:S3cr#t/pw@127.0.0.1:1/class",  # a colon missing: not a URL at all
    "postgresql:/ana:S3cr#t/pw@127.0.0.1:1/class",
    "postgresql://ana@127.0.0.1:1/class?password=S3cr#t/pw",  # libpq's query form
    "postgresql://ana@127.0.0.1:1/class?sslmode=disable&password=S3cr%23t%2Fpw",
    "host=127.0.0.1 port=1 user=ana password=S3cr#t/pw dbname=class",  # libpq's key-value form
    "host=127.0.0.1 port=1 user=ana password='S3cr#t/pw' dbname=class",
    "postgres://:S3cr#t/pw@127.0.0.1:1/class",  # a password without a user
    "postgresql://ana:S3cr#t/pw@[::1:1/class",  # a broken host as well
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_no_form_of_a_url_puts_its_password_on_a_page_or_in_the_log(url, caplog):
    db.forget_logged()
    with caplog.at_level(logging.ERROR, logger="cnnlab.db"), pytest.raises(db.DatabaseError) as e:
        db.Database(url)
    shown = [str(e.value), db_urls.describe(url), repr(e.value), *(r.getMessage() for r in caplog.records)]
    for text in shown:
        for piece in ("S3cr#t/pw", "S3cr#t", "S3cr%23t", "t/pw", "S3cr"):
            assert piece not in text, (url, text)
    assert any("class database" in r.getMessage() or "CNN_DATABASE_URL" in r.getMessage()
               for r in caplog.records), "a bad setting is logged, server-side"


def test_a_bad_setting_is_logged_once(caplog):
    db.forget_logged()
    with caplog.at_level(logging.ERROR, logger="cnnlab.db"):
        for _ in range(3):
            with pytest.raises(db.DatabaseError):
                db.Database("mysql://u:pw@h/x")
    assert len([r for r in caplog.records if "neither sqlite" in r.getMessage()]) == 1


def test_models_saved_before_the_database_held_them_are_imported_once_with_their_files(database, models_dir):
    from cnn import blobs, index

    n = index.import_existing(database, models_dir)
    assert n == 3  # the three shipped models
    assert {r.name for r in index.models(database)} == {"mnist", "fashion_mnist", "cifar10"}
    row = index.model("mnist", database)
    assert blobs.get(database, row.blob) == (models_dir / "mnist.keras").read_bytes()
    assert index.model("mnist", database, detail=True).meta["batch_history"]  # the large part too, read with one
    assert "batch_history" not in row.meta
    assert index.import_existing(database, models_dir) == 0  # once
    assert len(list(models_dir.glob("*.keras"))) == 3  # the files are untouched


def test_a_fresh_install_makes_the_folder_of_its_sqlite_file(tmp_path):
    path = tmp_path / "not" / "yet" / "cnnlab.db"
    d = db.Database(f"sqlite:///{path}")
    try:
        assert d.schema_version() == db.head_revision() and path.is_file()
    finally:
        d.close()
