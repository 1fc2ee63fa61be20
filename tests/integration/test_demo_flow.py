"""The demo flow over real HTTP against a running service.

signup -> login -> two accounts -> deposit -> transfer -> statements, with httpx against a live
server (tests/live_server.py) on a fresh SQLite database. The flow runs once per module; each
test asserts one behaviour of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.live_server import run_live_server

PASSWORD = "correct-horse-battery"
DEPOSIT = 10_000
TRANSFER = 2_500
CREDITS = {"deposit", "transfer_in"}


@dataclass(frozen=True)
class DemoFlow:
    base_url: str
    email: str
    signup: dict[str, Any]
    tokens: dict[str, Any]
    source_opened: dict[str, Any]
    target_opened: dict[str, Any]
    deposit: dict[str, Any]
    source_after_deposit: dict[str, Any]
    transfer: dict[str, Any]
    source_after_transfer: dict[str, Any]
    target_after_transfer: dict[str, Any]
    source_statement: dict[str, Any]
    target_statement: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live service for this module only (the integration conftest is not involved)."""
    with run_live_server(tmp_path_factory.mktemp("demo-flow-server")) as base_url:
        yield base_url


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    return body


def keyed(auth: dict[str, str]) -> dict[str, str]:
    return {**auth, "Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture(scope="module")
def flow(demo_server: str) -> Iterator[DemoFlow]:
    email = f"demo-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=f"{demo_server}/v1", timeout=15.0) as http:
        signup = expect(
            http.post(
                "/auth/signup",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "dob": "1990-12-10",
                },
            ),
            201,
        )
        tokens = expect(http.post("/auth/login", json={"email": email, "password": PASSWORD}), 200)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        source = expect(
            http.post(
                "/accounts", json={"type": "checking", "currency": "USD"}, headers=keyed(auth)
            ),
            201,
        )
        target = expect(
            http.post(
                "/accounts", json={"type": "savings", "currency": "USD"}, headers=keyed(auth)
            ),
            201,
        )
        deposit = expect(
            http.post(
                "/transactions",
                headers=keyed(auth),
                json={
                    "account_id": source["id"],
                    "type": "deposit",
                    "amount": DEPOSIT,
                    "currency": "USD",
                    "description": "Salary",
                },
            ),
            201,
        )
        source_after_deposit = expect(http.get(f"/accounts/{source['id']}", headers=auth), 200)
        transfer = expect(
            http.post(
                "/transfers",
                headers=keyed(auth),
                json={
                    "from_account_id": source["id"],
                    "to_account_id": target["id"],
                    "amount": TRANSFER,
                    "currency": "USD",
                    "description": "Savings",
                },
            ),
            201,
        )
        yield DemoFlow(
            base_url=demo_server,
            email=email,
            signup=signup,
            tokens=tokens,
            source_opened=source,
            target_opened=target,
            deposit=deposit,
            source_after_deposit=source_after_deposit,
            transfer=transfer,
            source_after_transfer=expect(http.get(f"/accounts/{source['id']}", headers=auth), 200),
            target_after_transfer=expect(http.get(f"/accounts/{target['id']}", headers=auth), 200),
            source_statement=expect(http.get(f"/statements/{source['id']}", headers=auth), 200),
            target_statement=expect(http.get(f"/statements/{target['id']}", headers=auth), 200),
        )


def test_signup_creates_user_and_account_holder(flow: DemoFlow) -> None:
    assert flow.signup["user"]["email"] == flow.email
    assert flow.signup["account_holder"]["user_id"] == flow.signup["user"]["id"]


def test_login_returns_bearer_tokens(flow: DemoFlow) -> None:
    assert flow.tokens["token_type"] == "Bearer"
    assert flow.tokens["access_token"].count(".") == 2  # a JWT
    assert flow.tokens["refresh_token"]
    assert flow.tokens["expires_in"] > 0


def test_protected_route_with_the_token_answers_for_the_user(flow: DemoFlow) -> None:
    response = httpx.get(f"{flow.base_url}/v1/auth/me", headers=flow.auth, timeout=15.0)

    me = expect(response, 200)
    assert me["user"]["id"] == flow.signup["user"]["id"]
    assert me["account_holder"]["id"] == flow.signup["account_holder"]["id"]


@pytest.mark.parametrize("path", ["/accounts", "/auth/me", "/transactions", "/transfers"])
def test_protected_route_without_a_token_is_401_unauthorized(flow: DemoFlow, path: str) -> None:
    response = httpx.get(f"{flow.base_url}/v1{path}", timeout=15.0)

    body = expect(response, 401)
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["request_id"] == response.headers["x-request-id"]


def test_protected_route_with_a_forged_token_is_401_invalid_token(flow: DemoFlow) -> None:
    forged = flow.tokens["access_token"][:-4] + "AAAA"

    response = httpx.get(
        f"{flow.base_url}/v1/accounts", timeout=15.0, headers={"Authorization": f"Bearer {forged}"}
    )

    assert expect(response, 401)["error"]["code"] == "invalid_token"


def test_accounts_open_active_with_zero_balance(flow: DemoFlow) -> None:
    for account in (flow.source_opened, flow.target_opened):
        assert account["balance"] == 0
        assert account["status"] == "active"
        assert account["holder_id"] == flow.signup["account_holder"]["id"]


def test_deposit_raises_the_balance_by_the_amount(flow: DemoFlow) -> None:
    assert flow.deposit["type"] == "deposit"
    assert flow.deposit["amount"] == DEPOSIT
    assert flow.deposit["balance_after"] == DEPOSIT
    assert flow.source_after_deposit["balance"] == flow.source_opened["balance"] + DEPOSIT


def test_transfer_lowers_the_source_and_raises_the_destination(flow: DemoFlow) -> None:
    assert flow.transfer["amount"] == TRANSFER
    assert flow.transfer["from_account_id"] == flow.source_opened["id"]
    assert flow.transfer["to_account_id"] == flow.target_opened["id"]
    assert flow.source_after_transfer["balance"] == flow.source_after_deposit["balance"] - TRANSFER
    assert flow.target_after_transfer["balance"] == flow.target_opened["balance"] + TRANSFER


def test_source_statement_holds_the_deposit_then_the_transfer_out(flow: DemoFlow) -> None:
    rows = flow.source_statement["transactions"]

    assert [(r["type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("deposit", DEPOSIT, DEPOSIT),
        ("transfer_out", TRANSFER, DEPOSIT - TRANSFER),
    ]
    assert rows[0]["id"] == flow.deposit["id"]
    assert rows[0]["transfer_id"] is None
    assert rows[1]["transfer_id"] == flow.transfer["id"]
    assert flow.source_statement["pagination"]["total"] == 2


def test_destination_statement_holds_only_the_transfer_in(flow: DemoFlow) -> None:
    rows = flow.target_statement["transactions"]

    assert [(r["type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("transfer_in", TRANSFER, TRANSFER),
    ]
    assert rows[0]["transfer_id"] == flow.transfer["id"]
    assert flow.target_statement["pagination"]["total"] == 1


@pytest.mark.parametrize("side", ["source_statement", "target_statement"])
def test_statement_balances_are_consistent(flow: DemoFlow, side: str) -> None:
    statement = getattr(flow, side)
    running = statement["opening_balance"]

    for row in statement["transactions"]:
        running += row["amount"] if row["type"] in CREDITS else -row["amount"]
        assert row["balance_after"] == running

    assert statement["opening_balance"] == 0
    assert running == statement["closing_balance"] == statement["current_balance"]
    assert (
        statement["opening_balance"] + statement["total_credits"] - statement["total_debits"]
    ) == statement["closing_balance"]
    assert statement["account"]["balance"] == statement["current_balance"]
