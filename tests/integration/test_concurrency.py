"""Issue 4: correctness under concurrency, on a SQLite file (threads) and on PostgreSQL."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from bank.cli import main as bank_cli
from tests import factories as f
from tests.integration.conftest import AppFactory


@pytest.fixture
def workers(client: TestClient, make_client: AppFactory) -> list[TestClient]:
    """Four apps on one database, each on its own event loop, like gunicorn's workers.

    A request's transaction runs on its app's event loop, one at a time, so requests sent to a
    single app are served in turn; concurrency between transactions needs several apps (on
    SQLite each has its own write lock, and they meet on the shared lock file, as processes do).
    """
    return [client, *(make_client() for _ in range(3))]


def _parallel(
    calls: list[Callable[[TestClient], Any]], workers: list[TestClient], threads: int = 16
) -> list[Any]:
    """Run the calls on `threads` threads, spread over the workers, released by one signal."""
    start = threading.Event()

    def run(call: Callable[[TestClient], Any], worker: TestClient) -> Any:
        start.wait()
        return call(worker)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [
            pool.submit(run, call, workers[i % len(workers)]) for i, call in enumerate(calls)
        ]
        start.set()
        return [future.result() for future in futures]


def test_parallel_withdrawals_never_overdraw(client: TestClient, workers: list[TestClient]) -> None:
    owner = f.customer(client)
    account = f.funded_account(client, owner, 1000)

    responses = _parallel(
        [lambda c: f.withdraw(c, owner, account["id"], 100) for _ in range(20)], workers
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 10}
    assert all(f.error_code(r) == "insufficient_funds" for r in responses if r.status_code == 409)
    assert f.balance(client, owner, account["id"]) == 0
    after = sorted(r.json()["balance_after"] for r in responses if r.status_code == 201)
    assert after == list(range(0, 1000, 100))


def test_parallel_transfers_conserve_money(
    client: TestClient, workers: list[TestClient], db_url: str, monkeypatch: Any
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

    plan = [
        (
            *(rng.sample(hot, 2) if rng.random() < 0.5 else rng.sample(accounts, 2)),
            rng.randint(1, 900),
        )
        for _ in range(120)
    ]

    def one_transfer(source: str, target: str, amount: int) -> Callable[[TestClient], Any]:
        return lambda c: f.transfer(c, owners[source], source, target, amount)

    responses = _parallel([one_transfer(*step) for step in plan], workers)

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


def test_parallel_requests_with_one_key_have_one_effect(
    client: TestClient, workers: list[TestClient]
) -> None:
    owner = f.customer(client)
    source = f.funded_account(client, owner, 1000)
    target = f.account(client, owner)
    key = str(uuid.uuid4())

    responses = _parallel(
        [
            lambda c: f.transfer(c, owner, source["id"], target["id"], 100, key=key)
            for _ in range(20)
        ],
        workers,
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


def test_parallel_signups_with_one_email_create_one_user(
    client: TestClient, workers: list[TestClient]
) -> None:
    body = f.signup_body()

    responses = _parallel(
        [lambda c: c.post("/v1/auth/signup", json=body) for _ in range(8)], workers
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 7}
