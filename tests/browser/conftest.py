"""Fixtures for the browser tests: the real service on a free port, and Debian's Chromium.

The service runs as a subprocess (`python -m bank.cli migrate`, then `serve --port PORT`, see
tests/live_server.py) on a fresh SQLite database with a 60-second access-token lifetime, so the
frontend's expiry countdown and refresh prompt are testable. Chromium is the system package
(scripts/install-chromium.sh) driven through Playwright's `executable_path`; `playwright install`
is never needed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS_DIR))

from browser_support import SCREENSHOTS, PageErrors  # noqa: E402
from live_server import run_live_server  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def bank_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a freshly migrated service: the frontend at `/`, the API at `/v1`."""
    with run_live_server(
        tmp_path_factory.mktemp("browser-live-server"), ACCESS_TOKEN_TTL_SECONDS="60"
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not on PATH: run scripts/install-chromium.sh")
    browser = playwright_instance.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, bank_url: str, page_errors: PageErrors) -> Iterator[Page]:
    """A fresh desktop-sized page on the service; the test fails on any console error."""
    context = browser.new_context(base_url=bank_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", page_errors.on_console)
    page.on("pageerror", page_errors.on_page_error)
    yield page
    errors = list(page_errors.errors)
    context.close()
    assert errors == [], "console errors or uncaught exceptions:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
