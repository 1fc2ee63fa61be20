"""Fixtures for the demo CLI tests: a live service the CLI talks to over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import run_live_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT`) of a real service on a fresh SQLite database."""
    with run_live_server(tmp_path_factory.mktemp("cli-live-server")) as base_url:
        yield base_url
