"""Connexion builds an operation's handler pipeline once, not on every request."""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from connexion.decorators import StarletteDecorator
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bank.api import connexion_once
from bank.api.validation import CachedJSONBodyValidator, NamingParameterValidator
from bank.app import create_app, load_spec
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


HANDLER_MODULES = (
    "bank.api.account_holders",
    "bank.api.accounts",
    "bank.api.auth",
    "bank.api.cards",
    "bank.api.health",
    "bank.api.statements",
    "bank.api.transactions",
    "bank.api.transfers",
)


def _operation_ids() -> set[str]:
    return {
        operation["operationId"]
        for item in load_spec()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every handler call as (operationId, its keyword arguments), in order."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for module_name in HANDLER_MODULES:
        module = importlib.import_module(module_name)
        for name in _operation_ids():
            handler = getattr(module, name, None)
            if handler is None:
                continue
            if inspect.iscoroutinefunction(handler):

                @functools.wraps(handler)
                async def spy(*args: Any, _handler: Any = handler, **kwargs: Any) -> Any:
                    calls.append((_handler.__name__, copy.deepcopy(kwargs)))
                    return await _handler(*args, **kwargs)

            else:

                @functools.wraps(handler)
                def spy(*args: Any, _handler: Any = handler, **kwargs: Any) -> Any:
                    calls.append((_handler.__name__, copy.deepcopy(kwargs)))
                    return _handler(*args, **kwargs)

            monkeypatch.setattr(module, name, spy)
    return calls


def _every_operation(client: TestClient, ids: dict[str, Any]) -> None:
    """Requests whose arguments do not depend on earlier answers: path, query (given, partly
    given, absent: defaults), bodies with and without optional fields, an empty body."""
    owner = ids["owner"]
    h = owner.headers
    a, b = ids["a"], ids["b"]
    client.get("/v1/health/live")
    client.get("/v1/health")
    client.post("/v1/auth/signup", json=f.signup_body(email="same-twice@example.com"))
    client.post("/v1/auth/login", json={"email": owner.email, "password": f.PASSWORD})
    client.post("/v1/auth/refresh", json={"refresh_token": "not-a-token"})
    client.get("/v1/auth/me", headers=h)
    client.get("/v1/account-holders", headers=h)
    client.get("/v1/account-holders", params={"limit": 5, "offset": 1}, headers=h)
    client.get(f"/v1/account-holders/{owner.holder_id}", headers=h)
    client.post("/v1/accounts", json={"type": "savings", "currency": "EUR"}, headers=h)
    client.get("/v1/accounts", params={"limit": "3"}, headers=h)
    client.get(f"/v1/accounts/{a}", headers=h)
    client.patch(f"/v1/accounts/{b}", json={"status": "active"}, headers=h)
    movement = {"account_id": a, "type": "deposit", "amount": 7, "currency": "USD"}
    client.post("/v1/transactions", json=movement, headers=h)
    client.post("/v1/transactions", json={**movement, "description": "ünïcode"}, headers=h)
    client.post("/v1/transactions", content=b"", headers={**h, "Content-Type": "application/json"})
    client.get("/v1/transactions", params={"account_id": a, "limit": 2, "offset": 0}, headers=h)
    client.get("/v1/transactions", headers=h)
    client.get(f"/v1/transactions/{ids['transaction']}", headers=h)
    client.post(
        "/v1/transfers",
        json={"from_account_id": a, "to_account_id": b, "amount": 3, "currency": "USD"},
        headers=h,
    )
    client.get("/v1/transfers", params={"account_id": b}, headers=h)
    client.get(f"/v1/transfers/{ids['transfer']}", headers=h)
    client.post("/v1/cards", json={"account_id": a, "type": "virtual"}, headers=h)
    client.get("/v1/cards", params={"offset": 1}, headers=h)
    client.get(f"/v1/cards/{ids['card']}", headers=h)
    client.patch(f"/v1/cards/{ids['card']}", json={"status": "active"}, headers=h)
    client.get(
        f"/v1/statements/{a}",
        params={"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00+02:00", "limit": 5},
        headers=h,
    )
    client.get(f"/v1/statements/{a}", headers=h)
    client.post("/v1/auth/logout", headers=h)  # last: later runs' handlers then answer 401


def test_handlers_get_the_same_arguments_as_from_connexions_own_parameter_decorator(
    tmp_path: Path,
    received: list[tuple[str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'arguments.db'}"
    upgrade(url)
    with create_app(make_settings(url)).test_client() as setup:
        owner = f.customer(setup)
        a, b = f.account(setup, owner)["id"], f.account(setup, owner)["id"]
        moved = f.deposit(setup, owner, a, 100).json()
        transfer = f.transfer(setup, owner, a, b, 5).json()
        card = setup.post(
            "/v1/cards", json={"account_id": a, "type": "virtual"}, headers=owner.headers
        )
        ids = {
            "owner": owner,
            "a": a,
            "b": b,
            "transaction": moved["id"],
            "transfer": transfer["id"],
            "card": card.json()["id"],
        }
    received.clear()
    with create_app(make_settings(url)).test_client() as lean:
        _every_operation(lean, ids)
    ours = list(received)
    received.clear()
    # Connexion's own decorator: every plan falls back to the stock path.
    monkeypatch.setattr(connexion_once._OnceParameters, "_plan", lambda *_: None)
    with create_app(make_settings(url)).test_client() as stock:
        _every_operation(stock, ids)

    assert ours == received
    assert {name for name, _ in ours} == _operation_ids()
    assert ("create_transaction", {"token_info": ANY, "body": {}}) not in ours  # empty: 400
    bodies = [kwargs["body"] for name, kwargs in ours if name == "create_transaction"]
    assert bodies[1]["description"] == "ünïcode"


_HEADER_NAMES = st.sampled_from(
    ["content-type", "Content-Type", "CONTENT-TYPE", "content-length", "accept", "x-content-type"]
)
_HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40)


@given(
    st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=5),
    st.sampled_from(["asgi", "dict"]),
)
def test_content_type_extraction_answers_as_connexions_own(
    pairs: list[tuple[str, str]], shape: str
) -> None:
    headers: Any = (
        [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
        if shape == "asgi"
        else dict(pairs)
    )

    ours = connexion_once.extract_content_type(headers)

    assert ours == connexion_once.STOCK_EXTRACT_CONTENT_TYPE(headers)
