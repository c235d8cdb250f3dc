"""The class's database: identities, runs, the model and dataset index, the challenge, grants.

SQLite by default (one file, ``data/cnnlab.db``, WAL mode, nothing to install), PostgreSQL when
``CNN_DATABASE_URL`` names one, both through SQLAlchemy Core with a **bounded pool**
(``CNN_DB_POOL_SIZE`` connections per server, never more: a connection is borrowed for one query or
one transaction and given back, whichever thread asks). The schema is Alembic's
(``cnn/migrations``): a database made before Alembic (``settings.schema_version`` 1) is stamped and
upgraded in place. Statements use ``?`` placeholders (made bind parameters here, never by string
replace). A read-then-write is one :meth:`Database.transaction` that names what it locks: a
PostgreSQL transaction-level advisory lock per name, so different students never wait on each
other (SQLite has one writer at a time anyway: ``BEGIN IMMEDIATE``). Times that servers compare
come from the database's clock (:meth:`Database.now`), never from a host's. No message or log line
carries a password, whatever form the URL has (:mod:`cnn.db_urls`).
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from cnn import settings
from cnn.db_urls import describe, mask
from cnn.errors import LabError, first_line
from cnn.i18n import _

log = logging.getLogger("cnnlab.db")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LEGACY_VERSION = 1  # settings.schema_version of the databases made before Alembic (revision 0001)
LEGACY_MARK = "2"  # what settings.schema_version says from revision 0002 on: an older CNN Lab refuses the database
CONNECT_TIMEOUT_S = 5  # a page says the database cannot be reached within this (PostgreSQL)
POOL_TIMEOUT_S = 10.0  # how long a thread waits for a free pooled connection before the page says the database is busy


class DatabaseError(LabError, RuntimeError):
    """The database cannot be opened or used; the message says why and what to do (never with a password)."""


def default_url() -> str:
    """``$CNN_DATABASE_URL``, or a SQLite file ``data/cnnlab.db`` in the project."""
    url = settings.value("CNN_DATABASE_URL")
    if url:
        return url
    root = Path(__file__).resolve().parent.parent
    return f"sqlite:///{root / 'data' / 'cnnlab.db'}"


_logged: set[str] = set()
_logged_lock = threading.Lock()


def forget_logged() -> None:
    """Log every problem again from now on (tests)."""
    with _logged_lock:
        _logged.clear()


def log_once(message: str) -> None:
    """Log a database problem once per server (the server's log is where its admin looks), masked by the caller."""
    with _logged_lock:
        if message in _logged:
            return
        _logged.add(message)
    log.error("CNN Lab: %s", message)


def head_revision() -> str:
    """The Alembic revision this CNN Lab's schema is at (a database it opens is brought there)."""
    return _script()[1].get_current_head()


def _script():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config, ScriptDirectory.from_config(config)


# ---------------------------------------------------------------- statements


@functools.lru_cache(maxsize=512)
def _text(sql: str) -> sa.TextClause:
    """A ``?``-placeholder statement as SQLAlchemy text with bind parameters ``:p0, :p1...``; a ``?`` or ``:``
    inside a quoted literal stays a character."""
    out, n = [], 0
    for token in re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", sql):
        if token[:1] in ("'", '"'):
            out.append(token.replace(":", "\\:"))
            continue
        pieces = token.replace(":", "\\:").split("?")
        for i, piece in enumerate(pieces):
            if i:
                out.append(f":p{n}")
                n += 1
            out.append(piece)
    return sa.text("".join(out))


def _params(params: tuple | list) -> dict[str, Any]:
    return {f"p{i}": v for i, v in enumerate(params)}


def _rows(result) -> list[dict[str, Any]]:
    return [dict(r) for r in result.mappings().all()]


# ---------------------------------------------------------------- the database


class Database:
    """One class database and its bounded connection pool (shared by every thread of the server)."""

    def __init__(self, url: str | None = None, busy_timeout_s: float = 30.0, pool_size: int | None = None):
        self.url = url or default_url()
        self.busy_timeout_s = busy_timeout_s  # how long a SQLite writer waits for another before giving up
        self.pool_size = int(pool_size or settings.value("CNN_DB_POOL_SIZE"))
        scheme = self.url.split(":", 1)[0].split("+")[0].lower() if "://" in self.url else ""
        self.path: Path | None = None
        if scheme == "sqlite":
            self.kind = "sqlite"
            self.path = Path(self.url[len("sqlite:///"):]) if self.url.startswith("sqlite:///") else None
            if self.path is None or not str(self.path):
                raise self._refuse(_("'{url}' is not a SQLite URL: write sqlite:////absolute/path/cnnlab.db.",
                                     url=describe(self.url)))
        elif scheme in ("postgresql", "postgres"):
            self.kind = "postgresql"
        else:
            raise self._refuse(_("CNN_DATABASE_URL '{describe}' is neither sqlite:///PATH nor "
                                 "postgresql://USER:PASSWORD@HOST:PORT/DATABASE.", describe=describe(self.url)))
        self.engine = self._make_engine()
        try:
            self._migrate()
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Database({describe(self.url)!r})"

    def _refuse(self, message: str) -> DatabaseError:
        log_once(mask(message, self.url))
        return DatabaseError(mask(message, self.url))

    def _make_engine(self) -> sa.Engine:
        pool = dict(pool_size=self.pool_size, max_overflow=0, pool_timeout=POOL_TIMEOUT_S, pool_pre_ping=True)
        if self.kind == "sqlite":
            with contextlib.suppress(OSError):  # a fresh install has no data/ yet (a folder it cannot make: the
                self.path.parent.mkdir(parents=True, exist_ok=True)  # connection's error says so)
            engine = sa.create_engine(f"sqlite:///{self.path}", **pool,
                                      connect_args={"timeout": self.busy_timeout_s, "check_same_thread": False})
            busy_ms = int(self.busy_timeout_s * 1000)

            @event.listens_for(engine, "connect")
            def _sqlite_connect(dbapi_conn, _record) -> None:
                dbapi_conn.isolation_level = None  # transactions are begun below, not by the driver
                dbapi_conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
                if dbapi_conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                    raise sa.exc.OperationalError("PRAGMA journal_mode", {}, RuntimeError("could not switch to WAL"))
                dbapi_conn.execute("PRAGMA synchronous = NORMAL")

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

            return engine
        try:
            u = sa.engine.make_url(self.url).set(drivername="postgresql+psycopg")
        except Exception:
            raise self._refuse(_("CNN_DATABASE_URL '{describe}' cannot be read. Write it as "
                                 "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, with special characters of the "
                                 "password percent-encoded (/ as {slash}, # as {hash}, @ as {at}).",
                                 describe=describe(self.url), slash="%2F", hash="%23", at="%40")) from None
        try:
            return sa.create_engine(u, **pool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        except Exception as e:  # e.g. psycopg missing
            raise self._refuse(_("The class database {where} cannot be used: {e}", where=describe(self.url),
                                 e=first_line(e, 10_000))) from None

    # ------------------------------------------------------------ errors

    def _error(self, e: BaseException, connecting: bool = False) -> DatabaseError:
        """The one readable, password-free message for a failure of this database (logged once)."""
        first = first_line(getattr(e, "orig", None) or e, 10_000)
        if isinstance(e, sa.exc.TimeoutError):
            message = _("The class database {where} is busy: all {n} connections of this server stayed in use for "
                        "{s:.0f} s. Try again in a moment; if it keeps happening, raise CNN_DB_POOL_SIZE.",
                        where=describe(self.url), n=self.pool_size, s=POOL_TIMEOUT_S)
        elif self.kind == "sqlite":
            message = _sqlite_message(self.path, first)
        elif connecting or (isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated):
            message = _("Cannot connect to the class database {describe}: {first}", describe=describe(self.url),
                        first=first)
        else:
            message = _("The class database {where} failed: {e}", where=describe(self.url), e=first)
        message = mask(message, self.url)
        log_once(message)
        return DatabaseError(message)

    @contextlib.contextmanager
    def _connection(self, write: bool = False) -> Iterator[sa.Connection]:
        """A pooled connection for one query or transaction, given back at the end (rolled back if still open)."""
        try:
            conn = self.engine.connect()
        except sa.exc.SQLAlchemyError as e:
            raise self._error(e, connecting=True) from None
        try:
            if write:
                conn = conn.execution_options(write=True)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close every pooled connection (tests, a server's shutdown)."""
        self.engine.dispose()

    def pool_status(self) -> dict[str, int]:
        """{"size", "open", "in_use"}: the pool's bound, the connections it holds and how many are lent out."""
        pool = self.engine.pool
        return {"size": self.pool_size, "open": pool.checkedin() + pool.checkedout(), "in_use": pool.checkedout()}

    # ------------------------------------------------------------ statements

    def query(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        """Rows of a read, as dicts (one statement, a consistent snapshot)."""
        with self._connection() as conn:
            try:
                return _rows(conn.execute(_text(sql), _params(params)))
            except sa.exc.SQLAlchemyError as e:
                raise self._error(e) from None

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        """One write on its own (atomic by itself); returns the number of rows changed."""
        with self.transaction() as tx:
            return tx.execute(sql, params)

    @property
    def now_sql(self) -> str:
        """The database's clock as an SQL expression (seconds since 1970), to compare with inside a statement."""
        return _NOW_SQL[self.kind]

    def now(self) -> float:
        """The database's clock (seconds since 1970): the one clock every server of the class compares by."""
        with self._connection() as conn:
            try:
                return float(conn.execute(sa.text(_NOW[self.kind])).scalar_one())
            except sa.exc.SQLAlchemyError as e:
                raise self._error(e) from None

    @contextlib.contextmanager
    def transaction(self, *locks: str) -> Iterator[Transaction]:
        """A write transaction, committed on success and rolled back on any exception. ``locks`` name what it
        reads then writes ("run-label:ada", "passphrase"): transactions that name the same lock run one after
        another on every server; others never wait for each other (SQLite: one writer at a time anyway)."""
        with self._connection(write=True) as conn:
            try:
                conn.begin()
                if self.kind == "postgresql":
                    for key in sorted(set(locks)):
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
            except sa.exc.SQLAlchemyError as e:
                raise self._error(e) from None
            try:
                yield Transaction(self, conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise
            try:
                conn.commit()
            except sa.exc.SQLAlchemyError as e:
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise self._error(e) from None

    # ------------------------------------------------------------ schema

    def schema_version(self) -> str:
        """The Alembic revision this database is at."""
        rows = self.query("SELECT version_num FROM alembic_version")
        return str(rows[0]["version_num"]) if rows else ""

    def _migrate(self) -> None:
        """Bring the schema to Alembic's head, in one transaction (two servers starting at once take turns)."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        config, script = _script()
        with self.transaction("schema") as tx:
            conn = tx.connection
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None:
                try:
                    known = script.get_revision(current) is not None
                except Exception:
                    known = False
                if not known:
                    raise DatabaseError(_("The class database was made by a newer CNN Lab (schema {version}; this one "
                                          "knows {schema_version}). Update CNN Lab on this server.",
                                          version=current, schema_version=script.get_current_head()))
                if current == script.get_current_head():
                    return
            config.attributes["connection"] = conn
            if current is None and sa.inspect(conn).has_table("settings"):
                row = conn.execute(sa.text("SELECT value FROM settings WHERE key = 'schema_version'")).first()
                version = int(row[0]) if row else 0
                if version > LEGACY_VERSION:
                    raise DatabaseError(_("The class database was made by a newer CNN Lab (schema {version}; this one "
                                          "knows {schema_version}). Update CNN Lab on this server.",
                                          version=version, schema_version=script.get_current_head()))
                if version == LEGACY_VERSION:
                    command.stamp(config, "0001")  # made before Alembic: its tables are revision 0001's
            command.upgrade(config, "head")


class Transaction:
    """The statements of one :meth:`Database.transaction`."""

    def __init__(self, db: Database, connection: sa.Connection):
        self.db, self.connection = db, connection

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        try:
            return self.connection.execute(_text(sql), _params(params)).rowcount
        except sa.exc.SQLAlchemyError as e:
            raise self.db._error(e) from None

    def all(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        try:
            return _rows(self.connection.execute(_text(sql), _params(params)))
        except sa.exc.SQLAlchemyError as e:
            raise self.db._error(e) from None

    def one(self, sql: str, params: tuple | list = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    @property
    def now_sql(self) -> str:
        """The database's clock as an SQL expression (seconds since 1970), to compare with inside a statement."""
        return _NOW_SQL[self.kind]

    def now(self) -> float:
        """The database's clock, inside this transaction."""
        return float(self.all(_NOW[self.db.kind])[0]["now"])

    def set_setting(self, key: str, value: str) -> None:
        self.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                     "excluded.value", (key, value))


_NOW_SQL = {"sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
            "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"}
_NOW = {kind: f"SELECT {sql} AS now" for kind, sql in _NOW_SQL.items()}


def _sqlite_message(path: Path | None, first: str) -> str:
    return _("The class database {path} cannot be used ({e}). If it is locked, read-only or corrupt, stop CNN Lab "
             "and fix it or restore it from a backup (the class's saved models and datasets are in it: keep it), or "
             "point CNN_DATABASE_URL elsewhere.", path=path, e=first)


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
