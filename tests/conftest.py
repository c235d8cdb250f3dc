"""Shared fixtures: the repo on sys.path, offline data, a private models folder, tiny datasets."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import cnn  # noqa: F401  TensorFlow's options (cnn/__init__.py) before any test module imports it

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CNN_OFFLINE"] = "1"  # tests never try the network; the download path has its own test


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path_factory, monkeypatch):
    """No developer data/ folder leaks into tests, nor do tests write there: empty data folders unless a test
    sets its own."""
    from cnn import db

    monkeypatch.setenv("CNN_DATA_DIR", str(tmp_path_factory.getbasetemp() / "no-data"))
    monkeypatch.setenv("CNN_USER_DATA_DIR", str(tmp_path_factory.mktemp("user-data")))
    monkeypatch.setenv("CNN_DATABASE_URL", f"sqlite:///{tmp_path_factory.mktemp('db') / 'cnnlab.db'}")
    db.forget_shared()
    yield
    db.forget_shared()


@pytest.fixture(autouse=True)
def _main_module_kept():
    """Streamlit's AppTest installs each script it runs as ``__main__`` and leaves it there; a later test in the same
    process that starts processes by spawning (which re-runs ``__main__`` in them) would run that script instead."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for this test session (Debian's postgresql, started here). When it cannot start, the
    tests that need it are skipped on a developer's machine and fail in CI (CI=true), which installs it."""
    from postgres import PostgresUnavailable, postgres_server, unavailable

    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as e:
        unavailable(e)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """The class database, once on SQLite and once on a real PostgreSQL server."""
    from cnn import db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'class.db'}"
    else:
        from postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_url"))
    d = db.Database(url)
    yield d
    d.close()


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    """A private models/ folder holding copies of the shipped models."""
    folder = tmp_path / "models"
    folder.mkdir()
    for f in (ROOT / "models").glob("*"):
        if f.suffix in (".keras", ".json"):
            shutil.copy(f, folder / f.name)
    monkeypatch.setenv("CNN_MODELS_DIR", str(folder))
    return folder


def tiny_dataset(n_train: int = 256, n_test: int = 64, shape=(28, 28, 1), seed: int = 0):
    """A learnable synthetic dataset: class k has a bright square at a position set by k."""
    from cnn.data import Dataset

    rng = np.random.default_rng(seed)
    h, w, c = shape

    def make(n):
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 40, (n, h, w, c)).astype(np.uint8)
        for i, k in enumerate(y):
            r, q = divmod(int(k), 5)
            x[i, 4 + r * 10:10 + r * 10, 2 + q * 5:6 + q * 5, :] = 255
        return x, y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    return Dataset("mnist" if c == 1 else "cifar10", xtr, ytr, xte, yte, tuple(str(i) for i in range(10)),
                   "synthetic test data")


@pytest.fixture
def tiny():
    return tiny_dataset()


def shared_or_skip(name: str) -> Path:
    path = SHARED_DATASETS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (full datasets are only beside the repo in development and CI)")
    return path


def process_env(pid: int) -> dict[str, str]:
    """What a running process was started with (Linux)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)
