"""Hostile and unusual input found by black-box probing: each answers a 4xx envelope, never a
500, and moves no money."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests import factories as f

JSON_HEADERS = {"Content-Type": "application/json"}


def _post_raw(
    client: TestClient, path: str, raw: bytes, headers: dict[str, str] | None = None
) -> Any:
    return client.post(path, content=raw, headers={**JSON_HEADERS, **(headers or {})})


# ------------------------------------------------------------------ JSON bodies


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"type": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        b'{"type": "checking", "currency": ' + b"9" * 4301 + b"}",
        b'{"type": "checking", "currency": NaN}',
        b'{"type": "checking", "currency": -Infinity}',
    ],
    ids=["nested-array", "nested-value", "4301-digit-integer", "nan", "infinity"],
)
def test_unparseable_json_is_400_malformed_body(client: TestClient, raw: bytes) -> None:
    user = f.customer(client)

    response = _post_raw(client, "/v1/accounts", raw, user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "malformed_body"
    assert client.get("/v1/accounts", headers=user.headers).json()["pagination"]["total"] == 0


def test_deeply_nested_body_before_login_is_400(client: TestClient) -> None:
    response = _post_raw(client, "/v1/auth/login", b'{"email": ' + b"[" * 5000 + b"]" * 5000)

    assert response.status_code == 400
    assert f.error_code(response) == "malformed_body"


def test_duplicate_keys_in_a_money_body_are_refused(client: TestClient) -> None:
    user = f.customer(client)
    source = f.funded_account(client, user, 1000)
    target = f.account(client, user)
    raw = (
        f'{{"from_account_id": "{source["id"]}", "to_account_id": "{target["id"]}", '
        f'"amount": 1, "currency": "USD", "amount": 900}}'
    ).encode()

    response = _post_raw(client, "/v1/transfers", raw, user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "malformed_body"
    assert f.balance(client, user, source["id"]) == 1000
    assert f.balance(client, user, target["id"]) == 0


@pytest.mark.parametrize(
    "content_type", ["Application/JSON", "application/JSON; charset=UTF-8", "APPLICATION/json"]
)
def test_media_type_is_case_insensitive(client: TestClient, content_type: str) -> None:
    body = f.signup_body()

    response = client.post(
        "/v1/auth/signup", content=json.dumps(body), headers={"Content-Type": content_type}
    )

    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == body["email"]


@pytest.mark.parametrize(
    "field, value",
    [("last_name", "\u0000"), ("last_name", "a\u0000b"), ("first_name", "\u0000Ada")],
)
def test_nul_in_a_name_is_400_on_every_database(client: TestClient, field: str, value: str) -> None:
    body = f.signup_body(**{field: value})

    response = client.post("/v1/auth/signup", json=body)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == field
    login = client.post("/v1/auth/login", json={"email": body["email"], "password": f.PASSWORD})
    assert login.status_code == 401


# ------------------------------------------------------------------ errors name the field


@pytest.mark.parametrize("key", ["", "has space", "x" * 256])
def test_bad_idempotency_key_names_the_header(client: TestClient, key: str) -> None:
    user = f.customer(client)
    account = f.account(client, user)

    response = client.post(
        "/v1/transactions",
        headers={**user.headers, "Idempotency-Key": key},
        json={"account_id": account["id"], "type": "deposit", "amount": 100, "currency": "USD"},
    )

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "Idempotency-Key"
    assert f.balance(client, user, account["id"]) == 0


def test_two_idempotency_keys_are_refused(client: TestClient) -> None:
    user = f.customer(client)
    account = f.account(client, user)

    response = client.post(
        "/v1/transactions",
        headers=[
            ("Authorization", user.headers["Authorization"]),
            ("Idempotency-Key", "first-key"),
            ("Idempotency-Key", "second-key"),
        ],
        json={"account_id": account["id"], "type": "deposit", "amount": 100, "currency": "USD"},
    )

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "Idempotency-Key"
    assert f.balance(client, user, account["id"]) == 0


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"7"])
def test_a_body_that_is_not_an_object_names_the_body(client: TestClient, raw: bytes) -> None:
    user = f.customer(client)

    response = _post_raw(client, "/v1/accounts", raw, user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "body"


def test_unknown_query_parameter_is_named(client: TestClient) -> None:
    user = f.customer(client)

    response = client.get("/v1/accounts?colour=blue", headers=user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "colour"


# ------------------------------------------------------------------ email addresses


@pytest.mark.parametrize(
    "email",
    [
        "a" * 65 + "@example.com",
        "ada@host.example",
        "ada@host.alt",
        "ada@corp.internal",
        "ada\u0000@example.com",
    ],
    ids=["local-part-over-64", "example-tld", "alt-tld", "internal-tld", "nul"],
)
def test_undeliverable_email_is_400(client: TestClient, email: str) -> None:
    response = client.post("/v1/auth/signup", json=f.signup_body(email=email))

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "email"


def test_a_64_character_local_part_is_accepted(client: TestClient) -> None:
    email = uuid.uuid4().hex * 2 + "@example.com"

    response = client.post("/v1/auth/signup", json=f.signup_body(email=email))

    assert response.status_code == 201, response.text


# ------------------------------------------------------------------ RFC 6750 challenges


def test_missing_token_challenge_has_no_error_code(client: TestClient) -> None:
    response = client.get("/v1/accounts")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["not.a.jwt", "x" * 40])
def test_rejected_token_challenge_names_invalid_token(client: TestClient, token: str) -> None:
    response = client.get("/v1/accounts", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_revoked_token_challenge_names_invalid_token(client: TestClient) -> None:
    user = f.customer(client)
    assert client.post("/v1/auth/logout", headers=user.headers).status_code == 204

    response = client.get("/v1/accounts", headers=user.headers)

    assert f.error_code(response) == "token_revoked"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
