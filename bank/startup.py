"""Fail fast at startup: valid settings, a reachable database, and in production a schema at
the Alembic head.

Every server checks once before it serves. `bank serve` (one process) checks in the app's
lifespan. Under gunicorn the master checks before it starts any worker (`check_before_workers`,
from `bank/gunicorn_conf.py`'s `on_starting`): a wrong `DATABASE_URL` or an old schema stops
the service before it binds its port. It then sets `BOOT_WITHOUT_DATABASE` for its workers, so
a worker started later (replacing one that crashed, was killed or timed out) while the database
is briefly away boots anyway and answers 503 until the database is back, as the running workers
do. Without that, the worker's failed startup would make gunicorn halt the whole service. An
old schema still stops a worker that can reach the database.
"""

from __future__ import annotations

import os

import structlog
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bank.core.config import Settings, settings_problems
from bank.core.logging import configure_logging
from bank.db.engine import dispose, make_engine, ping
from bank.db.migrations import SchemaNotAtHead, ensure_at_head

log = structlog.get_logger("bank.app")
BOOT_WITHOUT_DATABASE = "BOOT_WITHOUT_DATABASE"


class StartupError(RuntimeError):
    """The service cannot start: the reason was logged as one event."""


class DatabaseUnreachable(StartupError):
    """The database could not be reached at startup."""


def load_settings() -> Settings:
    """The environment's settings, with logging configured from them; invalid settings are
    logged as one event naming each bad variable and raise `StartupError`."""
    try:
        settings = Settings()
    except ValidationError as exc:
        configure_logging()
        log.error("settings_invalid", problems=settings_problems(exc))
        raise StartupError("invalid configuration") from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def check_database(settings: Settings, engine: Engine) -> None:
    """The database answers and, in production, its schema is at head; else log why and raise
    `DatabaseUnreachable` or `StartupError`."""
    try:
        ping(engine)
        if settings.is_production:
            ensure_at_head(engine)
    except DBAPIError as exc:
        log.error(
            "database_unreachable",
            database=engine.url.render_as_string(),  # the password masked
            reason=str(exc.orig).strip().splitlines()[0] if exc.orig else "",
        )
        raise DatabaseUnreachable("the database is unreachable") from None
    except SchemaNotAtHead as exc:
        log.error("database_schema_outdated", reason=str(exc))
        raise StartupError(str(exc)) from None


def check_before_workers() -> None:
    """gunicorn's master, before it starts any worker: check the settings and the database
    once, then let its workers boot without the database (see the module docstring)."""
    settings = load_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        check_database(settings, engine)
    finally:
        dispose(engine)  # no connection may be shared with the forked workers
    os.environ[BOOT_WITHOUT_DATABASE] = "true"
