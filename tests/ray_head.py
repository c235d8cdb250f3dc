"""A Ray head for tests and benchmarks: ``ray start --head --block`` on a loopback port, in a process group of its
own, so that stopping it stops only it (``ray stop`` would stop every Ray process on the machine)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from needs import missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Head:
    """``ray start --head --block`` on a loopback port, in its own process group: start, stop, start again."""

    def __init__(self, port: int, env: dict[str, str] | None = None):
        self.port, self.env, self.proc = port, env or {}, None

    def start(self) -> None:
        exe = shutil.which("ray") or os.path.join(os.path.dirname(sys.executable), "ray")
        self.proc = subprocess.Popen(
            [exe, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(self.port),
             "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **self.env})
        import socket

        deadline = time.monotonic() + 90
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                missing("Ray could not start a head on loopback here")
            time.sleep(0.2)
        time.sleep(2.0)  # the raylet registers after the GCS listens

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)
        self.proc = None
        time.sleep(1.0)
