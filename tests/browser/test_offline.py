"""No page sends a request off the machine: a whole walk with every request to another address blocked and
counted (the page icon came from a public font CDN, which fails offline and tells a third party of every visit)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from browser.helpers import assert_no_error, draw_digit, menu, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["Data", "My data", "Train", "Evaluate", "Inspect", "Draw", "Lessons", "Leaderboard", "Home"]


def test_a_walk_through_every_page_requests_nothing_off_the_machine(browser, server):
    app = urlsplit(server["url"]).netloc
    off: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})

    def only_the_app(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == app:
            route.continue_()
        else:
            off.append(url)
            route.abort()

    context.route("**/*", only_the_app)
    failed: list[str] = []
    pg = context.new_page()
    pg.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    pg.set_default_timeout(60_000)
    try:
        pg.goto(server["url"])
        wait_idle(pg)
        for page in PAGES:
            menu(pg, page)
            if page == "Draw":
                draw_digit(pg, 3)
                wait_idle(pg)
            assert_no_error(pg)
        pg.wait_for_timeout(1000)
    finally:
        context.close()
    assert off == [], off
    assert [f for f in failed if urlsplit(f.split(" ")[0]).netloc != app] == []
