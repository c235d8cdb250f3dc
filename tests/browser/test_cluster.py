"""A class server whose training cluster is not there: pages answer at once and runs train on the server itself."""
import re
import time

import pytest
from playwright.sync_api import expect

from browser.helpers import assert_no_error, wait_idle
from browser.server import free_port, running_app

pytestmark = pytest.mark.browser
PASS = "cluster owl"


def test_an_address_where_nothing_listens_never_blocks_a_page_and_runs_train_here(browser, tmp_path):
    nothing = free_port()
    with running_app(log_path=tmp_path / "s.log", CNN_RAY_ADDRESS=f"127.0.0.1:{nothing}", CNN_TEACHER_PASSWORD=PASS,
                     CNN_DATA_DIR=str(tmp_path / "no-data")) as app:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        try:
            pg = ctx.new_page()
            pg.set_default_timeout(120_000)
            t0 = time.monotonic()
            pg.goto(f"{app['url']}/Train?arch=fast&epochs=1&limit=2000")
            wait_idle(pg, timeout=60_000)
            # The page is drawn while the cluster is still being tried (the sidebar says so below). The bound is loose:
            # a fresh server's first page took more than 15 s on a slow 2-core machine without waiting for anything.
            assert time.monotonic() - t0 < 60
            sidebar = pg.locator("[data-testid=stSidebar]")
            expect(sidebar.get_by_text(re.compile(r"Connecting to the training cluster|training cluster is "
                                                  r"unavailable"))).to_be_visible()
            pg.get_by_role("button", name="Train", exact=True).click()
            pg.get_by_text(re.compile(r"Finished 1 epoch")).wait_for(timeout=180_000)
            pg.goto(f"{app['url']}/Class")
            wait_idle(pg)
            pg.get_by_label("Teacher passphrase").fill(PASS)
            pg.get_by_role("button", name="Enter teacher mode").click()
            expect(pg.get_by_text(re.compile(r"New runs train on this server \(since|Connecting to the training "
                                             r"cluster at"))).to_be_visible()
            body = pg.inner_text("body")
            assert "rpc" not in body.lower() and "Traceback" not in body
            assert_no_error(pg)
        finally:
            ctx.close()
