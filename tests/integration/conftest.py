"""Integration fixtures: the real app over HTTP (TestClient), on SQLite and on PostgreSQL.

One app per backend per session; every test makes its own users, so tests never share data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bank.app import BankApp, create_app
from bank.db.migrations import upgrade
from tests.conftest import PostgresDatabases, database_url, make_settings

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture(scope="session")
def db_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_databases: PostgresDatabases
) -> str:
    url = database_url(backend, tmp_path_factory.mktemp(backend), pg_databases)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(db_url: str) -> Iterator[BankApp]:
    application = create_app(make_settings(db_url))
    yield application
    application.engine.dispose()


@pytest.fixture(scope="session")
def client(app: BankApp) -> Iterator[TestClient]:
    with app.test_client(raise_server_exceptions=False) as test_client:
        yield test_client


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(db_url: str) -> Iterator[AppFactory]:
    """A client for an app with other settings, on the same database."""
    opened: list[tuple[BankApp, Any]] = []

    def factory(**overrides: Any) -> TestClient:
        application = create_app(make_settings(overrides.pop("database_url", db_url), **overrides))
        manager = application.test_client(raise_server_exceptions=False)
        test_client = manager.__enter__()
        opened.append((application, manager))
        return test_client

    yield factory
    for application, manager in opened:
        manager.__exit__(None, None, None)
        application.engine.dispose()


@pytest.fixture
def fresh_db(backend: str, tmp_path: Path, pg_databases: PostgresDatabases) -> str:
    url = database_url(backend, tmp_path, pg_databases)
    upgrade(url)
    return url
