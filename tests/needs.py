"""What a test needs and may not have: skipped on a developer's machine, failed under ``CI=true`` (.ci/run installs
every package, Chromium and PostgreSQL, so a skip there would hide a missing install step)."""
from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Skip, or fail in CI, saying what is missing."""
    if IN_CI:
        pytest.fail(f"{reason} (CI installs it, so this test must run there)")
    pytest.skip(reason)


def need(module: str, reason: str) -> ModuleType:
    """The module, imported; else :func:`missing`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(reason)
        raise  # not reached: missing() raises
