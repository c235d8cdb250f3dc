"""Importing TensorFlow and Keras in a process that trains (a training worker, the command line), as fast as
it goes: a fresh server's first Train waits for its worker's import.

Keras tries three optional packages on import that training never uses: IPython (for notebook checks in its
file editor), pandas (to slice DataFrames) and matplotlib (its image gallery). Where they are installed, as
here for the notebooks and their tests, they took 1.0 s of the 3.5 s import on this project's 2-core EPYC
(`python -X importtime`; bench/README.md). They are kept out while TensorFlow and Keras import, and importable
again afterwards for whatever else the process does. Only for a process that imports nothing else meanwhile: the
web server, whose other threads might, imports TensorFlow as usual.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

KERAS_OPTIONAL = ("IPython", "pandas", "matplotlib")


@contextlib.contextmanager
def _without(names: tuple[str, ...]) -> Iterator[None]:
    """Imports of ``names`` fail (ImportError, which Keras expects of a missing package) inside this block, unless
    already imported; afterwards they import as usual."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # Python's own marker for "cannot be imported"
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


def import_tensorflow(quiet: bool = True) -> None:
    """Import TensorFlow and Keras without Keras's optional packages (see the module docstring); ``quiet``: with
    TensorFlow's start-up chatter on stderr silenced, so errors stay one line."""
    fd = null = -1
    if quiet:
        fd, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
    try:
        with _without(KERAS_OPTIONAL):
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    finally:
        if quiet:
            os.dup2(fd, 2)
            os.close(fd)
            os.close(null)
