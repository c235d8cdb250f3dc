"""A class on one server: who is who without accounts, the teacher's passphrase, the leaderboard.

Every browser gets an identity (:mod:`cnn.identity`: a random token it keeps, never shown); a student
may add a display name. Saved models record both, and only their owner (or the teacher) may
overwrite or delete them (:mod:`cnn.store` checks). Teacher mode is a passphrase the server
sets (``CNN_TEACHER_PASSWORD`` or ``teacher_password`` in ``.streamlit/secrets.toml``), compared
in constant time, with a growing wait after wrong attempts, per identity and class-wide (in the database).
The challenge (dataset, epoch and parameter limits) is a row of the class database, shared by every
server of the class.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cnn import data, db, settings, store
from cnn.errors import LabError
from cnn.i18n import _

MAX_NAME = 40
MAX_PASSPHRASE = 200
NAME_RE = re.compile(r"^[\w][\w .'-]*$")  # letters (any script), digits, spaces, . ' - _


class ClassroomError(LabError, ValueError):
    """A name, passphrase or challenge setting was refused; the message says why."""


def validate_display_name(name: str) -> str:
    """A student's display name, cleaned; ClassroomError says what is wrong (never any markup passes)."""
    if not isinstance(name, str):
        raise ClassroomError(_("Type your name."))
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if not name:
        return ""
    if len(name) > MAX_NAME:
        raise ClassroomError(_("Your name is {n_name:,} characters long; use at most {max_name}.",
                               n_name=len(name), max_name=MAX_NAME))
    if not NAME_RE.match(name) or any(unicodedata.category(c)[0] == "C" for c in name):
        raise ClassroomError(_("Use letters, digits, spaces and . ' - _ only in your name."))
    return name


def usable_name(name: str) -> str:
    """What a refused display name becomes with its forbidden characters taken out ("<b>Zed</b>" -> "b Zed b"),
    or "" when nothing usable is left."""
    kept = re.sub(r"[^\w .'-]+", " ", unicodedata.normalize("NFC", str(name)))
    kept = " ".join(kept.split()).lstrip(" .'-")[:MAX_NAME].strip()
    try:
        return validate_display_name(kept)
    except ClassroomError:
        return ""


def clean_title(text: str, limit: int = 120) -> str:
    """A challenge title kept as the teacher typed it (pages show it as text, never as markup), less control
    characters and extra spaces, at most ``limit`` characters."""
    kept = "".join(c for c in str(text) if unicodedata.category(c)[0] != "C")
    return " ".join(unicodedata.normalize("NFC", kept).split())[:limit]


# ---------------------------------------------------------------- teacher mode


def configured_passphrase(secrets: Any = None) -> str:
    """The teacher passphrase this server was given ("" when there is none: no teacher mode)."""
    env = settings.value("CNN_TEACHER_PASSWORD")
    if env:
        return env
    try:
        return str(secrets.get("teacher_password", "")) if secrets is not None else ""
    except Exception:  # no secrets.toml, or an unreadable one: no teacher mode
        return ""


class PassphraseGate:
    """Checks attempts in constant time; each wrong attempt makes the next one wait longer.

    Wrong attempts are rows of the class database (``attempts``), counted per identity and for the whole
    class, by the database's clock: a new tab, "Start fresh" (a new identity) or another server of the class
    gives nobody more tries. After a few wrong attempts anywhere in a minute, every attempt waits.
    """

    def __init__(self, base_wait: float = 1.0, max_wait: float = 60.0, class_free: int = 5,
                 forget_after_s: float = 900.0, clock: Callable[[], float] | None = None):
        self.base_wait, self.max_wait, self.class_free = base_wait, max_wait, class_free
        self.forget_after_s = forget_after_s  # an identity's wrong attempts older than this no longer count
        self.clock = clock  # the database's clock unless given (tests move a clock of their own instead of sleeping)

    def _now(self, tx: db.Transaction) -> float:
        return self.clock() if self.clock is not None else tx.now()

    def _wait(self, tx: db.Transaction, who: str, now: float) -> float:
        mine = tx.one("SELECT COUNT(*) AS n, MAX(at) AS last FROM attempts WHERE scope = ? AND at > ?",
                      (f"identity:{who}", now - self.forget_after_s))
        everyone = tx.one("SELECT COUNT(*) AS n, MAX(at) AS last FROM attempts WHERE scope = 'class' AND at > ?",
                          (now - 60,))
        wait = 0.0
        if mine and int(mine["n"]):
            wait = float(mine["last"]) + min(self.max_wait, self.base_wait * 2 ** (int(mine["n"]) - 1)) - now
        if everyone and int(everyone["n"]) >= self.class_free:
            over = int(everyone["n"]) - self.class_free
            wait = max(wait, float(everyone["last"]) + min(self.max_wait, self.base_wait * 2 ** over) - now)
        return max(0.0, wait)

    def wait_left(self, database: db.Database, who: str) -> float:
        """Seconds before identity ``who`` may try again (0 when they may)."""
        with database.transaction() as tx:
            return self._wait(tx, who, self._now(tx))

    def check(self, database: db.Database, attempt: str, expected: str, who: str) -> bool:
        """True if ``attempt`` is the passphrase; ClassroomError when empty, too long or too soon."""
        if not expected:
            raise ClassroomError(_("This server has no teacher passphrase, so it has no teacher mode. The person "
                                   "running it can set CNN_TEACHER_PASSWORD (or teacher_password in "
                                   ".streamlit/secrets.toml) and restart it."))
        with database.transaction("passphrase") as tx:  # attempts on every server take turns
            now = self._now(tx)
            wait = self._wait(tx, who, now)
            if wait > 0:
                raise ClassroomError(_("Wait {wait:.0f} s before trying again.", wait=math.ceil(wait)))
            if not attempt:
                raise ClassroomError(_("Type the passphrase."))
            if len(attempt) > MAX_PASSPHRASE:
                ok = False  # still counted as a wrong attempt
            else:
                # Compare digests: constant time whatever the lengths, and no early exit on the first wrong letter.
                ok = hmac.compare_digest(hashlib.sha256(attempt.encode()).digest(),
                                         hashlib.sha256(expected.encode()).digest())
            if ok:
                tx.execute("DELETE FROM attempts WHERE scope = ?", (f"identity:{who}",))
                return True
            tx.execute("DELETE FROM attempts WHERE at < ?", (now - max(self.forget_after_s, 60.0),))
            tx.execute("INSERT INTO attempts (scope, at) VALUES (?, ?), ('class', ?)", (f"identity:{who}", now, now))
        return False


GATE = PassphraseGate()


# ---------------------------------------------------------------- challenge and leaderboard


@dataclass(frozen=True)
class Challenge:
    """The teacher's exercise: best test accuracy on a dataset within limits (0: no limit)."""

    dataset: str = "cifar10"
    max_epochs: int = 0
    max_params: int = 0
    title: str = ""

    def check(self, meta: dict[str, Any]) -> list[str]:
        """What a saved model breaks of this challenge ([] when it meets it)."""
        problems = []
        if meta.get("dataset") != self.dataset:
            problems.append(_("trained on {dataset}, not {wanted}", dataset=meta.get("dataset"), wanted=self.dataset))
        epochs = len((meta.get("history") or {}).get("loss", []))
        if self.max_epochs and epochs > self.max_epochs:
            problems.append(_("{epochs} epochs > {most}", epochs=epochs, most=self.max_epochs))
        params = meta.get("params")
        if self.max_params and (not isinstance(params, int) or params > self.max_params):
            problems.append(_("{params:,} parameters > {most:,}", params=params, most=self.max_params)
                            if isinstance(params, int) else _("unknown parameter count"))
        return problems


def _challenge_path(folder: Path | None = None) -> Path:
    return (folder or store.models_dir()) / ".challenge.json"


def _legacy_challenge(folder: Path | None = None) -> Challenge | None:
    """The challenge file of CNN Lab before the class database (imported once, then removed)."""
    try:
        raw = json.loads(_challenge_path(folder).read_text())
        return Challenge(dataset=str(raw["dataset"]), max_epochs=int(raw.get("max_epochs", 0)),
                         max_params=int(raw.get("max_params", 0)), title=clean_title(raw.get("title", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_challenge(database: db.Database | None = None) -> Challenge | None:
    """The current challenge (the same on every server of the class), or None when the teacher has set none."""
    database = database or db.database()
    legacy = _legacy_challenge()
    if legacy is not None:
        save_challenge(legacy, database)
    _challenge_path().unlink(missing_ok=True)
    rows = database.query("SELECT dataset, max_epochs, max_params, title FROM challenge WHERE id = 1")
    if not rows:
        return None
    r = rows[0]
    return Challenge(str(r["dataset"]), int(r["max_epochs"]), int(r["max_params"]), clean_title(r["title"]))


def save_challenge(challenge: Challenge | None, database: db.Database | None = None) -> None:
    """Set (or with None, clear) the class's challenge."""
    from cnn.data import DATASETS

    database = database or db.database()
    if challenge is None:
        database.execute("DELETE FROM challenge WHERE id = 1")
        return
    if challenge.dataset not in DATASETS and not data.is_user(challenge.dataset):
        raise ClassroomError(_("Unknown dataset '{dataset}'.", dataset=challenge.dataset))
    if challenge.max_epochs < 0 or challenge.max_params < 0:
        raise ClassroomError(_("Limits must be 0 (no limit) or more."))
    database.execute("INSERT INTO challenge (id, dataset, max_epochs, max_params, title) VALUES (1, ?, ?, ?, ?) "
                     "ON CONFLICT (id) DO UPDATE SET dataset = excluded.dataset, max_epochs = excluded.max_epochs, "
                     "max_params = excluded.max_params, title = excluded.title",
                     (challenge.dataset, challenge.max_epochs, challenge.max_params, clean_title(challenge.title)))


@dataclass(frozen=True)
class Standing:
    """One saved model on the leaderboard."""

    rank: int
    name: str
    student: str
    accuracy: float
    params: int | None
    epochs: int
    seconds: float | None
    arch: str
    problems: tuple[str, ...]  # what it breaks of the challenge; () when it meets it


def leaderboard(dataset: str, challenge: Challenge | None = None,
                entries: list[store.ModelEntry] | None = None) -> list[Standing]:
    """Saved models of a dataset ranked by test accuracy; models that break the challenge rank after those
    that meet it (and are marked)."""
    rows = []
    for e in entries if entries is not None else store.list_models():
        acc = e.test_accuracy
        if e.dataset != dataset or not isinstance(acc, (int, float)) or math.isnan(acc):
            continue
        meta = e.meta
        problems = tuple(challenge.check(meta)) if challenge and challenge.dataset == dataset else ()
        params = meta.get("params") if isinstance(meta.get("params"), int) else None
        seconds = meta.get("training_seconds") if isinstance(meta.get("training_seconds"), (int, float)) else None
        student = meta.get("owner_name") if isinstance(meta.get("owner_name"), str) else ""
        rows.append((bool(problems), -float(acc), e.name, Standing(0, e.name, student or "—", float(acc), params,
                                                                    len((meta.get("history") or {}).get("loss", [])),
                                                                    seconds, str(meta.get("arch", "?")), problems)))
    rows.sort(key=lambda r: r[:3])
    return [replace(r[3], rank=i + 1) for i, r in enumerate(rows)]
