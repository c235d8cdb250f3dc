"""The library's errors: every error it expects is a :class:`LabError` whose message says what to do (the command
line prints it as one line, pages show it), and :func:`first_line` says any other error in one line."""
from __future__ import annotations


class LabError(Exception):
    """An error the library expects; its message, in the reader's words, says what to do."""


def first_line(e: BaseException, limit: int = 300) -> str:
    """The error's first line, at most ``limit`` characters; its type's name when it says nothing (never a
    traceback on a page or on stderr)."""
    text = str(e).strip()
    return text.splitlines()[0][:limit] if text else type(e).__name__


class StoreError(LabError):
    """A model could not be saved, listed, loaded or deleted; the message says why (cnn.store and
    cnn.keras_files raise it)."""
