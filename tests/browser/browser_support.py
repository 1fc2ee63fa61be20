"""Helpers shared by the browser tests' conftest and test modules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "reports" / "screenshots"

# Chromium reports every non-2xx fetch as a console error. A test that provokes an API error on
# purpose declares the status with `page_errors.expect_status(...)`; anything else fails the test.
FAILED_RESOURCE = re.compile(
    r"^Failed to load resource: the server responded with a status of (\d{3})"
)


@dataclass
class PageErrors:
    """Console errors and uncaught exceptions of one page, checked when the test ends."""

    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def expect_status(self, *statuses: int) -> None:
        """Allows Chromium's console line for API answers with these statuses (and only those)."""
        self.expected_statuses.update(statuses)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = FAILED_RESOURCE.match(message.text)
        api_call = "/v1/" in (message.location.get("url") or "")
        if failed and api_call and int(failed.group(1)) in self.expected_statuses:
            return
        self.errors.append(f"console.{message.type}: {message.text} ({message.location})")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"pageerror: {error}")
