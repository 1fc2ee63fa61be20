"""Property-based: random deposits, withdrawals and transfers (with retried idempotency keys)
against an in-memory model. Balances, ledger rows and statements must always agree."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from bank.db.engine import make_engine
from bank.db.models import Base
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain import errors
from bank.domain.model import Client
from bank.services import accounts, ledger, users
from bank.services.health import verify_ledger
from tests.unit.services.conftest import customer_actor

POLICY = users.AuthPolicy(
    jwt_key="k" * 40,
    issuer="bank",
    audience="bank-api",
    access_ttl=60,
    refresh_ttl=600,
    bcrypt_rounds=4,
    max_failures_email=5,
    max_failures_ip=50,
    window_seconds=60,
)
amounts = st.integers(min_value=1, max_value=5_000)


class LedgerMachine(RuleBasedStateMachine):
    accounts_b = Bundle("accounts")
    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.model: dict[uuid.UUID, int] = {}
        self.replies: dict[str, tuple[str, int]] = {}  # key -> (fingerprint, status)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)

    @initialize(target=accounts_b)
    def open_accounts(self) -> object:
        signed = users.signup(
            self.uow(),
            Client(),
            users.Signup(
                email=f"{uuid.uuid4().hex}@example.com",
                password="long-enough-pw",
                first_name="A",
                last_name="B",
                dob=date(1990, 1, 1),
            ),
            POLICY,
        )
        self.actor = customer_actor(signed.account_holder.id, signed.user.id)
        opened = []
        for _ in range(3):
            result = accounts.open_account(
                self.uow(),
                self.actor,
                accounts.OpenAccount(type="checking", currency="USD"),
                None,
                24,
            )
            account_id = uuid.UUID(str(result.body["id"]))
            self.model[account_id] = 0
            opened.append(account_id)
        return multiple(*opened)

    @rule(target=keys)
    def new_key(self) -> str:
        return str(uuid.uuid4())

    def _move(self, kind: str, account_id: uuid.UUID, amount: int, key: str | None) -> None:
        request = ledger.MovementRequest(
            account_id=account_id, type=kind, amount=amount, currency="USD"
        )
        fingerprint = f"{kind}:{account_id}:{amount}"
        try:
            result = asyncio.run(ledger.post_transaction(self.uow(), self.actor, request, key, 24))
        except errors.IdempotencyKeyReused:
            assert key is not None and self.replies[key][0] != fingerprint
            return
        except errors.InsufficientFunds:
            assert kind == "withdrawal" and self.model[account_id] < amount
            if key is not None:
                self.replies.setdefault(key, (fingerprint, 409))
            return
        except errors.ReplayedError as exc:  # the key's stored refusal, answered again
            assert key is not None and self.replies[key] == (fingerprint, exc.status)
            assert exc.code == "insufficient_funds"
            return
        if key is not None and key in self.replies:
            assert result.replayed and self.replies[key] == (fingerprint, 201)
            return
        assert not result.replayed
        self.model[account_id] += amount if kind == "deposit" else -amount
        assert result.body["balance_after"] == self.model[account_id]
        if key is not None:
            self.replies[key] = (fingerprint, 201)

    @rule(account=accounts_b, amount=amounts, key=st.none() | keys)
    def deposit(self, account: uuid.UUID, amount: int, key: str | None) -> None:
        self._move("deposit", account, amount, key)

    @rule(account=accounts_b, amount=amounts, key=st.none() | keys)
    def withdraw(self, account: uuid.UUID, amount: int, key: str | None) -> None:
        self._move("withdrawal", account, amount, key)

    @rule(source=accounts_b, dest=accounts_b, amount=amounts)
    def transfer(self, source: uuid.UUID, dest: uuid.UUID, amount: int) -> None:
        request = ledger.TransferRequest(
            from_account_id=source, to_account_id=dest, amount=amount, currency="USD"
        )
        try:
            asyncio.run(ledger.transfer(self.uow(), self.actor, request, None, 24))
        except errors.SameAccount:
            assert source == dest
            return
        except errors.InsufficientFunds:
            assert self.model[source] < amount
            return
        self.model[source] -= amount
        self.model[dest] += amount

    @rule(account=consumes(accounts_b))
    def freeze_and_refuse(self, account: uuid.UUID) -> None:
        accounts.change_status(self.uow(), self.actor, account, "frozen")
        try:
            deposit = ledger.MovementRequest(
                account_id=account, type="deposit", amount=1, currency="USD"
            )
            asyncio.run(ledger.post_transaction(self.uow(), self.actor, deposit, None, 24))
        except errors.AccountNotActive:
            pass
        else:
            raise AssertionError("a frozen account took a deposit")
        accounts.change_status(self.uow(), self.actor, account, "active")

    @invariant()
    def balances_match_the_model(self) -> None:
        for account_id, expected in self.model.items():
            account = asyncio.run(accounts.get_account(self.uow(), self.actor, account_id))
            assert account.balance == expected >= 0
            statement = asyncio.run(
                ledger.statement(self.uow(), self.actor, account_id, None, None, 1, 0)
            )
            assert statement.closing_balance == expected
            assert (
                statement.opening_balance + statement.total_credits - statement.total_debits
                == statement.closing_balance
            )

    @invariant()
    def ledger_verifies(self) -> None:
        if self.model:
            report = verify_ledger(self.uow())
            assert report.ok, report.violations
            assert report.totals["total_balance"] == sum(self.model.values())

    def teardown(self) -> None:
        self.engine.dispose()


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
