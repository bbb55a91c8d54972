"""Headless Chromium from Debian's packages, driven by Playwright (never a browser download)."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI; install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django test server's
    # database access happens in its own threads, so this only silences Django's guard here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page, live_server, make_user):
    """Log in through the real login form as a user with the given role."""

    def do(role: str = "operator", username: str = "browser-user"):
        make_user(username, role, password="Browser-pass-1")
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill("Browser-pass-1")
        page.get_by_role("button", name="Log in").click()
        return page

    return do
