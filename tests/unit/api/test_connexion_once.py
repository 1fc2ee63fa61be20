"""Connexion builds an operation's handler pipeline once, not on every request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connexion.decorators import StarletteDecorator
from starlette.testclient import TestClient

from bank.api.validation import CachedJSONBodyValidator, NamingParameterValidator
from bank.app import create_app
from bank.db.migrations import upgrade
from tests import factories as f
from tests.conftest import make_settings


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each handler's pipeline was built."""
    counts: Counter[str] = Counter()
    original = StarletteDecorator.decorate

    def counting(self: StarletteDecorator, function: Any) -> Any:
        counts[function.__name__] += 1
        return original(self, function)

    monkeypatch.setattr(StarletteDecorator, "decorate", counting)
    return counts


@pytest.fixture
def client(tmp_path: Path, built: Counter[str]) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'once.db'}"
    upgrade(url)
    with create_app(make_settings(url)).test_client() as test_client:
        yield test_client


def test_each_operation_is_decorated_once_however_many_requests(
    client: TestClient, built: Counter[str]
) -> None:
    owner = f.customer(client)
    account = f.account(client, owner)
    for _ in range(3):
        assert client.get("/v1/health/live").status_code == 200
        assert client.get(f"/v1/accounts/{account['id']}", headers=owner.headers).json()["id"]
        assert f.deposit(client, owner, account["id"], 5).status_code == 201

    assert f.balance(client, owner, account["id"]) == 15
    assert built["get_liveness"] == 1
    assert built["get_account"] == 1
    assert built["create_transaction"] == 1


@pytest.fixture
def validators_built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many parameter and body validators were built."""
    counts: Counter[str] = Counter()
    for cls in (NamingParameterValidator, CachedJSONBodyValidator):
        original = cls.__init__

        def counting(self: Any, *args: Any, _original: Any = original, **kw: Any) -> None:
            counts[type(self).__name__] += 1
            _original(self, *args, **kw)

        monkeypatch.setattr(cls, "__init__", counting)
    return counts


def test_request_validators_are_built_once_per_operation_and_keep_no_request_state(
    tmp_path: Path, validators_built: Counter[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'validators.db'}"
    upgrade(url)
    with create_app(make_settings(url)).test_client() as client:
        owner = f.customer(client)
        account = f.account(client, owner)
        validators_built.clear()
        outcomes = []
        for amount in (5, -1, 7, "x", 9):
            response = client.post(
                "/v1/transactions",
                json={
                    "account_id": account["id"],
                    "type": "deposit",
                    "amount": amount,
                    "currency": "USD",
                },
                headers=owner.headers,
            )
            outcomes.append((response.status_code, response.json().get("error", {}).get("code")))
        wrong_type = client.post(
            "/v1/transactions",
            content="amount=5",
            headers={**owner.headers, "Content-Type": "text/plain"},
        )
        unknown = client.get("/v1/transactions", params={"colour": "red"}, headers=owner.headers)
        listed = client.get("/v1/transactions", params={"limit": 2}, headers=owner.headers)

    assert outcomes == [
        (201, None),
        (400, "validation_error"),
        (201, None),
        (400, "validation_error"),
        (201, None),
    ]
    assert wrong_type.status_code == 415
    assert (unknown.status_code, f.error_code(unknown)) == (400, "validation_error")
    assert listed.status_code == 200
    # create_transaction and list_transactions: one parameter validator each, one body validator.
    assert validators_built == {"NamingParameterValidator": 2, "CachedJSONBodyValidator": 1}
