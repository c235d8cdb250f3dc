"""Start the real app (``streamlit run app.py``) on a free loopback port; shared by the browser
tests, the benchmarks and the screenshot script."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_models(folder: Path) -> Path:
    """A private copy of the shipped models, so tests and benchmarks never touch models/."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in (ROOT / "models").glob("*"):
        if f.suffix in (".keras", ".json"):
            shutil.copy(f, folder / f.name)
    return folder


@contextlib.contextmanager
def running_app(models: Path | None = None, log_path: Path | None = None, port: int | None = None,
                home: Path | None = None, **env: str) -> Iterator[dict]:
    """Headless server, no usage stats, no file watcher; yields {"url", "pid", "models", "home"}; always stopped.
    One training slot (one worker process importing TensorFlow) unless ``CNN_MAX_JOBS`` says more: on CI's two cores
    a second idle worker per server only slows the other tests down.

    Its user data and class database live in ``home`` (a new temporary folder unless given: give the same one, and
    the same ``port``, to restart "the same" server; a given ``home`` is kept)."""
    tmp = home or Path(tempfile.mkdtemp(prefix="cnnlab-"))
    tmp.mkdir(parents=True, exist_ok=True)
    models = models or (tmp / "models" if (tmp / "models").is_dir() else copy_models(tmp / "models"))
    port = port or free_port()
    log = open(log_path or tmp / "streamlit.log", "w")  # noqa: SIM115  (open for the server's whole life)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "CNN_OFFLINE": "1", "CNN_MAX_JOBS": "1", "CNN_MODELS_DIR": str(models),
             "CNN_USER_DATA_DIR": str(tmp / "user-data"), "CNN_DATABASE_URL": f"sqlite:///{tmp / 'cnnlab.db'}", **env})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.05)
        yield {"url": url, "pid": proc.pid, "models": models, "log": Path(log.name), "home": tmp, "port": port}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if home is None:
            shutil.rmtree(tmp, ignore_errors=True)
