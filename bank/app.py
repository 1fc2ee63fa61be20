"""create_app(settings): the only module that wires concrete classes together."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import structlog
import yaml
from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.testclient import TestClient

from bank.api import connexion_once, deps, errors, formats, validation
from bank.api.gateway import Gateway
from bank.api.metrics import Metrics
from bank.core.config import Settings
from bank.core.security import AccessTokenVerifier
from bank.db.engine import async_pool, autocommit_engine, dispose, make_engine
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain.errors import BankError
from bank.domain.serialize import COMPACT
from bank.services.cards import CardPolicy
from bank.services.users import AuthPolicy
from bank.startup import DatabaseUnreachable, check_database, load_settings

SPEC_DIR = Path(__file__).resolve().parents[1] / "openapi"
SPEC_FILE = "bank.yaml"
log = structlog.get_logger("bank.app")


class BankApp(Gateway):
    """The ASGI application: the gateway in front of Connexion, plus handles for tests."""

    engine: Engine
    connexion_app: AsyncApp

    def test_client(self, **kwargs: Any) -> TestClient:
        return TestClient(self, **kwargs)


class CompactJsonifier(Jsonifier):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's JSON bodies in the one form every other body of the service has
    (`serialize.COMPACT`), without the trailing newline Connexion's own adds."""

    def __init__(self) -> None:
        super().__init__(json, separators=COMPACT)

    def dumps(self, data: Any, **kwargs: Any) -> str:
        text: str = self.json.dumps(data, **{**self.dumps_args, **kwargs})
        return text


def load_spec() -> dict[str, Any]:
    with (SPEC_DIR / SPEC_FILE).open() as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


def route_table(spec: dict[str, Any]) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """operationId -> "METHOD /v1/template", and path regex -> the `Allow` header value."""
    base = spec["servers"][0]["url"].rstrip("/")
    routes: dict[str, str] = {}
    allowed: list[tuple[re.Pattern[str], str]] = []
    for template, item in spec["paths"].items():
        methods = [m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")]
        for method in methods:
            operation = item[method.lower()]
            # Connexion reports the resolved handler path, e.g. bank.api.health.get_liveness.
            handler = f"{operation['x-openapi-router-controller']}.{operation['operationId']}"
            routes[handler] = routes[operation["operationId"]] = f"{base}{template}"
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(f"{base}{template}"))
        served = [*methods, "HEAD"] if "GET" in methods else methods  # HEAD comes with GET
        allowed.append((re.compile(f"^{regex}/?$"), ", ".join(sorted(served))))
    return routes, allowed


def _policies(settings: Settings) -> tuple[AuthPolicy, CardPolicy]:
    auth = AuthPolicy(
        jwt_key=settings.jwt_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=settings.access_token_ttl_seconds,
        refresh_ttl=settings.refresh_token_ttl_seconds,
        bcrypt_rounds=settings.bcrypt_rounds,
        max_failures_email=settings.login_max_failures_per_email,
        max_failures_ip=settings.login_max_failures_per_ip,
        window_seconds=settings.login_window_seconds,
    )
    assert settings.card_fingerprint_key is not None
    cards = CardPolicy(
        expiry_years=settings.card_expiry_years,
        fingerprint_key=settings.card_fingerprint_key.get_secret_value(),
        ttl_hours=settings.idempotency_ttl_hours,
    )
    return auth, cards


def _lifespan(settings: Settings, engine: Engine) -> Any:
    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        # Fail fast: an unreachable database or (in prod) an old schema stops the boot, unless
        # the database may be away for now (bank/startup.py): then requests answer 503.
        reachable = True
        try:
            await anyio.to_thread.run_sync(check_database, settings, engine)
        except DatabaseUnreachable:
            if not settings.boot_without_database:
                raise
            reachable = False
        # The event loop's handlers hold one pooled connection at a time; one thread per other
        # connection, so neither the threads nor the loop (which would stall the worker) wait
        # on the pool.
        threads = max(1, settings.db_pool_size - 1)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        log.info(
            "service_started",
            env=settings.app_env,
            database=engine.dialect.name,
            database_reachable=reachable,
        )
        try:
            yield
        finally:
            dispose(engine)
            log.info("service_stopped")

    return lifespan


def _pool_status(engine: Engine) -> dict[str, tuple[int, int]]:
    """(connections in use, pool size) of each of the engine's pools, by name."""
    status = {"transactional": _sync_pool_status(engine)}
    sibling = autocommit_engine(engine)
    if sibling is not None:
        status["autocommit"] = _sync_pool_status(sibling)
    money = async_pool(engine)
    if money is not None:
        status["async"] = (money.in_use, money.size)
    return status


def _sync_pool_status(engine: Engine) -> tuple[int, int]:
    pool: Any = engine.pool
    checked_out = getattr(pool, "checkedout", None)
    size = getattr(pool, "size", None)
    return (
        int(checked_out()) if callable(checked_out) else 0,
        int(size()) if callable(size) else 1,
    )


def create_app(settings: Settings) -> BankApp:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        lock_timeout_ms=settings.db_lock_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    auth, cards = _policies(settings)
    wiring = deps.Wiring(
        settings=settings,
        uow_factory=lambda: SqlAlchemyUnitOfWork(engine),
        auth=auth,
        cards=cards,
        tokens=AccessTokenVerifier(key=auth.jwt_key, issuer=auth.issuer, audience=auth.audience),
    )
    formats.register()
    middlewares = list(ConnexionMiddleware.default_middlewares)
    middlewares[0] = functools.partial(ServerErrorMiddleware, handler=errors.unexpected_error)
    connexion_app = AsyncApp(
        __name__,
        specification_dir=SPEC_DIR,
        lifespan=_lifespan(settings, engine),
        middlewares=middlewares,
        jsonifier=CompactJsonifier(),
    )
    connexion_once.install(connexion_app)
    connexion_app.add_api(
        SPEC_FILE,
        strict_validation=True,
        validate_responses=settings.validate_responses,
        pythonic_params=True,
        resolver_error=501,
        validator_map=validation.validator_map(),
        swagger_ui_options=SwaggerUIOptions(
            serve_spec=settings.docs_enabled,
            swagger_ui=settings.docs_enabled,
            swagger_ui_path="/docs",
            spec_path="/openapi.json",
        ),
    )
    connexion_app.add_error_handler(BankError, errors.bank_error)
    connexion_app.add_error_handler(ProblemException, errors.problem_error)
    connexion_app.add_error_handler(HTTPException, errors.http_error)
    connexion_app.add_error_handler(UnicodeDecodeError, errors.malformed_body)
    connexion_app.add_error_handler(ValidationError, errors.pydantic_error)
    connexion_app.add_error_handler(Exception, errors.unexpected_error)
    if settings.cors_origins:
        connexion_app.add_middleware(
            CORSMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
        )
    routes, allowed = route_table(load_spec())
    metrics = Metrics(functools.partial(_pool_status, engine)) if settings.metrics_enabled else None
    app = BankApp(
        connexion_app,
        wiring,
        routes,
        allowed,
        metrics,
    )
    app.engine = engine
    app.connexion_app = connexion_app
    return app


def make_asgi_app() -> BankApp:
    """Factory for servers (gunicorn, uvicorn --factory): settings from the environment."""
    return create_app(load_settings())
