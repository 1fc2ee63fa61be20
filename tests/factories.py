"""Factories for API-level test data: users, tokens, accounts, money."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery"


@dataclass
class Customer:
    email: str
    user_id: str
    holder_id: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def signup_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "email": unique_email(),
        "password": PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "dob": "1990-12-10",
    }
    body.update(overrides)
    return body


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def customer(client: TestClient, **overrides: Any) -> Customer:
    body = signup_body(**overrides)
    response = client.post("/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    tokens = login(client, body["email"], body["password"])
    return Customer(
        email=body["email"],
        user_id=created["user"]["id"],
        holder_id=created["account_holder"]["id"],
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def account(
    client: TestClient, owner: Customer, currency: str = "USD", type_: str = "checking"
) -> dict[str, Any]:
    response = client.post(
        "/v1/accounts", json={"type": type_, "currency": currency}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def deposit(
    client: TestClient,
    owner: Customer,
    account_id: str,
    amount: int,
    currency: str = "USD",
    key: str | None = None,
) -> Any:
    headers = dict(owner.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        "/v1/transactions",
        headers=headers,
        json={"account_id": account_id, "type": "deposit", "amount": amount, "currency": currency},
    )


def withdraw(
    client: TestClient,
    owner: Customer,
    account_id: str,
    amount: int,
    currency: str = "USD",
    key: str | None = None,
) -> Any:
    headers = dict(owner.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        "/v1/transactions",
        headers=headers,
        json={
            "account_id": account_id,
            "type": "withdrawal",
            "amount": amount,
            "currency": currency,
        },
    )


def transfer(
    client: TestClient,
    owner: Customer,
    source: str,
    target: str,
    amount: int,
    currency: str = "USD",
    key: str | None = None,
) -> Any:
    headers = dict(owner.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        "/v1/transfers",
        headers=headers,
        json={
            "from_account_id": source,
            "to_account_id": target,
            "amount": amount,
            "currency": currency,
        },
    )


def funded_account(
    client: TestClient, owner: Customer, amount: int, currency: str = "USD"
) -> dict[str, Any]:
    created = account(client, owner, currency)
    response = deposit(client, owner, created["id"], amount, currency)
    assert response.status_code == 201, response.text
    created["balance"] = amount
    return created


def balance(client: TestClient, owner: Customer, account_id: str) -> int:
    response = client.get(f"/v1/accounts/{account_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    value: int = response.json()["balance"]
    return value


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details", "request_id"}, body
    code: str = body["error"]["code"]
    return code
