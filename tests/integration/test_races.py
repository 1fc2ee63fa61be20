"""Races a load test can hit but rarely does, made to happen on purpose: the services run with a
unit of work that lets a competitor act at the exact point where the race lies."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from bank.app import BankApp
from bank.core import security
from bank.db import repositories
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain import errors
from bank.domain.model import Actor, Client, Role
from bank.services import cards, ledger, users
from tests import factories as f


def _actor(owner: f.Customer) -> Actor:
    claims = jwt.decode(owner.token, options={"verify_signature": False})
    return Actor(
        user_id=UUID(owner.user_id),
        role=Role.CUSTOMER,
        holder_id=UUID(owner.holder_id),
        jti=claims["jti"],
        token_exp=int(claims["exp"]),
    )


class _BeforeSecondWrite(SqlAlchemyUnitOfWork):
    """Runs `between` once, just before its second write transaction begins."""

    def __init__(self, app: BankApp, between: Callable[[], None]) -> None:
        super().__init__(app.engine)
        self._writes = 0
        self._between = between

    def write(self) -> AbstractContextManager[Any]:
        self._writes += 1
        if self._writes == 2:
            self._between()
        return super().write()


def test_a_retry_that_commits_while_a_failure_is_recorded_is_the_keys_one_answer(
    app: BankApp, client: TestClient
) -> None:
    # A transfer's refusal is recorded by the general path, in a second write transaction (a
    # withdrawal's over-draw is refused and stored in one call, see test_one_statement_writes).
    owner = f.customer(client)
    account = f.account(client, owner)  # empty: the first transfer fails
    target = f.account(client, owner)
    actor = _actor(owner)
    request = ledger.TransferRequest(UUID(account["id"]), UUID(target["id"]), 50, "USD")
    key = f"race-{uuid.uuid4()}"
    retry: dict[str, Any] = {}

    def deposit_then_retry() -> None:
        assert f.deposit(client, owner, account["id"], 100).status_code == 201
        # Its own thread and event loop: the first request's loop is the one waiting here.
        uow = SqlAlchemyUnitOfWork(app.engine)
        retrying = threading.Thread(
            target=lambda: retry.update(
                result=asyncio.run(ledger.transfer(uow, actor, request, key, 24))
            )
        )
        retrying.start()
        retrying.join()

    first = asyncio.run(
        ledger.transfer(_BeforeSecondWrite(app, deposit_then_retry), actor, request, key, 24)
    )

    assert retry["result"].status == 201
    assert (first.status, first.body, first.replayed) == (201, retry["result"].body, True)
    assert f.balance(client, owner, account["id"]) == 50
    assert f.balance(client, owner, target["id"]) == 50
    again = f.transfer(client, owner, account["id"], target["id"], 50, key=key)
    assert again.status_code == 201
    assert again.json()["id"] == retry["result"].body["id"]


def test_a_logout_racing_another_with_the_same_token_is_not_an_error(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f.customer(client)
    actor = _actor(owner)
    assert client.post("/v1/auth/logout", headers=owner.headers).status_code == 204
    # The racing logout checked the token before the first one committed.
    monkeypatch.setattr(users, "ensure_token_live", lambda *_: None)
    monkeypatch.setattr(repositories.Tokens, "is_revoked", lambda *_: False)

    users.logout(SqlAlchemyUnitOfWork(app.engine), actor, app.wiring.auth)

    monkeypatch.undo()
    response = client.get("/v1/accounts", headers=owner.headers)
    assert f.error_code(response) == "token_revoked"


class _HeldBeforeCommit(SqlAlchemyUnitOfWork):
    """Calls `held` after the work, before COMMIT, with the transaction still open."""

    def __init__(self, app: BankApp, held: Callable[[], None]) -> None:
        super().__init__(app.engine)
        self._held = held

    def commit(self) -> None:
        self._held()
        super().commit()


def _waiting_on_a_lock_or_done(app: BankApp, done: threading.Event) -> None:
    """Until the competitor waits for a row lock or has finished (bounded)."""
    probe = app.engine.connect()
    try:
        for _ in range(2000):
            if done.wait(0.005):
                return
            waiting = probe.execute(
                text(  # a waiter in this test's database: the competitor
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE NOT l.granted AND l.locktype = 'transactionid'"
                    " AND a.datname = current_database()"
                )
            ).scalar_one()
            probe.rollback()
            if waiting:
                return
        raise AssertionError("the competitor neither waited nor finished")
    finally:
        probe.close()


@pytest.fixture
def four_cards(client: TestClient) -> Iterator[tuple[f.Customer, dict[str, Any]]]:
    owner = f.customer(client)
    account = f.account(client, owner)
    for _ in range(4):
        response = client.post(
            "/v1/cards",
            json={"account_id": account["id"], "type": "virtual"},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
    yield owner, account


def test_two_cards_issued_at_once_never_pass_the_limit(
    app: BankApp, client: TestClient, backend: str, four_cards: tuple[f.Customer, dict[str, Any]]
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite runs one write transaction at a time: no race to stage")
    owner, account = four_cards
    actor = _actor(owner)
    request = cards.IssueCard(UUID(account["id"]), "virtual")
    policy = app.wiring.cards
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def competitor() -> None:
        try:
            outcome["second"] = cards.issue_card(
                SqlAlchemyUnitOfWork(app.engine), actor, request, None, policy
            )
        except errors.BankError as exc:
            outcome["second"] = exc
        finally:
            done.set()

    def while_held() -> None:
        threading.Thread(target=competitor, daemon=True).start()
        _waiting_on_a_lock_or_done(app, done)

    first = cards.issue_card(_HeldBeforeCommit(app, while_held), actor, request, None, policy)
    assert done.wait(10)

    assert first.status == 201
    assert isinstance(outcome["second"], errors.CardLimitReached)
    listed = client.get(f"/v1/cards?account_id={account['id']}", headers=owner.headers).json()
    assert listed["pagination"]["total"] == 5


def test_a_statement_reads_one_snapshot_while_money_moves(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f.customer(client)
    account = f.funded_account(client, owner, 1000)
    original = repositories.SnapshotReads.position_before
    deposited: list[int] = []

    async def read_then_deposit(self: repositories.SnapshotReads, *args: Any) -> Any:
        found = await original(self, *args)
        if not deposited:  # a deposit commits between the statement's reads
            deposited.append(f.deposit(client, owner, account["id"], 5).status_code)
        return found

    monkeypatch.setattr(repositories.SnapshotReads, "position_before", read_then_deposit)
    until = datetime.now(UTC) + timedelta(days=1)

    statement = asyncio.run(
        ledger.statement(
            SqlAlchemyUnitOfWork(app.engine),
            _actor(owner),
            UUID(account["id"]),
            None,
            until,
            100,
            0,
        )
    )

    assert deposited == [201]
    assert statement.closing_balance == statement.account.balance == 1000
    assert statement.total_credits == 1000 and statement.transactions.total == 1
    assert [row.balance_after for row in statement.transactions.items] == [1000]


def test_wrong_passwords_tried_in_parallel_cannot_pass_the_login_throttle(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f.customer(client)
    limit = app.wiring.auth.max_failures_email
    original = security.verify_password
    others: list[int] = []

    def slow_hash_meanwhile(password: str, password_hash: str) -> bool:
        if not others:  # while the first attempt is hashing, the others arrive
            others.append(0)
            for _ in range(limit):
                response = client.post(
                    "/v1/auth/login", json={"email": owner.email, "password": "wrong-password"}
                )
                others.append(response.status_code)
        return original(password, password_hash)

    monkeypatch.setattr(security, "verify_password", slow_hash_meanwhile)

    with pytest.raises(errors.InvalidCredentials):
        users.login(
            SqlAlchemyUnitOfWork(app.engine),
            Client(request_id="race-test"),
            owner.email,
            "wrong-password",
            app.wiring.auth,
        )

    # limit + 1 wrong passwords: at most `limit` of them were checked, the rest throttled.
    assert others[1:] == [401] * (limit - 1) + [429]
