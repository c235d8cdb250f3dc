"""Fixtures: the real Streamlit server on a free loopback port, and Debian's Chromium via Playwright.

Screenshots of every browser test go to artifacts/screenshots/ (git-ignored), pass or fail.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from browser.server import CHROMIUM, CHROMIUM_ARGS, ROOT, copy_models, running_app

SHOTS = ROOT / "artifacts" / "screenshots"


HEARTBEAT_S = 10  # a run whose session shows no page for this long is stopped (short, to test it)
TEACHER_PASSPHRASE = "projector owl 42"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app as a class server: one training slot (so a queue forms), a short heartbeat timeout."""
    models = copy_models(tmp_path_factory.mktemp("browser-models"))
    with running_app(models, tmp_path_factory.getbasetemp() / "streamlit.log",
                     CNN_DATA_DIR=str(tmp_path_factory.mktemp("no-data")), CNN_MAX_JOBS="1",
                     CNN_HEARTBEAT_S=str(HEARTBEAT_S), CNN_TEACHER_PASSWORD=TEACHER_PASSPHRASE) as app:
        yield app


@pytest.fixture(scope="session")
def playwright_api():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture(scope="session")
def phone_device(playwright_api) -> dict:
    """A phone as a browser context sees it (390×844, touch, a phone's user agent: Streamlit knows a phone by it)."""
    return {**playwright_api.devices["Pixel 7"], "viewport": {"width": 390, "height": 844}}


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        pg.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
