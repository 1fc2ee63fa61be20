"""The demo client's money handling and HTTP behaviour, in process, over a mock transport."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

CLIENTS_DIR = Path(__file__).resolve().parents[2] / "clients"
sys.path.insert(0, str(CLIENTS_DIR))

import demo_client  # noqa: E402
from demo_client import ApiError, BankApi  # noqa: E402

NOW = "2026-11-28T09:30:00Z"
ACCOUNT_ID = str(uuid.uuid4())
OTHER_ID = str(uuid.uuid4())

BODIES: dict[str, dict[str, Any]] = {
    "/v1/accounts": {
        "id": ACCOUNT_ID,
        "holder_id": str(uuid.uuid4()),
        "type": "checking",
        "currency": "USD",
        "balance": 0,
        "status": "active",
        "created_at": NOW,
    },
    "/v1/transactions": {
        "id": str(uuid.uuid4()),
        "account_id": ACCOUNT_ID,
        "type": "deposit",
        "amount": 12_550,
        "currency": "USD",
        "balance_after": 12_550,
        "transfer_id": None,
        "description": None,
        "created_at": NOW,
    },
    "/v1/transfers": {
        "id": str(uuid.uuid4()),
        "from_account_id": ACCOUNT_ID,
        "to_account_id": OTHER_ID,
        "amount": 100,
        "currency": "USD",
        "description": None,
        "created_at": NOW,
    },
    "/v1/cards": {
        "id": str(uuid.uuid4()),
        "account_id": ACCOUNT_ID,
        "type": "virtual",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 11,
        "exp_year": 2029,
        "status": "active",
        "created_at": NOW,
    },
}

Handler = Callable[[httpx.Request], httpx.Response]


def recording(requests: list[httpx.Request], handler: Handler | None = None) -> BankApi:
    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if handler is not None:
            return handler(request)
        return httpx.Response(201, json=BODIES[request.url.path])

    return BankApi("http://bank.test", transport=httpx.MockTransport(record))


def envelope(code: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": "The balance is lower than the amount.",
            "details": {},
            "request_id": "req-1",
        }
    }


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (123_456, "USD", "1,234.56 USD"),
        (5, "EUR", "0.05 EUR"),
        (0, "GBP", "0.00 GBP"),
        (10**15, "USD", "10,000,000,000,000.00 USD"),
    ],
)
def test_money_is_shown_in_major_units_with_the_currency(
    minor: int, currency: str, shown: str
) -> None:
    assert demo_client.format_money(minor, currency) == shown


@pytest.mark.parametrize(
    ("given", "minor"),
    [("125.50", 12_550), ("1", 100), ("0.01", 1), (10.5, 1_050), (7, 700), (" 3.10 ", 310)],
)
def test_major_amounts_are_sent_as_integer_minor_units(given: object, minor: int) -> None:
    amount = demo_client.parse_major_amount(given)

    assert demo_client.to_minor_units(amount, "USD") == minor


@pytest.mark.parametrize(
    "given",
    ["-5", "0", "0.00", "1.001", "abc", "1e3", "", True, None, "1,000", "10000000000000.01"],
)
def test_bad_amounts_are_rejected(given: object) -> None:
    with pytest.raises(ValueError):
        demo_client.parse_major_amount(given)


def test_every_creating_call_sends_a_fresh_uuid4_idempotency_key() -> None:
    requests: list[httpx.Request] = []
    api = recording(requests)
    account = uuid.UUID(ACCOUNT_ID)

    api.create_account("tok", "checking", "USD")
    api.post_transaction("tok", account, "deposit", amount=12_550, currency="USD")
    api.transfer("tok", account, uuid.UUID(OTHER_ID), amount=100, currency="USD")
    api.issue_card("tok", account, "virtual")

    keys = [request.headers["Idempotency-Key"] for request in requests]
    assert [uuid.UUID(key).version for key in keys] == [4, 4, 4, 4]
    assert len(set(keys)) == 4
    assert all(r.headers["Authorization"] == "Bearer tok" for r in requests)


def test_amounts_go_on_the_wire_as_integers() -> None:
    requests: list[httpx.Request] = []
    api = recording(requests)

    api.post_transaction("tok", uuid.UUID(ACCOUNT_ID), "deposit", amount=12_550, currency="USD")

    assert json.loads(requests[0].content)["amount"] == 12_550


def test_a_retry_after_a_network_failure_reuses_the_idempotency_key() -> None:
    requests: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if len(requests) == 1:
            raise httpx.ConnectError("connection reset", request=request)
        return httpx.Response(201, json=BODIES["/v1/transfers"])

    api = recording(requests, flaky)

    api.transfer("tok", uuid.UUID(ACCOUNT_ID), uuid.UUID(OTHER_ID), amount=100, currency="USD")

    assert len(requests) == 2
    assert requests[0].headers["Idempotency-Key"] == requests[1].headers["Idempotency-Key"]


def test_an_error_envelope_becomes_an_api_error_with_its_code() -> None:
    api = recording([], lambda r: httpx.Response(409, json=envelope("insufficient_funds")))

    with pytest.raises(ApiError) as raised:
        api.post_transaction("tok", uuid.UUID(ACCOUNT_ID), "withdrawal", amount=1, currency="USD")

    assert (raised.value.status, raised.value.code) == (409, "insufficient_funds")
    assert raised.value.request_id == "req-1"
    assert raised.value.describe().startswith("insufficient_funds: The balance is lower")


@pytest.mark.parametrize("status", [409, 502])
def test_a_body_outside_the_contract_becomes_unexpected_response(status: int) -> None:
    api = recording([], lambda r: httpx.Response(status, text="<html>Bad gateway</html>"))

    with pytest.raises(ApiError) as raised:
        api.create_account("tok", "checking", "USD")

    assert raised.value.code == "unexpected_response"


def test_parsed_amounts_keep_exact_decimals() -> None:
    assert demo_client.parse_major_amount("0.10") == Decimal("0.10")
