"""Fixtures for the Python SDK tests: a live service and the generated `bank_client` package."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import run_live_server

SDK_DIR = Path(__file__).resolve().parents[2] / "clients" / "python"

try:
    import bank_client  # noqa: F401  (installed: pip install ./clients/python)
except ImportError:  # a bare checkout: use the committed SDK in place
    sys.path.insert(0, str(SDK_DIR))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT`) of a real service on a fresh SQLite database."""
    with run_live_server(tmp_path_factory.mktemp("sdk-live-server")) as base_url:
        yield base_url
