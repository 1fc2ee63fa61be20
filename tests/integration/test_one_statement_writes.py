"""On PostgreSQL a successful transfer, deposit or withdrawal is one statement (a server-side
function in autocommit mode), on SQLite the same steps in one write transaction prepared before
the write lock; anything else falls back to the general path. Either way, on both
databases, the answer and the ledger agree, a refused rule writes nothing, and a retry with the
key answers the same."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from bank.app import BankApp
from bank.db import models, repositories
from bank.db.async_pool import _Wire
from bank.services import idempotency
from tests import factories as f
from tests.integration.recording import (
    record_statements,
    record_write_locks_without_the_general_path,
)

# A description that JSON must escape: quotes, a backslash, a slash, non-ASCII, a control char.
DESCRIPTION = 'rent "May" \\ 50/50 \u2013 café ☕\t'


def _ledger_rows(client: TestClient, owner: f.Customer, account_id: str) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/transactions", params={"account_id": account_id, "limit": 100}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


def _keyed(owner: f.Customer, key: str) -> dict[str, str]:
    return {**owner.headers, "Idempotency-Key": key}


def _funded_pair(client: TestClient) -> tuple[f.Customer, dict[str, Any], dict[str, Any]]:
    """A customer with an account holding 1,000 and an empty one."""
    alice = f.customer(client)
    return alice, f.funded_account(client, alice, 1_000), f.account(client, alice)


def test_a_transfer_answers_what_the_ledger_then_shows_and_a_retry_repeats_it(
    client: TestClient,
) -> None:
    alice = f.customer(client)
    source = f.funded_account(client, alice, 1_000)
    target = f.funded_account(client, alice, 5)
    body = {
        "from_account_id": source["id"],
        "to_account_id": target["id"],
        "amount": 250,
        "currency": "USD",
        "description": DESCRIPTION,
    }

    first = client.post("/v1/transfers", json=body, headers=_keyed(alice, "one-stmt-t"))
    retry = client.post("/v1/transfers", json=body, headers=_keyed(alice, "one-stmt-t"))

    assert first.status_code == 201, first.text
    posted = first.json()
    assert posted["description"] == DESCRIPTION
    assert client.get(f"/v1/transfers/{posted['id']}", headers=alice.headers).json() == posted
    assert (retry.status_code, retry.json()) == (201, posted)
    assert retry.headers["Idempotent-Replayed"] == "true"
    out, into = (
        _ledger_rows(client, alice, source["id"])[-1],
        _ledger_rows(client, alice, target["id"])[-1],
    )
    assert (out["type"], out["balance_after"], out["transfer_id"]) == (
        "transfer_out",
        750,
        posted["id"],
    )
    assert (into["type"], into["balance_after"], into["transfer_id"]) == (
        "transfer_in",
        255,
        posted["id"],
    )
    assert posted["created_at"] == max(out["created_at"], into["created_at"])
    assert f.balance(client, alice, source["id"]) == 750
    assert f.balance(client, alice, target["id"]) == 255


@pytest.mark.parametrize(
    ("kind", "amount", "after"), [("deposit", 40, 140), ("withdrawal", 30, 70)]
)
def test_a_movement_answers_what_the_ledger_then_shows_and_a_retry_repeats_it(
    client: TestClient, kind: str, amount: int, after: int
) -> None:
    alice = f.customer(client)
    account = f.funded_account(client, alice, 100)
    body = {
        "account_id": account["id"],
        "type": kind,
        "amount": amount,
        "currency": "USD",
        "description": DESCRIPTION,
    }
    key = f"one-stmt-{kind}"

    first = client.post("/v1/transactions", json=body, headers=_keyed(alice, key))
    retry = client.post("/v1/transactions", json=body, headers=_keyed(alice, key))

    assert first.status_code == 201, first.text
    posted = first.json()
    assert (posted["type"], posted["amount"], posted["balance_after"]) == (kind, amount, after)
    assert posted["transfer_id"] is None
    assert client.get(f"/v1/transactions/{posted['id']}", headers=alice.headers).json() == posted
    assert (retry.status_code, retry.json()) == (201, posted)
    assert f.balance(client, alice, account["id"]) == after


def _accounts_both_sides_of(
    client: TestClient, owner: f.Customer, pivot: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two of the owner's accounts: one whose id sorts below `pivot`, one above."""
    below = above = None
    while below is None or above is None:
        created = f.account(client, owner)
        if uuid.UUID(created["id"]) < uuid.UUID(pivot):
            below = below or created
        else:
            above = above or created
    return below, above


@pytest.mark.parametrize("target_side", ["below", "above"])
@pytest.mark.parametrize(
    ("refusal", "code", "status"),
    [("insufficient", "insufficient_funds", 409), ("frozen", "account_not_active", 409)],
)
def test_a_transfer_refused_on_either_account_writes_nothing(
    client: TestClient, target_side: str, refusal: str, code: str, status: int
) -> None:
    # Rows are locked in id order, so the refused account is the first or the second updated.
    alice = f.customer(client)
    source = f.funded_account(client, alice, 100)
    below, above = _accounts_both_sides_of(client, alice, source["id"])
    target = below if target_side == "below" else above
    f.deposit(client, alice, target["id"], 7)
    if refusal == "frozen":
        frozen = client.patch(
            f"/v1/accounts/{target['id']}", json={"status": "frozen"}, headers=alice.headers
        )
        assert frozen.status_code == 200
    amount = 500 if refusal == "insufficient" else 10
    key = f"refused-{refusal}-{target_side}"

    first = f.transfer(client, alice, source["id"], target["id"], amount, key=key)
    retry = f.transfer(client, alice, source["id"], target["id"], amount, key=key)

    assert (first.status_code, f.error_code(first)) == (status, code)
    assert (retry.status_code, f.error_code(retry)) == (status, code)
    assert retry.json()["error"]["message"] == first.json()["error"]["message"]
    assert [len(_ledger_rows(client, alice, a["id"])) for a in (source, target)] == [1, 1]
    seen = client.get(f"/v1/accounts/{source['id']}", headers=alice.headers).json()
    assert seen["balance"] == 100
    seen = client.get(f"/v1/accounts/{target['id']}", headers=alice.headers).json()
    assert seen["balance"] == 7


def test_an_over_draw_writes_nothing_and_its_key_answers_the_same(client: TestClient) -> None:
    alice = f.customer(client)
    account = f.funded_account(client, alice, 100)

    first = f.withdraw(client, alice, account["id"], 101, key="over-draw")
    retry = f.withdraw(client, alice, account["id"], 101, key="over-draw")
    unkeyed = f.withdraw(client, alice, account["id"], 102)

    assert (first.status_code, f.error_code(first)) == (409, "insufficient_funds")
    assert first.json()["error"]["details"] == {
        "account_id": account["id"],
        "balance": 100,
        "amount": 101,
    }
    assert "Idempotent-Replayed" not in first.headers
    assert (retry.status_code, f.error_code(retry)) == (409, "insufficient_funds")
    assert retry.json()["error"]["details"] == first.json()["error"]["details"]
    assert retry.json()["error"]["message"] == first.json()["error"]["message"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (unkeyed.status_code, unkeyed.json()["error"]["details"]["amount"]) == (409, 102)
    assert len(_ledger_rows(client, alice, account["id"])) == 1
    assert f.balance(client, alice, account["id"]) == 100
    # The refusal took nothing: the money that is there can still be withdrawn, once.
    assert f.withdraw(client, alice, account["id"], 100, key="all-of-it").status_code == 201
    assert f.withdraw(client, alice, account["id"], 1).status_code == 409


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("frozen", 409, "account_not_active"),
        ("another customer's", 404, "not_found"),
        ("in another currency", 400, "currency_mismatch"),
    ],
)
def test_an_over_draw_that_breaks_an_earlier_rule_is_refused_for_that_rule(
    client: TestClient, case: str, status: int, code: str
) -> None:
    alice, mallory = f.customer(client), f.customer(client)
    owner = mallory if case == "another customer's" else alice
    account = f.funded_account(client, owner, 100)
    currency = "EUR" if case == "in another currency" else "USD"
    if case == "frozen":
        frozen = client.patch(
            f"/v1/accounts/{account['id']}", json={"status": "frozen"}, headers=alice.headers
        )
        assert frozen.status_code == 200

    key = f"over-draw-{uuid.uuid4().hex}"
    refused = f.withdraw(client, alice, account["id"], 101, currency=currency, key=key)

    assert (refused.status_code, f.error_code(refused)) == (status, code)
    assert "balance" not in refused.json()["error"]["details"]
    assert f.balance(client, owner, account["id"]) == 100


def test_postgres_moves_money_in_one_statement_and_no_transaction_block(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in process: no round trips to save")
    alice, source, target = _funded_pair(client)
    f.transfer(client, alice, source["id"], target["id"], 1)  # the token is verified and cached
    sent: list[str] = []
    commits: list[int] = []
    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit
    run_async = _Wire.run  # the asynchronous connections' statements (bank/db/async_pool.py)

    def counting_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kw)

    def counting_commit(self: psycopg.Connection[Any]) -> None:
        commits.append(1)
        commit(self)

    async def counting_run_async(self: _Wire, query: str, params: Any) -> Any:
        sent.append(query)
        return await run_async(self, query, params)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", counting_commit)
    monkeypatch.setattr(_Wire, "run", counting_run_async)

    moved = [
        f.transfer(client, alice, source["id"], target["id"], 10, key="one-round-trip-t"),
        f.deposit(client, alice, source["id"], 10, key="one-round-trip-d"),
        f.withdraw(client, alice, source["id"], 10, key="one-round-trip-w"),
    ]

    assert [r.status_code for r in moved] == [201, 201, 201]
    assert len(sent) == 3, sent
    assert "bank_post_transfer" in sent[0]
    assert all("bank_post_movement" in query for query in sent[1:])
    assert commits == []  # autocommit: each statement is its own transaction


def test_postgres_refuses_an_over_draw_in_one_statement(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in process: no round trips to save")
    alice = f.customer(client)
    account = f.funded_account(client, alice, 100)
    synchronous, asynchronous = record_statements(monkeypatch)

    refused = [
        f.withdraw(client, alice, account["id"], 101, key="one-statement-refusal"),
        f.withdraw(client, alice, account["id"], 101),  # no key
    ]

    assert [(r.status_code, f.error_code(r)) for r in refused] == [(409, "insufficient_funds")] * 2
    assert synchronous == []
    assert len(asynchronous) == 2, asynchronous
    assert all("bank_post_movement" in query for query in asynchronous)


def test_sqlite_refuses_an_over_draw_in_one_write_transaction_without_the_general_path(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL runs the server-side function (the test above)")
    alice = f.customer(client)
    account = f.funded_account(client, alice, 100)
    locks = record_write_locks_without_the_general_path(monkeypatch)

    refused = [
        f.withdraw(client, alice, account["id"], 101, key="in-process-refusal"),
        f.withdraw(client, alice, account["id"], 101),  # no key
    ]

    assert [(r.status_code, f.error_code(r)) for r in refused] == [(409, "insufficient_funds")] * 2
    assert len(locks) == 2  # one write transaction each
    monkeypatch.undo()
    replayed = f.withdraw(client, alice, account["id"], 101, key="in-process-refusal")
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["error"]["details"] == refused[0].json()["error"]["details"]


def test_sqlite_moves_money_in_one_write_transaction_without_the_general_path(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL runs the server-side function (the test above)")
    alice, source, target = _funded_pair(client)
    locks = record_write_locks_without_the_general_path(monkeypatch)

    moved = [
        f.transfer(client, alice, source["id"], target["id"], 10, key="in-process-t"),
        f.deposit(client, alice, source["id"], 10, key="in-process-d"),
        f.withdraw(client, alice, source["id"], 10, key="in-process-w"),
        f.transfer(client, alice, source["id"], target["id"], 10),  # no key
    ]

    assert [r.status_code for r in moved] == [201, 201, 201, 201], [r.text for r in moved]
    assert len(locks) == 4  # one write transaction each
    assert f.balance(client, alice, source["id"]) == 980
    assert f.balance(client, alice, target["id"]) == 20


def test_sqlite_a_failure_part_way_through_the_in_process_write_leaves_nothing_written(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the in-process steps are SQLite's")
    alice, source, target = _funded_pair(client)
    run_driver = repositories.run_driver

    def failing_audit(conn: Any, sql: str, params: Any, **kw: Any) -> Any:
        if sql.startswith("INSERT INTO audit_events"):
            raise DBAPIError(sql, params, sqlite3.OperationalError("disk I/O error"))
        return run_driver(conn, sql, params, **kw)

    monkeypatch.setattr(repositories, "run_driver", failing_audit)
    failed = f.transfer(client, alice, source["id"], target["id"], 10, key="half-written")
    monkeypatch.undo()

    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    assert f.balance(client, alice, source["id"]) == 1_000
    assert f.balance(client, alice, target["id"]) == 0
    assert len(_ledger_rows(client, alice, target["id"])) == 0
    retried = f.transfer(client, alice, source["id"], target["id"], 10, key="half-written")
    assert retried.status_code == 201, retried.text  # the key was not stored either
    assert f.balance(client, alice, target["id"]) == 10


def _expire(app: BankApp, key: str) -> Any:
    """Make the stored response under `key` expired; the keys table, to read it back."""
    keys = models.idempotency_keys
    with app.engine.begin() as conn:
        expired = datetime(2000, 1, 1, tzinfo=UTC)
        conn.execute(update(keys).where(keys.c.key == key).values(expires_at=expired))
    return keys


def test_a_write_that_purges_expired_keys_purges_them_and_posts(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = f.customer(client)
    source = f.account(client, alice)
    target = f.account(client, alice)
    assert f.deposit(client, alice, source["id"], 1_000, key="soon-expired").status_code == 201
    keys = _expire(app, "soon-expired")
    monkeypatch.setattr(idempotency, "PURGE_ONE_IN", 1)  # every write purges

    moved = [
        f.transfer(client, alice, source["id"], target["id"], 10, key="purging-t"),
        f.deposit(client, alice, source["id"], 10, key="purging-d"),
    ]

    assert [r.status_code for r in moved] == [201, 201], [r.text for r in moved]
    with app.engine.connect() as conn:
        left = conn.execute(select(keys.c.key).order_by(keys.c.key)).scalars().all()
    assert "soon-expired" not in left
    assert {"purging-t", "purging-d"} <= set(left)
    assert f.balance(client, alice, target["id"]) == 10


def test_a_refused_write_that_purges_expired_keys_purges_them_and_stores_its_answer(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A refusal is stored by the general path (`Idempotency.purge`), not the one-call path.
    alice = f.customer(client)
    account = f.account(client, alice)
    assert f.deposit(client, alice, account["id"], 100, key="soon-expired").status_code == 201
    keys = _expire(app, "soon-expired")
    monkeypatch.setattr(idempotency, "PURGE_ONE_IN", 1)  # every write purges

    refused = f.withdraw(client, alice, account["id"], 101, key="purging-refused")

    assert (refused.status_code, f.error_code(refused)) == (409, "insufficient_funds")
    with app.engine.connect() as conn:
        left = set(conn.execute(select(keys.c.key)).scalars())
    assert "soon-expired" not in left
    assert "purging-refused" in left
    assert f.balance(client, alice, account["id"]) == 100
