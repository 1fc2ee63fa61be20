"""Error translation details, metrics exposure, and the database error mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.testclient import TestClient

from bank.app import BankApp, create_app
from bank.db.migrations import upgrade
from bank.db.uow import DuplicateKey, RetryableConflict, _translate
from bank.domain import errors
from tests import factories as f
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> BankApp:
    url = f"sqlite:///{tmp_path_factory.mktemp('unit-api') / 'bank.db'}"
    upgrade(url)
    return create_app(make_settings(url, metrics_token="m" * 32))


@pytest.fixture(scope="module")
def client(app: BankApp) -> Any:
    with app.test_client(raise_server_exceptions=False) as test_client:
        yield test_client


def test_wrong_type_names_the_field(client: TestClient) -> None:
    response = client.post("/v1/auth/login", json={"email": 5, "password": "x"})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "email"


def test_unexpected_field_is_named(client: TestClient) -> None:
    response = client.post("/v1/auth/login", json={"email": "a@b.c", "password": "x", "x": 1})

    assert response.json()["error"]["details"]["field"] == "x"


def test_malformed_json_has_its_own_code(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert f.error_code(response) == "malformed_body"


def test_pydantic_rejection_of_an_email_is_a_400(client: TestClient) -> None:
    response = client.post("/v1/auth/signup", json=f.signup_body(email="not-an-email@"))

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"


def test_metrics_require_the_token(client: TestClient) -> None:
    f.customer(client)

    anonymous = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})

    assert anonymous.status_code == wrong.status_code == 404
    assert allowed.status_code == 200
    assert (
        'bank_http_requests_total{method="POST",route="/v1/auth/signup",status="201"}'
        in allowed.text
    )
    assert "bank_db_pool_size" in allowed.text


def test_a_refused_metrics_request_answers_the_envelope_with_its_request_id(
    client: TestClient,
) -> None:
    response = client.get("/metrics", headers={"X-Request-Id": "probe-1"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "probe-1"
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "The resource was not found.",
        "details": {},
        "request_id": "probe-1",
    }


def test_metrics_take_any_case_of_the_bearer_scheme_and_only_get(client: TestClient) -> None:
    token = "m" * 32

    lower = client.get("/metrics", headers={"Authorization": f"bearer {token}"})
    posted = client.post("/metrics", headers={"Authorization": f"Bearer {token}"})
    anonymous_post = client.post("/metrics")

    assert lower.status_code == 200
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"
    assert anonymous_post.status_code == 404


def test_metrics_count_money_movements(client: TestClient) -> None:
    owner = f.customer(client)
    account = f.funded_account(client, owner, 100)
    f.withdraw(client, owner, account["id"], 1000)

    text = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"}).text

    assert 'bank_money_movements_total{outcome="posted",type="deposit"}' in text
    assert 'bank_money_movements_total{outcome="rejected",type="withdrawal"}' in text


def test_metrics_show_each_database_pool(client: TestClient) -> None:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"}).text

    # SQLite has one pool; PostgreSQL adds "autocommit" and "async" (test_async_pool.py).
    assert 'bank_db_pool_size{pool="transactional"}' in text
    assert 'bank_db_pool_connections_in_use{pool="transactional"} 0.0' in text
    assert 'pool="async"' not in text


def test_metrics_open_to_loopback_without_token(tmp_path: Path) -> None:
    from bank.api.gateway import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("testclient") and not is_loopback(None)


def test_static_files_refuse_other_methods(client: TestClient) -> None:
    response = client.post("/index.html", content=b"x")

    assert response.status_code == 405
    assert f.error_code(response) == "method_not_allowed"


def test_frontend_can_be_switched_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(url)
    app = create_app(make_settings(url, serve_frontend=False))

    response = app.test_client().get("/")

    assert response.status_code == 404


def test_cors_is_exactly_as_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    app = create_app(make_settings(url, cors_origins="https://app.example"))
    client = app.test_client()

    allowed = client.options(
        "/v1/accounts",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    other = client.get("/v1/health/live", headers={"Origin": "https://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OperationalError("x", {}, _Orig("deadlock detected", "40P01")), RetryableConflict),
        (OperationalError("x", {}, _Orig("could not serialize", "40001")), RetryableConflict),
        (OperationalError("x", {}, _Orig("database is locked")), RetryableConflict),
        (OperationalError("x", {}, _Orig("connection refused")), errors.ServiceUnavailable),
        (OperationalError("x", {}, _Orig("server closed", "08006")), errors.ServiceUnavailable),
        (IntegrityError("x", {}, _Orig("duplicate key", "23505")), DuplicateKey),
        (IntegrityError("x", {}, _Orig("UNIQUE constraint failed: users.email")), DuplicateKey),
    ],
)
def test_database_errors_are_translated(exc: Exception, expected: type[Exception]) -> None:
    assert isinstance(_translate(exc), expected)  # type: ignore[arg-type]


def test_check_constraint_violation_is_not_hidden() -> None:
    exc = IntegrityError("x", {}, _Orig("CHECK constraint failed", "23514"))

    assert _translate(exc) is exc


def test_app_without_metrics_has_no_metrics_route(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    app = create_app(make_settings(url, metrics_enabled=False))

    assert app.test_client().get("/metrics").status_code == 404


def test_access_log_modes(capfd: pytest.CaptureFixture[str]) -> None:
    from bank.api.gateway import AccessLog
    from bank.core.logging import configure_logging

    configure_logging("INFO", "json")
    capfd.readouterr()
    quiet = AccessLog(fast=True, enabled=False)
    console = AccessLog(fast=False, enabled=True)

    quiet.write(route="/v1/x", method="GET", status=200, user_id=None, duration_ms=1.0)
    quiet.write(route="/v1/x", method="GET", status=500, user_id=None, duration_ms=1.0)
    console.write(route="/v1/y", method="GET", status=201, user_id="u", duration_ms=2.0)
    lines = capfd.readouterr().out.splitlines()

    assert len(lines) == 2
    assert '"status_code": 500' in lines[0] and '"level": "error"' in lines[0]
    assert '"route": "/v1/y"' in lines[1]


def test_validator_caches_stay_bounded(client: TestClient) -> None:
    from bank.api import validation

    # The cache is per process: other apps built earlier in the session have entries too.
    before = len(validation._BUILT)
    owner = f.customer(client)

    def requests() -> None:
        f.account(client, owner)
        client.get("/v1/accounts?limit=3&offset=1", headers=owner.headers)

    requests()
    warmed = len(validation._BUILT)
    for _ in range(19):
        requests()

    # One validator per body schema (<= 12) and per parameter (<= 30), however many requests.
    assert warmed > 0 and warmed - before <= 12 + 30
    assert len(validation._BUILT) == warmed
