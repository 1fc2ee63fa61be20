"""Issue 4: correctness under concurrency, on a SQLite file (threads) and on PostgreSQL."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.testclient import TestClient

from bank.cli import main as bank_cli
from tests import factories as f


def _parallel(calls: list[Callable[[], Any]], workers: int = 16) -> list[Any]:
    """Run the calls on `workers` threads, all released at once by one start signal."""
    start = threading.Event()

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, call) for call in calls]
        start.set()
        return [future.result() for future in futures]


def test_parallel_withdrawals_never_overdraw(client: TestClient) -> None:
    owner = f.customer(client)
    account = f.funded_account(client, owner, 1000)

    responses = _parallel(
        [lambda: f.withdraw(client, owner, account["id"], 100) for _ in range(20)]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 10}
    assert all(f.error_code(r) == "insufficient_funds" for r in responses if r.status_code == 409)
    assert f.balance(client, owner, account["id"]) == 0
    after = sorted(r.json()["balance_after"] for r in responses if r.status_code == 201)
    assert after == list(range(0, 1000, 100))


def test_parallel_transfers_conserve_money(
    client: TestClient, db_url: str, monkeypatch: Any
) -> None:
    alice, bob = f.customer(client), f.customer(client)
    owners = {}
    accounts = []
    for owner in (alice, alice, bob, bob):
        created = f.funded_account(client, owner, 5_000)
        owners[created["id"]] = owner
        accounts.append(created["id"])
    hot = accounts[:2]
    rng = random.Random(7)

    def one_transfer() -> Any:
        source, target = rng.sample(hot, 2) if rng.random() < 0.5 else rng.sample(accounts, 2)
        return f.transfer(client, owners[source], source, target, rng.randint(1, 900))

    responses = _parallel([one_transfer for _ in range(120)])

    assert {r.status_code for r in responses} <= {201, 409}
    assert any(r.status_code == 201 for r in responses)
    total = sum(f.balance(client, owners[a], a) for a in accounts)
    assert total == 20_000
    for account_id in accounts:
        rows = client.get(
            f"/v1/statements/{account_id}?limit=100", headers=owners[account_id].headers
        ).json()
        assert rows["closing_balance"] == rows["current_balance"] >= 0
        chain = [t["balance_after"] for t in rows["transactions"]]
        assert chain[-1] == rows["current_balance"]
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert bank_cli(["ledger", "verify"]) == 0


def test_parallel_requests_with_one_key_have_one_effect(client: TestClient) -> None:
    owner = f.customer(client)
    source = f.funded_account(client, owner, 1000)
    target = f.account(client, owner)
    key = str(uuid.uuid4())

    responses = _parallel(
        [
            lambda: f.transfer(client, owner, source["id"], target["id"], 100, key=key)
            for _ in range(20)
        ]
    )

    fresh = [
        r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
    ]
    replays = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(fresh) == 1
    assert len(fresh) + len(replays) + len(in_flight) == 20
    assert all(r.json()["id"] == fresh[0].json()["id"] for r in replays)
    assert all(f.error_code(r) == "idempotency_request_in_progress" for r in in_flight)
    assert f.balance(client, owner, source["id"]) == 900
    assert f.balance(client, owner, target["id"]) == 100


def test_parallel_signups_with_one_email_create_one_user(client: TestClient) -> None:
    body = f.signup_body()

    responses = _parallel([lambda: client.post("/v1/auth/signup", json=body) for _ in range(8)])

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 7}
