"""Fixtures for the demo CLI tests: a live service the CLI talks to over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS_DIR))

from live_server import run_live_server  # noqa: E402


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT`) of a real service on a fresh SQLite database."""
    with run_live_server(tmp_path_factory.mktemp("cli-live-server")) as base_url:
        yield base_url
