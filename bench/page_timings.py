"""Time the real app in Chromium: server start to an interactive Home page, then each page's
first render when reached from the page menu (as a student clicks through). Prints "  name: value"."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGES = [("Data", "Data"), ("Train", "Train a network"), ("Evaluate", "Evaluate"), ("Inspect", "Inspect a network"),
         ("Draw", "Draw a digit"), ("Lessons", "Lessons")]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def idle(pg) -> None:
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=180_000)


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CNN_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                             f"--server.port={port}", "--server.address=127.0.0.1",
                             "--browser.gatherUsageStats=false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.05)
        t_health = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.goto(url)
            pg.get_by_role("heading", name="CNN Lab").first.wait_for(timeout=180_000)
            idle(pg)
            print(f"  server start → health check: {t_health:.1f} s")
            print(f"  server start → Home interactive in the browser: {time.perf_counter() - t0:.1f} s")
            for path, heading in PAGES:
                t = time.perf_counter()
                pg.locator("[data-testid=stSidebarNav] a", has_text=path).first.click()
                pg.get_by_role("heading", name=heading).first.wait_for(timeout=180_000)
                pg.wait_for_timeout(100)
                idle(pg)
                print(f"  {path} page, first render: {time.perf_counter() - t:.2f} s")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
