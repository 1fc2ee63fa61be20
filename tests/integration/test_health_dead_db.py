"""Health answers 503 (with the envelope) when the database is unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bank.app import create_app
from bank.startup import StartupError
from tests import factories as f
from tests.conftest import make_settings

DEAD_URLS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
    "sqlite": "sqlite:////nonexistent-dir/deeper/bank.db",
}


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_health_is_503_when_database_is_unreachable(kind: str, tmp_path: Path) -> None:
    app = create_app(make_settings(DEAD_URLS[kind], db_pool_timeout_seconds=1))
    client = app.test_client(raise_server_exceptions=False)  # no lifespan: it would fail fast

    response = client.get("/v1/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "unavailable"}
    assert body["error"]["code"] == "service_unavailable"


def test_requests_fail_with_503_envelope_when_database_is_down() -> None:
    app = create_app(make_settings(DEAD_URLS["postgres"], db_pool_timeout_seconds=1))
    client = app.test_client(raise_server_exceptions=False)

    response = client.post("/v1/auth/signup", json=f.signup_body())

    assert response.status_code == 503
    assert f.error_code(response) == "service_unavailable"


def test_startup_fails_fast_when_database_is_unreachable() -> None:
    app = create_app(make_settings(DEAD_URLS["postgres"]))

    with pytest.raises(StartupError, match="unreachable"), app.test_client():
        pass


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_a_worker_allowed_to_boot_without_the_database_starts_and_answers_503(kind: str) -> None:
    """gunicorn's workers, once the master has checked the database (bank/startup.py): one
    started during an outage serves, answering 503 until the database is back."""
    settings = make_settings(DEAD_URLS[kind], db_pool_timeout_seconds=1, boot_without_database=True)
    app = create_app(settings)

    with app.test_client(raise_server_exceptions=False) as client:  # the lifespan runs
        health = client.get("/v1/health")
        live = client.get("/v1/health/live")
        signup = client.post("/v1/auth/signup", json=f.signup_body())

    assert health.status_code == 503 and health.json()["checks"] == {"database": "unavailable"}
    assert live.status_code == 200
    assert signup.status_code == 503 and f.error_code(signup) == "service_unavailable"
