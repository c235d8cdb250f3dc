"""A throw-away PostgreSQL server on a loopback port, for the database tests and benchmarks.

Uses Debian's ``postgresql`` package (``.ci/run`` installs it): ``initdb`` and ``pg_ctl`` run as the
``postgres`` user (PostgreSQL refuses root) in a temporary folder, trust authentication on
127.0.0.1 only. ``$CNN_TEST_POSTGRES_URL`` names an existing server instead.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), "")
    if not found:
        raise PostgresUnavailable(f"{name} not found (apt-get install -y postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A PostgreSQL server of its own, in a temporary folder: ``url``, and ``stop()``/``start()`` for outages."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") \
                    from None
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.tmp = Path(tempfile.mkdtemp(prefix="cnnlab-pg-"))
        os.chmod(self.tmp, 0o777)
        self.data, self.port = self.tmp / "data", _free_port()
        self.url = f"postgresql://cnnlab@127.0.0.1:{self.port}/postgres"
        try:
            subprocess.run([*self.as_user, self.initdb, "-D", str(self.data), "-U", "cnnlab", "--auth=trust", "-E",
                            "UTF8"], check=True, capture_output=True, timeout=120)
            self.start()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, PostgresUnavailable) as e:
            detail = getattr(e, "stderr", b"") or b""
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise PostgresUnavailable(f"could not start PostgreSQL: {e} {detail.decode(errors='replace')[-300:]}") \
                from None

    def start(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.data), "-l", str(self.tmp / "log"), "-w", "-t",
                        "60", "-o", f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=90)
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise PostgresUnavailable("PostgreSQL started but does not answer")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: its connections are cut, as when it is shut down or its host goes away)."""
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", mode, "stop"], capture_output=True,
                       timeout=60, check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def postgres_instance() -> Iterator[Server]:
    """A server of its own (that a test may stop and start again); stopped and removed afterwards."""
    server = Server()
    try:
        yield server
    finally:
        server.remove()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a fresh, empty database; the server is stopped and removed afterwards."""
    given = os.environ.get("CNN_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with postgres_instance() as server:
        yield server.url


def fresh_database(url: str) -> str:
    """A new empty database on that server (one per test), as a URL."""
    import psycopg

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def unavailable(e: Exception) -> None:
    """A test that needs PostgreSQL and cannot have it: skipped on a developer's machine, failed in CI (CI=true),
    which installs it."""
    from needs import missing

    missing(f"PostgreSQL could not start: {e}")
