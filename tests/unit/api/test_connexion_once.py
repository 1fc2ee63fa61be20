"""Connexion builds an operation's handler pipeline once, not on every request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connexion.decorators import StarletteDecorator
from starlette.testclient import TestClient

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
