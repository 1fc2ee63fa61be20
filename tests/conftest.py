"""Shared fixtures: settings and backends (SQLite file, throwaway PostgreSQL database)."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bank.core.config import Settings
from bank.core.logging import configure_logging

configure_logging("INFO", "json")  # plain JSON lines, as in production (and fast)

PG_ADMIN_URL = os.environ.get(
    "BANK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-" + "x" * 40
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "bcrypt_rounds": 4,
        "validate_responses": True,
        "log_level": "INFO",
        "login_max_failures_per_ip": 1000,
        "db_pool_size": 8,
    }
    values.update(overrides)
    return Settings(**values)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


class PostgresDatabases:
    """Creates throwaway databases on the local server and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        problem = _pg_reachable()
        if problem is not None:
            message = f"PostgreSQL unreachable at {PG_ADMIN_URL} ({problem})"
            if IN_CI:
                pytest.fail(f"{message}: the PostgreSQL suite is mandatory in CI")
            pytest.skip(f"NOTICE: {message}; PostgreSQL tests skipped outside CI")
        name = f"bank_test_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


def database_url(kind: str, tmp: Path, pg: PostgresDatabases) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'bank-{uuid.uuid4().hex[:8]}.db'}"
    return pg.create()
