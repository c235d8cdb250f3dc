"""The class's database: identities, runs, the model and dataset index, the challenge.

SQLite by default (one file, ``data/cnnlab.db``; standard library, WAL mode, nothing to install),
PostgreSQL when ``CNN_DATABASE_URL`` names one (``postgresql://user:pass@host:port/db``, through
psycopg): the same SQL runs on both. Every change that reads then writes shared state is one
:meth:`Database.transaction` (``BEGIN IMMEDIATE`` in SQLite, a transaction-wide advisory lock in
PostgreSQL), so two app servers, or two sessions of one, never interleave such changes. The schema
is created by code and versioned (:data:`SCHEMA_VERSION`, upgrade steps in :data:`UPGRADES`).
Model weights stay ``.keras`` files; the database indexes them.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from cnn import settings
from cnn.i18n import _

SCHEMA_VERSION = 1
LOCK_ID = 7_311_042  # PostgreSQL advisory lock taken by every write transaction

# Portable SQL (SQLite and PostgreSQL): TEXT, INTEGER, DOUBLE PRECISION; JSON stored as TEXT.
SCHEMA_V1 = [
    """CREATE TABLE IF NOT EXISTS identities (
        id TEXT PRIMARY KEY, token_hash TEXT UNIQUE NOT NULL, name TEXT NOT NULL DEFAULT '',
        created DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS teacher_grants (
        identity TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL, signature TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, label TEXT UNIQUE NOT NULL, owner TEXT NOT NULL DEFAULT '',
        owner_name TEXT NOT NULL DEFAULT '', group_key TEXT NOT NULL DEFAULT '', dataset TEXT NOT NULL DEFAULT '',
        arch TEXT NOT NULL DEFAULT '', epochs INTEGER NOT NULL DEFAULT 0, config TEXT NOT NULL DEFAULT '{}',
        extra TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
        stop_reason TEXT, stop_request TEXT, worker TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '',
        submitted DOUBLE PRECISION NOT NULL, started DOUBLE PRECISION, ended DOUBLE PRECISION,
        updated DOUBLE PRECISION NOT NULL, progress TEXT NOT NULL DEFAULT '{}', history TEXT NOT NULL DEFAULT '{}',
        points TEXT NOT NULL DEFAULT '[]', result TEXT NOT NULL DEFAULT '{}', saved_as TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, submitted)",
    "CREATE INDEX IF NOT EXISTS runs_state ON runs (state, server)",
    """CREATE TABLE IF NOT EXISTS models (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        dataset TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '{}', saved DOUBLE PRECISION NOT NULL,
        deleted DOUBLE PRECISION, deleted_by TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS datasets (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        classes TEXT NOT NULL DEFAULT '[]', updated DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS challenge (
        id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, max_epochs INTEGER NOT NULL, max_params INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS servers (
        id TEXT PRIMARY KEY, host TEXT NOT NULL DEFAULT '', engine TEXT NOT NULL DEFAULT '',
        started DOUBLE PRECISION NOT NULL, beat DOUBLE PRECISION NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]
UPGRADES: dict[int, list[str]] = {1: SCHEMA_V1}  # version -> the statements that bring version-1 to it


class DatabaseError(RuntimeError):
    """The database cannot be opened or used; the message says why and what to do."""


def default_url() -> str:
    """``$CNN_DATABASE_URL``, or a SQLite file ``data/cnnlab.db`` in the project."""
    url = settings.value("CNN_DATABASE_URL")
    if url:
        return url
    root = Path(__file__).resolve().parent.parent
    return f"sqlite:///{root / 'data' / 'cnnlab.db'}"


def _describe(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    p = urlparse(url)
    if p.password:
        return url.replace(f":{p.password}@", ":***@")
    return url


class Database:
    """One database, one connection per thread. ``?`` placeholders in every statement."""

    def __init__(self, url: str | None = None, busy_timeout_s: float = 30.0):
        self.url = url or default_url()
        self.busy_timeout_s = busy_timeout_s  # how long a SQLite writer waits for another before giving up
        scheme = urlparse(self.url).scheme
        if scheme == "sqlite":
            self.kind = "sqlite"
            self.path = Path(self.url[len("sqlite:///"):]) if self.url.startswith("sqlite:///") else None
            if self.path is None or not str(self.path):
                raise DatabaseError(_("'{url}' is not a SQLite URL: write sqlite:////absolute/path/cnnlab.db.",
                                      url=self.url))
        elif scheme in ("postgresql", "postgres"):
            self.kind, self.path = "postgresql", None
        else:
            raise DatabaseError(_("CNN_DATABASE_URL '{describe}' is neither sqlite:///PATH nor "
                                  "postgresql://USER:PASSWORD@HOST:PORT/DATABASE.", describe=_describe(self.url)))
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"Database({_describe(self.url)!r})"

    # ------------------------------------------------------------ connections

    def _connect(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self.kind == "sqlite":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
                if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                    raise sqlite3.OperationalError(_("could not switch to WAL mode"))
                conn.execute("PRAGMA synchronous = NORMAL")
            except (sqlite3.Error, OSError) as e:
                raise DatabaseError(self._sqlite_message(e)) from None
        else:
            try:
                import psycopg
                from psycopg.rows import dict_row
            except ImportError:
                raise DatabaseError(_("CNN_DATABASE_URL names PostgreSQL, but psycopg is not installed: "
                                      "pip install 'psycopg[binary]'.")) from None
            try:
                conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)
            except psycopg.Error as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise DatabaseError(_("Cannot connect to the class database {describe}: {first}",
                                      describe=_describe(self.url), first=first)) from None
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _sqlite_message(self, e: BaseException) -> str:
        return (f"The class database {self.path} cannot be used ({e}). If it is locked, read-only or corrupt, stop "
                "CNN Lab, fix or move that file away (a new one is made at the next start; saved models are "
                "kept as files), or point CNN_DATABASE_URL elsewhere.")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgresql" else sql

    def close(self) -> None:
        """Close every connection this object opened (tests; the server keeps them)."""
        with self._lock:
            conns, self._connections = self._connections, []
        for c in conns:
            with contextlib.suppress(Exception):
                c.close()
        self._local = threading.local()

    # ------------------------------------------------------------ queries

    def query(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        """Rows of a read, as dicts (outside any transaction: a consistent snapshot of one statement)."""
        return self._run(lambda cur: cur.execute(self._sql(sql), tuple(params)).fetchall(), as_dicts=True)

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        """One write on its own (atomic by itself); returns the number of rows changed."""
        with self.transaction() as tx:
            return tx.execute(sql, params)

    def _run(self, fn, as_dicts: bool = False):
        conn = self._connect()
        try:
            if self.kind == "sqlite":
                rows = fn(conn)
                return [dict(r) for r in rows] if as_dicts else rows
            with conn.cursor() as cur:
                return fn(cur)
        except sqlite3.DatabaseError as e:
            raise DatabaseError(self._sqlite_message(e)) from None
        except Exception as e:
            if self.kind == "postgresql" and type(e).__module__.startswith("psycopg"):
                self._drop_connection()
                raise DatabaseError(_("The class database {where} failed: {e}", where=_describe(self.url),
                                      e=e)) from None
            raise

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: serialised with every other one (on every server), committed on success."""
        conn = self._connect()
        if self.kind == "sqlite":
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as e:
                raise DatabaseError(self._sqlite_message(e)) from None
            try:
                yield Transaction(self, conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as e:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise DatabaseError(self._sqlite_message(e)) from None
            return
        import psycopg

        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
                yield Transaction(self, cur)
        except psycopg.Error as e:
            self._drop_connection()
            raise DatabaseError(_("The class database {where} failed: {e}", where=_describe(self.url),
                                      e=e)) from None

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        rows = self.query("SELECT value FROM settings WHERE key = 'schema_version'")
        return int(rows[0]["value"]) if rows else 0

    def _ensure_schema(self) -> None:
        with self.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = tx.one("SELECT value FROM settings WHERE key = 'schema_version'")
            version = int(row["value"]) if row else 0
            if version > SCHEMA_VERSION:
                raise DatabaseError(_("The class database was made by a newer CNN Lab (schema {version}; this one "
                                      "knows {schema_version}). Update CNN Lab on this server.",
                                      version=version, schema_version=SCHEMA_VERSION))
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in UPGRADES[v]:
                    tx.execute(statement)
                tx.set_setting("schema_version", str(v))


class Transaction:
    """The statements of one :meth:`Database.transaction`."""

    def __init__(self, db: Database, cursor):
        self.db, self._cur = db, cursor

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        cur = self._cur.execute(self.db._sql(sql), tuple(params))
        return cur.rowcount

    def all(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        rows = self._cur.execute(self.db._sql(sql), tuple(params)).fetchall()
        return [dict(r) for r in rows]

    def one(self, sql: str, params: tuple | list = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                     "excluded.value", (key, value))


def dumps(value: Any) -> str:
    """JSON for a TEXT column (numpy numbers become plain ones; NaN stays NaN, which Python reads back)."""
    return json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o))


def loads(text: str | None, default: Any = None) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def database(url: str | None = None) -> Database:
    """The process's database for ``url`` (default :func:`default_url`), opened once and shared by threads."""
    url = url or default_url()
    with _shared_lock:
        db = _shared.get(url)
        if db is None:
            db = _shared[url] = Database(url)
        return db


def forget_shared() -> None:
    """Close and forget every shared database (tests that change CNN_DATABASE_URL)."""
    with _shared_lock:
        dbs = list(_shared.values())
        _shared.clear()
    for db in dbs:
        db.close()
