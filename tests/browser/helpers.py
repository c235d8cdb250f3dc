"""Helpers for browser tests."""


def wait_idle(pg, timeout: float = 120_000) -> None:
    """Wait until the script has finished running (and a moment for the page to paint)."""
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    pg.wait_for_timeout(300)
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def assert_no_error(pg) -> None:
    assert pg.locator("[data-testid=stException]").count() == 0, pg.locator("[data-testid=stException]").first.inner_text()
    assert "Traceback" not in pg.inner_text("body")
