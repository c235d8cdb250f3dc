"""Every ``CNN_*`` setting of a server, defined once: name, kind, default, bounds and what it is for.

Values come from the environment and are read when used (so a test can set one), always through
:func:`value`, which checks them the same way everywhere. :func:`problems` checks them all at start-up:
the app shows one clear message for a bad value on every page, the command line prints it and exits.
:func:`worker_env` is what a training worker gets on either engine: the settings it needs, never a secret.
The README's settings table is :func:`markdown_table` (a test keeps them equal).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn.errors import LabError
from cnn.fields import Bounded, OutOfBounds

ROOT = Path(__file__).resolve().parents[1]
# Not ours, but a worker must see them as the web server does: TensorFlow's log level, whether it uses oneDNN
# (cnn/__init__.py) and oneDNN's instruction cap.
PASS_TO_WORKERS = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA")
# Never handed to a process the server starts (besides CNN_* settings marked secret).
SECRETS = ("RAY_AUTH_TOKEN",)


class SettingError(LabError, ValueError):
    """A setting has a value it cannot take; the message names it, the value and what it may be."""


@dataclass(frozen=True)
class Setting:
    """One environment setting: what it is called, what it takes and what it is for."""

    name: str
    kind: type  # int, float, bool, str or Path
    default: Any  # a value, None (unset), or a function of nothing giving the value
    help: str  # what it is for (the README table's first column)
    default_text: str  # the default in words
    lo: float | None = None
    hi: float | None = None
    worker: bool = False  # a training worker needs it (both engines pass it)
    secret: bool = False  # never passed to another process, never printed
    internal: bool = False  # set by the app for its own processes, not by people

    def allowed(self) -> str:
        return Bounded(self.kind, self.lo, self.hi).allowed()

    def parse(self, raw: str) -> Any:
        """``raw`` as this setting's kind, checked; SettingError says what is wrong."""
        try:
            return Bounded(self.kind, self.lo, self.hi).parse(raw, self.name)
        except OutOfBounds:
            shown = "'***'" if self.secret else repr(raw)
            raise SettingError(f"The setting {self.name}={shown} is not valid: it must be {self.allowed()}.") from None

    def value(self) -> Any:
        """The value now: the environment's, checked, or the default."""
        raw = os.environ.get(self.name, "")
        if raw.strip() == "" and self.kind is not bool:
            return self.default() if callable(self.default) else self.default
        if raw.strip() == "":
            return bool(self.default)
        return self.parse(raw)


def _quarter_of_memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 4 / 2**30
    except (ValueError, OSError, AttributeError):
        return 4.0


_ALL = [
    Setting("CNN_MAX_JOBS", int, lambda: max(1, os.cpu_count() or 1), "concurrent trainings (a queue for the rest)",
            "the number of CPU cores", 1, 1024),
    Setting("CNN_JOB_MEMORY_GB", float, _quarter_of_memory_gb, "memory one training may use for activations (GiB)",
            "a quarter of RAM", 0.05, 65536, worker=True),
    Setting("CNN_MODELS_DIR", Path, ROOT / "models", "shared models folder: one only the server writes to; back it up",
            "`models/` in the project", worker=True),
    Setting("CNN_DATA_DIR", Path, ROOT / "data", "datasets: put the full datasets there so no one downloads them",
            "`data/` in the project", worker=True),
    Setting("CNN_USER_DATA_DIR", Path, ROOT / "data" / "user", "students' own datasets; back it up",
            "`data/user/` in the project", worker=True),
    Setting("CNN_OFFLINE", bool, False, "never try to download a dataset (the local copies or the bundled sample)",
            "0: try Keras' download when no local copy is found", worker=True),
    Setting("CNN_HEARTBEAT_S", float, 60.0, "a run stops this long after its tab closed (seconds)", "60", 1, 86400),
    Setting("CNN_JOBS_LOG", Path, None, "one JSON line per finished run (who, what, how long, result)",
            "unset: no log"),
    Setting("CNN_TEACHER_PASSWORD", str, "", "teacher passphrase (or `teacher_password` in "
            "`.streamlit/secrets.toml`)", "unset: no teacher mode", secret=True),
    Setting("CNN_DATABASE_URL", str, "", "the class database: `sqlite:////abs/path.db`, or "
            "`postgresql://USER:PASS@HOST:5432/DB` for several servers", "a SQLite file `data/cnnlab.db`",
            secret=True),
    Setting("CNN_SECRET_KEY", str, "", "the key that signs teacher grants (kept out of the database): give every "
            "server of a class the same one, e.g. `python -c \"import secrets; print(secrets.token_hex(32))\"`",
            "a random key made once in the data folder (`.cnnlab-secret-key`)", secret=True),
    Setting("CNN_DB_POOL_SIZE", int, 5, "connections this server keeps to the class database, at most (PostgreSQL's "
            "`max_connections` must exceed the sum over the class's servers)", "5", 1, 500),
    Setting("CNN_SERVER_ID", str, lambda: f"{socket.gethostname()}:pid{os.getpid()}",
            "this server's name in the class database (runs it held are found again after a restart)",
            "`host:port` of the Streamlit server"),
    Setting("CNN_RAY_ADDRESS", str, "", "train on a Ray cluster: `host:port` of its head (see *Running a class*)",
            "unset: train on this server"),
    Setting("CNN_RAY_JOB_CPUS", int, 2, "CPUs per run on the cluster", "2", 1, 1024),
    Setting("CNN_CACHE_DIR", Path, Path.home() / ".cache" / "cnn-lab", "where the number-format measurement and "
            "decoded copies of the local datasets are cached", "`~/.cache/cnn-lab`", worker=True),
    Setting("CNN_WORKER_NICE", int, 5, "how much a training worker yields the CPU to the pages (Unix nice)", "5", 0,
            19, worker=True),
    Setting("CNN_WORKER_FD", int, None, "the socket of a local worker to its server", "set by the app", 0, 2**31,
            internal=True),
    Setting("CNN_DRIVER_FD", int, None, "the socket of the Ray driver process to its server", "set by the app", 0,
            2**31, internal=True),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _ALL}


def value(name: str) -> Any:
    """The setting ``name`` now (SettingError for a bad value; KeyError for a name that is not a setting)."""
    return SETTINGS[name].value()


def is_set(name: str) -> bool:
    """Whether the environment gives ``name`` a value (else its default applies)."""
    return bool(os.environ.get(SETTINGS[name].name, "").strip())


def problems() -> list[str]:
    """One message per setting with a bad value ([] when all are good): checked at start-up."""
    found = []
    for s in _ALL:
        try:
            s.value()
        except SettingError as e:
            found.append(str(e))
    return found


def worker_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a training worker (a local process or a Ray task): ``base`` (the caller's other
    variables, for a local process: its own environment) without any ``CNN_*`` variable or secret, plus the
    settings a worker needs and :data:`PASS_TO_WORKERS`, as set here."""
    env = {k: v for k, v in (base or {}).items() if not k.startswith("CNN_") and k not in SECRETS}
    for name in (*(s.name for s in _ALL if s.worker), *PASS_TO_WORKERS):
        if os.environ.get(name, "").strip():
            env[name] = os.environ[name]
    return env


def markdown_table() -> str:
    """The README's settings table."""
    rows = ["| Setting | What it is for | Default |", "| --- | --- | --- |"]
    for s in _ALL:
        if not s.internal:
            bounds = f" ({s.allowed()})" if s.kind in (int, float) else ""
            rows.append(f"| `{s.name}` | {s.help}{bounds} | {s.default_text} |")
    return "\n".join(rows)


def describe(name: str) -> str:
    """``NAME=value`` as the command line shows it (secrets hidden)."""
    s = SETTINGS[name]
    raw = os.environ.get(name, "")
    shown = ("(set)" if raw else "(unset)") if s.secret else (raw or f"(default: {s.default_text})")
    return f"{name}={shown}"

