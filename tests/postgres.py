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


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a fresh, empty database; the server is stopped and removed afterwards."""
    given = os.environ.get("CNN_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    tmp = Path(tempfile.mkdtemp(prefix="cnnlab-pg-"))
    os.chmod(tmp, 0o777)
    data, port = tmp / "data", _free_port()
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-U", "cnnlab", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(tmp / "log"), "-w", "-t", "60", "-o",
                        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = getattr(e, "stderr", b"") or b""
        shutil.rmtree(tmp, ignore_errors=True)
        raise PostgresUnavailable(f"could not start PostgreSQL: {e} {detail.decode(errors='replace')[-300:]}") from None
    url = f"postgresql://cnnlab@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise PostgresUnavailable("PostgreSQL started but does not answer")
            time.sleep(0.1)
        yield url
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       timeout=60, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def fresh_database(url: str) -> str:
    """A new empty database on that server (one per test), as a URL."""
    import psycopg

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"
