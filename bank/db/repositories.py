"""Repositories over one Connection, in SQLAlchemy Core (cheap on the hot path)."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from bank.db import models as m
from bank.db.prepared import Prepared, run_driver
from bank.domain import model
from bank.domain.model import MAX_BALANCE, MAX_CREDITED_TOTAL
from bank.domain.serialize import compact_json, timestamp

# Prepared rows are tuples in the order of these columns, which is the dataclasses' field order
# (tests/integration/test_prepared.py checks it).
ACCOUNT_COLUMNS = (
    m.accounts.c.id,
    m.accounts.c.holder_id,
    m.accounts.c.type,
    m.accounts.c.currency,
    m.accounts.c.balance,
    m.accounts.c.status,
    m.accounts.c.created_at,
)
TRANSACTION_COLUMNS = (
    m.transactions.c.id,
    m.transactions.c.account_id,
    m.transactions.c.type,
    m.transactions.c.amount,
    m.transactions.c.currency,
    m.transactions.c.balance_after,
    m.transactions.c.transfer_id,
    m.transactions.c.description,
    m.transactions.c.created_at,
)
TRANSFER_COLUMNS = (
    m.transfers.c.id,
    m.transfers.c.from_account_id,
    m.transfers.c.to_account_id,
    m.transfers.c.amount,
    m.transfers.c.currency,
    m.transfers.c.description,
    m.transfers.c.created_at,
)
CARD_COLUMNS = (
    m.cards.c.id,
    m.cards.c.account_id,
    m.cards.c.type,
    m.cards.c.brand,
    m.cards.c.last4,
    m.cards.c.exp_month,
    m.cards.c.exp_year,
    m.cards.c.status,
    m.cards.c.created_at,
)
HOLDER_COLUMNS = (
    m.account_holders.c.id,
    m.account_holders.c.user_id,
    m.account_holders.c.first_name,
    m.account_holders.c.last_name,
    m.account_holders.c.dob,
    m.account_holders.c.created_at,
)


def _values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def is_unique_violation(exc: IntegrityError) -> bool:
    """A unique constraint rejected the row (PostgreSQL SQLSTATE 23505, SQLite's message)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate == "23505" or "unique constraint" in str(exc.orig).lower()


class Repository:
    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _page[T](
        self,
        query: Select[Any],
        order: Sequence[ColumnElement[Any]],
        limit: int,
        offset: int,
        factory: type[T],
    ) -> model.Page[T]:
        total = self.conn.execute(
            select(func.count()).select_from(query.order_by(None).subquery())
        ).scalar_one()
        rows = self.conn.execute(query.order_by(*order).limit(limit).offset(offset))
        items = [factory(**row._mapping) for row in rows]
        return model.Page(items=items, limit=limit, offset=offset, total=total)


# ---------------------------------------------------------------- users and holders


class Users(Repository):
    __slots__ = ()

    def add(self, *, email: str, password_hash: str, role: str, now: datetime) -> model.User:
        user_id = uuid.uuid4()
        self.conn.execute(
            insert(m.users).values(
                id=user_id, email=email, password_hash=password_hash, role=role, created_at=now
            )
        )
        return model.User(id=user_id, email=email, created_at=now)

    def email_exists(self, email: str) -> bool:
        found = self.conn.execute(select(literal(1)).where(m.users.c.email == email)).first()
        return found is not None

    def credentials(self, email: str) -> tuple[uuid.UUID, str, str] | None:
        row = self.conn.execute(
            select(m.users.c.id, m.users.c.password_hash, m.users.c.role).where(
                m.users.c.email == email
            )
        ).first()
        return None if row is None else (row.id, row.password_hash, row.role)

    def get(self, user_id: uuid.UUID) -> tuple[model.User, str] | None:
        row = self.conn.execute(
            select(m.users.c.id, m.users.c.email, m.users.c.created_at, m.users.c.role).where(
                m.users.c.id == user_id
            )
        ).first()
        if row is None:
            return None
        return model.User(id=row.id, email=row.email, created_at=row.created_at), row.role

    def set_password(self, user_id: uuid.UUID, password_hash: str, role: str) -> None:
        self.conn.execute(
            update(m.users)
            .where(m.users.c.id == user_id)
            .values(password_hash=password_hash, role=role)
        )


class Holders(Repository):
    __slots__ = ()

    def add(
        self, *, user_id: uuid.UUID, first_name: str, last_name: str, dob: date, now: datetime
    ) -> model.AccountHolder:
        holder = model.AccountHolder(
            id=uuid.uuid4(),
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            dob=dob,
            created_at=now,
        )
        self.conn.execute(insert(m.account_holders).values(**_values(holder)))
        return holder

    def get(self, holder_id: uuid.UUID) -> model.AccountHolder | None:
        row = self.conn.execute(
            select(*HOLDER_COLUMNS).where(m.account_holders.c.id == holder_id)
        ).first()
        return None if row is None else model.AccountHolder(**row._mapping)

    def for_user(self, user_id: uuid.UUID) -> model.AccountHolder | None:
        row = self.conn.execute(
            select(*HOLDER_COLUMNS).where(m.account_holders.c.user_id == user_id)
        ).first()
        return None if row is None else model.AccountHolder(**row._mapping)

    def page(
        self, holder_id: uuid.UUID | None, limit: int, offset: int
    ) -> model.Page[model.AccountHolder]:
        query = select(*HOLDER_COLUMNS)
        if holder_id is not None:
            query = query.where(m.account_holders.c.id == holder_id)
        order = (m.account_holders.c.created_at, m.account_holders.c.id)
        return self._page(query, order, limit, offset, model.AccountHolder)


# ---------------------------------------------------------------- accounts and the ledger


@dataclass(frozen=True, slots=True)
class Posting:
    """An account after a debit or credit: the values its new transaction row carries."""

    balance: int
    seq: int
    credited_total: int
    posted_at: datetime  # the row's created_at: max(now, the account's previous row's)


@dataclass(frozen=True, slots=True)
class LedgerPosition:
    """Where an account's ledger stood at a moment: after its last row before it."""

    balance: int
    credited_total: int
    seq: int

    @property
    def debited_total(self) -> int:
        return self.credited_total - self.balance


@dataclass(frozen=True, slots=True)
class AccountState:
    id: uuid.UUID
    holder_id: uuid.UUID
    currency: str
    status: str
    balance: int
    credited_total: int


class Accounts(Repository):
    __slots__ = ()

    def add(
        self, *, holder_id: uuid.UUID, type_: str, currency: str, now: datetime
    ) -> model.Account:
        account = model.Account(
            id=uuid.uuid4(),
            holder_id=holder_id,
            type=type_,
            currency=currency,
            balance=0,
            status="active",
            created_at=now,
        )
        self.conn.execute(
            insert(m.accounts).values(entry_count=0, last_posted_at=now, **_values(account))
        )
        return account

    def get(self, account_id: uuid.UUID, holder_id: uuid.UUID | None) -> model.Account | None:
        """The account, if it exists and (when holder_id is given) belongs to that holder."""
        if holder_id is None:
            row = _ACCOUNT.first(self.conn, {"p_id": account_id})
        else:
            row = _OWNED_ACCOUNT.first(self.conn, {"p_id": account_id, "p_holder": holder_id})
        return None if row is None else model.Account(*row)

    def lock_owned(self, account_id: uuid.UUID, holder_id: uuid.UUID) -> model.Account | None:
        """The holder's account, its row locked until the transaction ends (PostgreSQL; a
        SQLite write transaction already excludes every other writer)."""
        row = _OWNED_ACCOUNT_LOCKED.first(self.conn, {"p_id": account_id, "p_holder": holder_id})
        return None if row is None else model.Account(*row)

    def page(
        self, holder_id: uuid.UUID | None, limit: int, offset: int
    ) -> model.Page[model.Account]:
        query = select(*ACCOUNT_COLUMNS)
        if holder_id is not None:
            query = query.where(m.accounts.c.holder_id == holder_id)
        order = (m.accounts.c.created_at, m.accounts.c.id)
        return self._page(query, order, limit, offset, model.Account)

    def states(self, *account_ids: uuid.UUID) -> dict[uuid.UUID, AccountState]:
        rows = self.conn.execute(
            select(
                m.accounts.c.id,
                m.accounts.c.holder_id,
                m.accounts.c.currency,
                m.accounts.c.status,
                m.accounts.c.balance,
                m.accounts.c.credited_total,
            ).where(m.accounts.c.id.in_(account_ids))
        )
        return {row.id: AccountState(**row._mapping) for row in rows}

    def debit(
        self,
        account_id: uuid.UUID,
        amount: int,
        currency: str,
        holder_id: uuid.UUID,
        now: datetime,
    ) -> Posting | None:
        """Take `amount` if the account is the holder's, active, in `currency` and funded.

        One conditional UPDATE: it locks the row (PostgreSQL re-checks the WHERE after a
        wait), stamps the posting no earlier than the account's previous one, and returns
        nothing when any rule fails.
        """
        row = _DEBIT.first(
            self.conn,
            {
                "p_id": account_id,
                "p_amount": amount,
                "p_currency": currency,
                "p_holder": holder_id,
                "p_now": now,
            },
        )
        return None if row is None else Posting(*row)

    def credit(
        self,
        account_id: uuid.UUID,
        amount: int,
        currency: str,
        holder_id: uuid.UUID | None,
        now: datetime,
    ) -> Posting | None:
        statement = _CREDIT_OWNED if holder_id is not None else _CREDIT_ANY
        row = statement.first(
            self.conn,
            {
                "p_id": account_id,
                "p_amount": amount,
                "p_currency": currency,
                "p_holder": holder_id,
                "p_ceiling": MAX_BALANCE,
                "p_credited_ceiling": MAX_CREDITED_TOTAL,
                "p_now": now,
            },
        )
        return None if row is None else Posting(*row)

    def set_status(self, account_id: uuid.UUID, current: str, target: str) -> model.Account | None:
        """Change the status if it is still `current` (and, to close, the balance is zero)."""
        condition = and_(m.accounts.c.id == account_id, m.accounts.c.status == current)
        if target == "closed":
            condition = and_(condition, m.accounts.c.balance == 0)
        row = self.conn.execute(
            update(m.accounts).where(condition).values(status=target).returning(*ACCOUNT_COLUMNS)
        ).first()
        return None if row is None else model.Account(**row._mapping)


@dataclass(frozen=True, slots=True)
class ReadCall:
    """A read that needs no transaction, as one statement not yet run: the unit of work runs it
    (`SqlAlchemyUnitOfWork.read_at_once`), on an asynchronous connection where it has one."""

    statement: Prepared
    values: dict[str, Any]


def _token_and_account(owned: bool) -> Prepared:
    """(revoked, *ACCOUNT_COLUMNS) in one row: whether the token's jti is revoked, and the
    account, its columns NULL when it is missing or (`owned`) not the holder's. One statement
    reads both from one snapshot; the outer join keeps the row when there is no account."""
    condition = m.accounts.c.id == bindparam("p_id")
    if owned:
        condition = and_(condition, m.accounts.c.holder_id == bindparam("p_holder"))
    revoked = exists().where(m.revoked_tokens.c.jti == bindparam("p_jti"))
    one = select(literal(1).label("one")).subquery("one")
    return Prepared(
        select(revoked.label("revoked"), *ACCOUNT_COLUMNS).select_from(
            one.outerjoin(m.accounts, condition)
        )
    )


_TOKEN_AND_ANY_ACCOUNT = _token_and_account(owned=False)
_TOKEN_AND_OWNED_ACCOUNT = _token_and_account(owned=True)


def account_read(jti: str, account_id: uuid.UUID, holder_id: uuid.UUID | None) -> ReadCall:
    """A token check and an account read (`holder_id` None: any account) as one statement; its
    row goes to `account_read_answer`."""
    if holder_id is None:
        return ReadCall(_TOKEN_AND_ANY_ACCOUNT, {"p_jti": jti, "p_id": account_id})
    values = {"p_jti": jti, "p_id": account_id, "p_holder": holder_id}
    return ReadCall(_TOKEN_AND_OWNED_ACCOUNT, values)


def account_read_answer(row: Sequence[Any] | None) -> tuple[bool, model.Account | None]:
    """(whether the token is revoked, the account or None)."""
    if row is None:  # the statement always answers one row
        raise RuntimeError("the account read answered no row")
    return bool(row[0]), (None if row[1] is None else model.Account(*row[1:]))


_acc = m.accounts.c
_ACCOUNT_STATEMENT = select(*ACCOUNT_COLUMNS).where(_acc.id == bindparam("p_id"))
_ACCOUNT = Prepared(_ACCOUNT_STATEMENT)
_OWNED_ACCOUNT_STATEMENT = _ACCOUNT_STATEMENT.where(_acc.holder_id == bindparam("p_holder"))
_OWNED_ACCOUNT = Prepared(_OWNED_ACCOUNT_STATEMENT)
# FOR NO KEY UPDATE: what the balance UPDATEs take too; inserts referencing the account go on.
_OWNED_ACCOUNT_LOCKED = Prepared(_OWNED_ACCOUNT_STATEMENT.with_for_update(key_share=True))


class _Later(FunctionElement[datetime]):
    """The later of two timestamps: `greatest(a, b)`; SQLite's two-argument scalar `max(a, b)`
    (its timestamps are fixed-width text, so text order is time order)."""

    type = m.Timestamp
    name = "greatest"
    inherit_cache = True


@compiles(_Later)
def _later(element: _Later, compiler: SQLCompiler, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(_Later, "sqlite")
def _later_sqlite(element: _Later, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


# max(now, the account's previous stamp): per account, created_at follows seq whatever the clock.
_POSTED_AT = _Later(_acc.last_posted_at, bindparam("p_now", type_=m.Timestamp))
_POSTING = (_acc.balance, _acc.entry_count, _acc.credited_total, _acc.last_posted_at)
_DEBIT_STATEMENT = (
    update(m.accounts)
    .where(
        _acc.id == bindparam("p_id"),
        _acc.holder_id == bindparam("p_holder"),
        _acc.status == "active",
        _acc.currency == bindparam("p_currency"),
        _acc.balance >= bindparam("p_amount"),
    )
    .values(
        balance=_acc.balance - bindparam("p_amount"),
        entry_count=_acc.entry_count + 1,
        last_posted_at=_POSTED_AT,
    )
    .returning(*_POSTING)
)
_CREDIT_STATEMENT = (
    update(m.accounts)
    .where(
        _acc.id == bindparam("p_id"),
        _acc.status == "active",
        _acc.currency == bindparam("p_currency"),
        _acc.balance <= bindparam("p_ceiling") - bindparam("p_amount"),
        _acc.credited_total <= bindparam("p_credited_ceiling") - bindparam("p_amount"),
    )
    .values(
        balance=_acc.balance + bindparam("p_amount"),
        entry_count=_acc.entry_count + 1,
        credited_total=_acc.credited_total + bindparam("p_amount"),
        last_posted_at=_POSTED_AT,
    )
    .returning(*_POSTING)
)
# The money path's statements run through Prepared (bank/db/prepared.py): compiled once, no
# per-execution layer inside the write transaction. Postings return (balance, seq, credited,
# posted_at).
_DEBIT = Prepared(_DEBIT_STATEMENT)
# After a debit matched nothing: the balance, when the over-draw is the only rule broken.
_OVER_DRAWN = Prepared(
    select(_acc.balance).where(
        _acc.id == bindparam("p_id"),
        _acc.holder_id == bindparam("p_holder"),
        _acc.status == "active",
        _acc.currency == bindparam("p_currency"),
        _acc.balance < bindparam("p_amount"),
    )
)
_CREDIT_ANY = Prepared(_CREDIT_STATEMENT)
_CREDIT_OWNED = Prepared(_CREDIT_STATEMENT.where(_acc.holder_id == bindparam("p_holder")))
_TRANSFER_INSERT = Prepared.insert_every_column(m.transfers)
_TRANSACTION_INSERT = Prepared.insert_every_column(m.transactions)
# The parameters of the one-statement functions, in their order, with their types.
_AT_ONCE_PARAMETERS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("p_user", Uuid()),
    ("p_operation", Text()),
    ("p_key", Text()),
    ("p_lock", BigInteger()),
    ("p_jti", Text()),
    ("p_fingerprint", Text()),
    ("p_amount", BigInteger()),
    ("p_currency", Text()),
    ("p_description", Text()),
    ("p_holder", Uuid()),
    ("p_now", m.Timestamp),
    ("p_max_balance", BigInteger()),
    ("p_max_credited", BigInteger()),
    ("p_request_id", Text()),
    ("p_client_ip", Text()),
    ("p_audit_details", Text()),  # JSON text: json.dumps is cheaper than the driver's adapter
    ("p_body_head", Text()),
    ("p_body_tail", Text()),
    ("p_expires_at", m.Timestamp),
    ("p_purge", Boolean()),
)


def _at_once_call(name: str, *specific: tuple[str, TypeEngine[Any]]) -> Prepared:
    arguments = (*_AT_ONCE_PARAMETERS, *specific)
    call = getattr(func, name)(*(bindparam(key, type_=type_) for key, type_ in arguments))
    return Prepared(select(call.label("body")))


_POST_TRANSFER = _at_once_call(
    "bank_post_transfer",
    ("p_transfer_id", Uuid()),
    ("p_from", Uuid()),
    ("p_to", Uuid()),
)
_POST_MOVEMENT = _at_once_call(
    "bank_post_movement",
    ("p_transaction_id", Uuid()),
    ("p_account", Uuid()),
    ("p_type", Text()),
    ("p_body_middle", Text()),
    ("p_refusal_head", Text()),
    ("p_refusal_tail", Text()),
)


def _at_once_values(
    key: NewKey,
    actor: model.Actor,
    now: datetime,
    audit_details: dict[str, Any],
    body: list[str],
) -> dict[str, Any]:
    return {
        "p_user": actor.user_id,
        "p_operation": key.operation,
        "p_key": key.key,
        "p_lock": (
            None if key.key is None else advisory_key(str(actor.user_id), key.operation, key.key)
        ),
        "p_jti": actor.jti,
        "p_fingerprint": key.fingerprint,
        "p_holder": actor.holder_id,
        "p_now": now,
        "p_max_balance": MAX_BALANCE,
        "p_max_credited": MAX_CREDITED_TOTAL,
        "p_request_id": actor.request_id,
        "p_client_ip": actor.client_ip,
        "p_audit_details": compact_json(audit_details),
        "p_body_head": body[0],
        "p_body_tail": body[-1],
        "p_expires_at": key.expires_at,
        "p_purge": key.purge,
    }


@dataclass(frozen=True, slots=True)
class AtOnceCall:
    """A whole money movement as one statement, not yet run: the unit of work runs it
    (`SqlAlchemyUnitOfWork.post_at_once`) in autocommit mode, on an asynchronous connection
    where it has one. Built by `transfer_at_once` or `movement_at_once`."""

    statement: Prepared
    values: dict[str, Any]


def transfer_at_once(
    key: NewKey,
    actor: model.Actor,
    transfer: model.Transfer,
    now: datetime,
    audit_details: dict[str, Any],
    body: list[str],
) -> AtOnceCall:
    """A whole transfer as one statement, the function `bank_post_transfer` (alembic revision
    e10ed7590e8a documents it). `transfer` is the request (its created_at is the database's
    to stamp); `body` the response split around created_at (bank.domain.serialize.template).

    Run, it answers the stored response when it posted, and None when it wrote nothing
    because the general path must decide (a revoked token, a key in flight or stored, a
    refused rule: see `at_once_answer`).
    """
    values = _at_once_values(key, actor, now, audit_details, body)
    values.update(
        p_amount=transfer.amount,
        p_currency=transfer.currency,
        p_description=transfer.description,
        p_transfer_id=transfer.id,
        p_from=transfer.from_account_id,
        p_to=transfer.to_account_id,
    )
    return AtOnceCall(_POST_TRANSFER, values)


def movement_at_once(
    key: NewKey,
    actor: model.Actor,
    movement: model.Transaction,
    now: datetime,
    audit_details: dict[str, Any],
    body: list[str],
    refusal: list[str] | None = None,
) -> AtOnceCall:
    """As `transfer_at_once`, for a deposit or withdrawal (`bank_post_movement`, revised by
    alembic revision 8c2d4f6a1b93): `movement` is the request (balance_after and created_at
    are the database's), `body` the response split around balance_after and created_at.

    A withdrawal's `refusal` is its insufficient_funds error as stored, split around the
    balance (`serialize.error_template`): when the debit matches nothing and the over-draw is
    the only rule broken, the call stores that (409) under the key and answers it instead of
    None.
    """
    values = _at_once_values(key, actor, now, audit_details, body)
    values.update(
        p_amount=movement.amount,
        p_currency=movement.currency,
        p_description=movement.description,
        p_transaction_id=movement.id,
        p_account=movement.account_id,
        p_type=movement.type,
        p_body_middle=body[1],
        p_refusal_head=None if refusal is None else refusal[0],
        p_refusal_tail=None if refusal is None else refusal[-1],
    )
    return AtOnceCall(_POST_MOVEMENT, values)


# The function's "a rule refused the second account" (rolled back; the general path explains).
RULE_REFUSED_SQLSTATE = "BK001"


def at_once_answer(row: tuple[Any, ...] | None) -> str | None:
    """The stored response an `AtOnceCall`'s row carries, or None when it wrote nothing."""
    assert row is not None  # a function call always answers one row
    body: str | None = row[0]
    return body


def at_once_refused(exc: DBAPIError) -> bool:
    """Whether an `AtOnceCall` failed because a rule refused the second account: the function
    rolled the first back and wrote nothing, so the general path runs and explains."""
    return getattr(exc.orig, "sqlstate", None) == RULE_REFUSED_SQLSTATE


# ---------------------------------------------------------------- the same calls in process

# A posting's values in a new transaction row, filled in from its UPDATE's RETURNING.
_POSTED = ("seq", "balance_after", "created_at", "credited_total_after")
InProcess = Callable[[Connection], str | None]


def in_process(call: AtOnceCall, dialect: Dialect) -> InProcess:
    """`call` as the steps its function takes, for SQLite: to run in a write transaction, where
    it answers as the function does (the stored response, or None having written nothing).

    SQLite has no round trips to save, but its one writer at a time makes the time inside the
    write lock what bounds throughput, and the general path spends more than half of it in
    Python (rows and models built, the response serialised, parameters converted). Here every
    parameter that does not depend on the database's answers is converted now, before the lock;
    under it run the claim check, the general path's own conditional UPDATEs, and the INSERTs
    with the postings' values (RETURNING, in the driver's form) put in.
    """
    if call.statement is _POST_TRANSFER:
        return _transfer_in_process(call.values, dialect)
    if call.statement is _POST_MOVEMENT:
        return _movement_in_process(call.values, dialect)
    raise ValueError("not a money movement's call")


def _transfer_in_process(v: dict[str, Any], dialect: Dialect) -> InProcess:
    debit = _DEBIT.driver_call(dialect, _posting_values(v, v["p_from"]))
    credit = _CREDIT_ANY.driver_call(dialect, _posting_values(v, v["p_to"]))
    moved = {
        "amount": v["p_amount"],
        "currency": v["p_currency"],
        "description": v["p_description"],
        "transfer_id": v["p_transfer_id"],
    }
    row = {"id": v["p_transfer_id"], "from_account_id": v["p_from"], "to_account_id": v["p_to"]}
    transfer = _TRANSFER_INSERT.late_call(dialect, {**moved, **row}, ("created_at",))
    out = _row_in_process(dialect, moved, v["p_from"], "transfer_out")
    into = _row_in_process(dialect, moved, v["p_to"], "transfer_in")
    audit = _audit_in_process(v, dialect, "transfer_posted", "transfer", v["p_transfer_id"])
    head, tail = v["p_body_head"], v["p_body_tail"]

    def write(conn: Connection, postings: list[_Posting]) -> str:
        debited, credited = postings
        created_at = max(debited[2], credited[2])  # fixed-width text: text order is time order
        _insert(conn, transfer, created_at)
        _insert(conn, out, *debited)
        _insert(conn, into, *credited)
        _insert(conn, audit)
        return f'{head}"{_stamp(dialect, created_at)}"{tail}'

    return _steps(v, dialect, [debit, credit], write)


def _movement_in_process(v: dict[str, Any], dialect: Dialect) -> InProcess:
    update = _CREDIT_OWNED if v["p_type"] == "deposit" else _DEBIT
    posting = update.driver_call(dialect, _posting_values(v, v["p_account"]))
    moved = {
        "id": v["p_transaction_id"],
        "amount": v["p_amount"],
        "currency": v["p_currency"],
        "description": v["p_description"],
        "transfer_id": None,
    }
    row = _row_in_process(dialect, moved, v["p_account"], v["p_type"])
    action = f"{v['p_type']}_posted"
    audit = _audit_in_process(v, dialect, action, "transaction", v["p_transaction_id"])
    head, middle, tail = v["p_body_head"], v["p_body_middle"], v["p_body_tail"]

    def write(conn: Connection, postings: list[_Posting]) -> str:
        (posted,) = postings
        _insert(conn, row, *posted)
        _insert(conn, audit)
        return f'{head}{posted[1]}{middle}"{_stamp(dialect, posted[2])}"{tail}'

    refuse = None
    if v["p_type"] == "withdrawal" and v["p_refusal_head"] is not None:
        over_drawn = _OVER_DRAWN.driver_call(dialect, _posting_values(v, v["p_account"]))
        refused_head, refused_tail = v["p_refusal_head"], v["p_refusal_tail"]

        def refuse(conn: Connection) -> str | None:
            rows = run_driver(conn, *over_drawn, fetch=True)
            return f"{refused_head}{rows[0][0]}{refused_tail}" if rows else None

    return _steps(v, dialect, [posting], write, refuse)


# A posting as a transaction row takes it (`_POSTED`'s order), in the driver's form.
_Posting = tuple[Any, Any, Any, Any]


def _steps(
    v: dict[str, Any],
    dialect: Dialect,
    updates: list[tuple[str, Any]],
    write: Callable[[Connection, list[_Posting]], str],
    refuse: Callable[[Connection], str | None] | None = None,
) -> InProcess:
    """The functions' order: the claim check; the conditional UPDATEs, stopping (having written
    nothing to keep) at the first one a rule refuses, unless `refuse` answers that refusal
    (stored with 409, as the function stores an over-draw); `write`, the rows with the
    postings put in, which answers the response; the stored response."""
    claim = _claim_in_process(v, dialect)
    store = _store_in_process(v, dialect)

    def run(conn: Connection) -> str | None:
        if not _claimed(conn, claim):
            return None
        postings = []
        for statement in updates:
            posted = _posted(conn, statement)
            if posted is None:
                refused = None if refuse is None else refuse(conn)
                if refused is not None:
                    _finish(conn, _store_in_process(v, dialect, 409), refused)
                return refused
            postings.append(posted)
        body = write(conn, postings)
        _finish(conn, store, body)
        return body

    return run


_Late = tuple[str, list[Any], tuple[int, ...]]
_Store = tuple[_Late, tuple[str, Any] | None]


def _claim_in_process(v: dict[str, Any], dialect: Dialect) -> tuple[str, Any]:
    keys = ("p_user", "p_operation", "p_key", "p_jti")
    return _CLAIM.driver_call(dialect, {name: v[name] for name in keys})


def _claimed(conn: Connection, claim: tuple[str, Any]) -> bool:
    """Neither a revoked token nor a stored response (live or expired) under the key."""
    ((revoked, fingerprint, *_),) = run_driver(conn, *claim, fetch=True)
    return not revoked and fingerprint is None


def _posting_values(v: dict[str, Any], account_id: uuid.UUID) -> dict[str, Any]:
    return {
        "p_id": account_id,
        "p_amount": v["p_amount"],
        "p_currency": v["p_currency"],
        "p_holder": v["p_holder"],
        "p_ceiling": v["p_max_balance"],
        "p_credited_ceiling": v["p_max_credited"],
        "p_now": v["p_now"],
    }


def _posted(conn: Connection, update: tuple[str, Any]) -> _Posting | None:
    """The posting's (seq, balance, stamp, credited total), None when a rule refused it."""
    rows = run_driver(conn, *update, fetch=True)
    if not rows:
        return None
    balance, seq, credited_total, posted_at = rows[0]
    return seq, balance, posted_at, credited_total


def _row_in_process(
    dialect: Dialect, moved: dict[str, Any], account_id: uuid.UUID, type_: str
) -> _Late:
    values = {"id": uuid.uuid4(), **moved, "account_id": account_id, "type": type_}
    return _TRANSACTION_INSERT.late_call(dialect, values, _POSTED)


def _audit_in_process(
    v: dict[str, Any], dialect: Dialect, action: str, target_type: str, target_id: uuid.UUID
) -> _Late:
    values = {
        "id": uuid.uuid4(),
        "created_at": v["p_now"],
        "action": action,
        "outcome": "success",
        "user_id": v["p_user"],
        "token_jti": v["p_jti"],
        "request_id": v["p_request_id"],
        "client_ip": v["p_client_ip"],
        "target_type": target_type,
        "target_id": str(target_id),
    }
    sql, params, (details,) = _AUDIT.late_call(dialect, values, ("details",))
    params[details] = v["p_audit_details"]  # JSON text already, as the function stores it
    return sql, params, ()


def _store_in_process(v: dict[str, Any], dialect: Dialect, status: int = 201) -> _Store | None:
    """The stored response's INSERT (its body put in later) and, when asked, the purge of
    expired keys; None for an unkeyed request, which stores nothing (as the function)."""
    if v["p_key"] is None:
        return None
    values = {
        "id": uuid.uuid4(),
        "user_id": v["p_user"],
        "operation": v["p_operation"],
        "key": v["p_key"],
        "fingerprint": v["p_fingerprint"],
        "status_code": status,
        "created_at": v["p_now"],
        "expires_at": v["p_expires_at"],
    }
    insert_ = _IDEMPOTENCY_INSERT.late_call(dialect, values, ("response_body",))
    purge = _PURGE_KEYS.driver_call(dialect, {"p_now": v["p_now"]}) if v["p_purge"] else None
    return insert_, purge


def _insert(conn: Connection, late: _Late, *filled: Any) -> None:
    sql, params, positions = late
    for position, value in zip(positions, filled, strict=True):
        params[position] = value
    run_driver(conn, sql, params)


def _stamp(dialect: Dialect, stored: Any) -> str:
    """A stamp as stored (RETURNING, unprocessed) as the response renders it."""
    return timestamp(_timestamp_result(dialect)(stored))


@functools.cache
def _timestamp_result(dialect: Dialect) -> Callable[[Any], Any]:
    processor = m.Timestamp.dialect_impl(dialect).result_processor(dialect, None)
    assert processor is not None
    return processor


def _finish(conn: Connection, store: _Store | None, body: str) -> None:
    if store is not None:
        insert_, purge = store
        _insert(conn, insert_, body)
        if purge is not None:
            run_driver(conn, *purge)


class Ledger(Repository):
    """Transaction rows (immutable) and transfers."""

    __slots__ = ()

    def add_transactions(self, rows: list[dict[str, Any]]) -> None:
        _TRANSACTION_INSERT.insert_later(self.conn, rows)

    def add_transfer(self, transfer: model.Transfer) -> None:
        _TRANSFER_INSERT.insert_later(self.conn, [_values(transfer)])

    def transaction(
        self, transaction_id: uuid.UUID, holder_id: uuid.UUID | None
    ) -> model.Transaction | None:
        query = select(*TRANSACTION_COLUMNS).where(m.transactions.c.id == transaction_id)
        if holder_id is not None:
            query = query.join(m.accounts, m.accounts.c.id == m.transactions.c.account_id).where(
                m.accounts.c.holder_id == holder_id
            )
        row = self.conn.execute(query).first()
        return None if row is None else model.Transaction(**row._mapping)

    def transactions(
        self, holder_id: uuid.UUID | None, account_id: uuid.UUID | None, limit: int, offset: int
    ) -> model.Page[model.Transaction]:
        query = select(*TRANSACTION_COLUMNS)
        if account_id is not None:
            query = query.where(m.transactions.c.account_id == account_id)
        elif holder_id is not None:
            owned = select(m.accounts.c.id).where(m.accounts.c.holder_id == holder_id)
            query = query.where(m.transactions.c.account_id.in_(owned))
        # Rows of one account may share a stamp (a posting that waited for the row lock takes
        # the previous one's later stamp): `seq` keeps them in posting order, as statements do.
        t = m.transactions.c
        return self._page(query, (t.created_at, t.seq, t.id), limit, offset, model.Transaction)

    def transfer(
        self, transfer_id: uuid.UUID, holder_id: uuid.UUID | None
    ) -> model.Transfer | None:
        query = select(*TRANSFER_COLUMNS).where(m.transfers.c.id == transfer_id)
        if holder_id is not None:
            owned = select(m.accounts.c.id).where(m.accounts.c.holder_id == holder_id)
            query = query.where(
                or_(
                    m.transfers.c.from_account_id.in_(owned), m.transfers.c.to_account_id.in_(owned)
                )
            )
        row = self.conn.execute(query).first()
        return None if row is None else model.Transfer(**row._mapping)

    def transfers(
        self, holder_id: uuid.UUID | None, account_id: uuid.UUID | None, limit: int, offset: int
    ) -> model.Page[model.Transfer]:
        query = select(*TRANSFER_COLUMNS)
        t = m.transfers.c
        if account_id is not None:
            query = query.where(or_(t.from_account_id == account_id, t.to_account_id == account_id))
        elif holder_id is not None:
            owned = select(m.accounts.c.id).where(m.accounts.c.holder_id == holder_id)
            query = query.where(or_(t.from_account_id.in_(owned), t.to_account_id.in_(owned)))
        return self._page(query, (t.created_at, t.id), limit, offset, model.Transfer)


class Reads(Protocol):
    """Runs prepared reads, all in one snapshot: a transaction's connection, or an
    asynchronous one's (bank/db/async_pool.py `Snapshot`)."""

    async def first(
        self, prepared: Prepared, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None: ...

    async def rows(
        self, prepared: Prepared, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]: ...


class SnapshotReads:
    """A statement's reads, which must agree with each other: `SqlAlchemyUnitOfWork.
    snapshot_reads` runs them in one snapshot."""

    __slots__ = ("_reads",)

    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def token_and_account(
        self, jti: str, account_id: uuid.UUID, holder_id: uuid.UUID | None
    ) -> tuple[bool, model.Account | None]:
        """As `account_read`: whether the token is revoked, and the account or None."""
        call = account_read(jti, account_id, holder_id)
        return account_read_answer(await self._reads.first(call.statement, call.values))

    async def position_before(self, account_id: uuid.UUID, moment: datetime) -> LedgerPosition:
        """The account's ledger just before `moment`: its newest earlier row's running values
        (an index seek, whatever the history), or zeros when it has none."""
        values = {"p_account": account_id, "p_moment": moment}
        row = await self._reads.first(_POSITION_BEFORE, values)
        if row is None:
            return LedgerPosition(balance=0, credited_total=0, seq=0)
        return LedgerPosition(*row)

    async def period_rows(
        self, account_id: uuid.UUID, start: datetime, end: datetime, limit: int, offset: int
    ) -> list[model.Transaction]:
        values = {
            "p_account": account_id,
            "p_start": start,
            "p_end": end,
            "p_limit": limit,
            "p_offset": offset,
        }
        return [model.Transaction(*row) for row in await self._reads.rows(_PERIOD_ROWS, values)]


# Statement queries, built once: a statement page reads the position at both ends of the period
# and one page of its rows. Per account, created_at never decreases with seq (the UPDATE that
# posts a row stamps it max(now, the account's previous stamp); `bank ledger verify` checks it),
# so "the last row before a moment" is the same in either order.
_tx = m.transactions.c
_POSITION_BEFORE = Prepared(
    select(_tx.balance_after, _tx.credited_total_after, _tx.seq)
    .where(_tx.account_id == bindparam("p_account"), _tx.created_at < bindparam("p_moment"))
    .order_by(_tx.created_at.desc(), _tx.seq.desc())
    .limit(1)
)
_PERIOD_ROWS = Prepared(
    select(*TRANSACTION_COLUMNS)
    .where(
        _tx.account_id == bindparam("p_account"),
        _tx.created_at >= bindparam("p_start"),
        _tx.created_at < bindparam("p_end"),
    )
    .order_by(_tx.created_at, _tx.seq)
    .limit(bindparam("p_limit"))
    .offset(bindparam("p_offset"))
)


# ---------------------------------------------------------------- cards


class Cards(Repository):
    __slots__ = ()

    def add(self, card: model.Card, fingerprint: str) -> bool:
        """Insert the card; False when the fingerprint already exists (a number collision).
        Any other constraint failure is raised: retrying with a new number would not help."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(m.cards).values(fingerprint=fingerprint, **_values(card)))
        except IntegrityError as exc:
            if is_unique_violation(exc):
                return False
            raise
        return True

    def count_open(self, account_id: uuid.UUID) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(
                    m.cards.c.account_id == account_id, m.cards.c.status != "canceled"
                )
            ).scalar_one()
        )

    def get(self, card_id: uuid.UUID, holder_id: uuid.UUID | None) -> model.Card | None:
        query = select(*CARD_COLUMNS).where(m.cards.c.id == card_id)
        if holder_id is not None:
            query = query.join(m.accounts, m.accounts.c.id == m.cards.c.account_id).where(
                m.accounts.c.holder_id == holder_id
            )
        row = self.conn.execute(query).first()
        return None if row is None else model.Card(**row._mapping)

    def page(
        self, holder_id: uuid.UUID | None, account_id: uuid.UUID | None, limit: int, offset: int
    ) -> model.Page[model.Card]:
        query = select(*CARD_COLUMNS)
        if account_id is not None:
            query = query.where(m.cards.c.account_id == account_id)
        elif holder_id is not None:
            owned = select(m.accounts.c.id).where(m.accounts.c.holder_id == holder_id)
            query = query.where(m.cards.c.account_id.in_(owned))
        return self._page(query, (m.cards.c.created_at, m.cards.c.id), limit, offset, model.Card)

    def set_status(self, card_id: uuid.UUID, current: str, target: str) -> model.Card | None:
        row = self.conn.execute(
            update(m.cards)
            .where(m.cards.c.id == card_id, m.cards.c.status == current)
            .values(status=target)
            .returning(*CARD_COLUMNS)
        ).first()
        return None if row is None else model.Card(**row._mapping)

    def cancel_all(self, account_id: uuid.UUID) -> list[uuid.UUID]:
        rows = self.conn.execute(
            update(m.cards)
            .where(m.cards.c.account_id == account_id, m.cards.c.status != "canceled")
            .values(status="canceled")
            .returning(m.cards.c.id)
        )
        return [row.id for row in rows]


# ---------------------------------------------------------------- tokens, throttling, audit


@dataclass(frozen=True, slots=True)
class RefreshState:
    id: uuid.UUID
    user_id: uuid.UUID
    family_id: uuid.UUID
    used: bool
    revoked: bool
    expired: bool


class Tokens(Repository):
    __slots__ = ()

    def is_revoked(self, jti: str) -> bool:
        return _IS_REVOKED.first(self.conn, {"jti": jti}) is not None

    def revoke_access(self, jti: str, expires_at: datetime) -> None:
        """Idempotent, also against a concurrent revocation of the same token (two logouts, a
        logout and a reused refresh token): the second INSERT does nothing."""
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(
            dialect_insert(m.revoked_tokens)
            .values(jti=jti, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[m.revoked_tokens.c.jti])
        )

    def add_refresh(
        self,
        *,
        user_id: uuid.UUID,
        family_id: uuid.UUID,
        token_hash: str,
        access_jti: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(m.refresh_tokens).values(
                id=uuid.uuid4(),
                user_id=user_id,
                family_id=family_id,
                token_hash=token_hash,
                access_jti=access_jti,
                expires_at=expires_at,
                created_at=now,
            )
        )

    def use_refresh(self, token_hash: str, now: datetime) -> tuple[uuid.UUID, uuid.UUID] | None:
        """Mark a live refresh token used, atomically: (user_id, family_id), or None."""
        r = m.refresh_tokens.c
        row = self.conn.execute(
            update(m.refresh_tokens)
            .where(
                r.token_hash == token_hash,
                r.used_at.is_(None),
                r.revoked_at.is_(None),
                r.expires_at > now,
            )
            .values(used_at=now)
            .returning(r.user_id, r.family_id)
        ).first()
        return None if row is None else (row.user_id, row.family_id)

    def refresh_state(self, token_hash: str, now: datetime) -> RefreshState | None:
        r = m.refresh_tokens.c
        row = self.conn.execute(
            select(r.id, r.user_id, r.family_id, r.used_at, r.revoked_at, r.expires_at).where(
                r.token_hash == token_hash
            )
        ).first()
        if row is None:
            return None
        return RefreshState(
            id=row.id,
            user_id=row.user_id,
            family_id=row.family_id,
            used=row.used_at is not None,
            revoked=row.revoked_at is not None,
            expired=row.expires_at <= now,
        )

    def family_of_access(self, jti: str) -> uuid.UUID | None:
        r = m.refresh_tokens.c
        value: uuid.UUID | None = self.conn.execute(
            select(r.family_id).where(r.access_jti == jti).limit(1)
        ).scalar()
        return value

    def revoke_family(self, family_id: uuid.UUID, now: datetime, access_ttl: int) -> int:
        """Revoke every refresh token of the family and the access tokens issued with them."""
        r = m.refresh_tokens.c
        jtis = self.conn.execute(
            select(r.access_jti, r.created_at).where(
                r.family_id == family_id, r.access_jti.is_not(None)
            )
        ).all()
        self.conn.execute(
            update(m.refresh_tokens)
            .where(r.family_id == family_id, r.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        for jti, created_at in jtis:
            expires = created_at + timedelta(seconds=access_ttl)
            if expires > now:
                self.revoke_access(jti, expires)
        return len(jtis)

    def purge(self, now: datetime) -> int:
        revoked = self.conn.execute(
            delete(m.revoked_tokens).where(m.revoked_tokens.c.expires_at < now)
        ).rowcount
        refresh = self.conn.execute(
            delete(m.refresh_tokens).where(m.refresh_tokens.c.expires_at < now)
        ).rowcount
        return int(revoked or 0) + int(refresh or 0)


# Every authenticated request runs it.
_IS_REVOKED = Prepared(select(literal(1)).where(m.revoked_tokens.c.jti == bindparam("jti")))


class Throttle(Repository):
    __slots__ = ()

    def nth_recent_failure(
        self, scope: str, subject: str, since: datetime, n: int
    ) -> datetime | None:
        """The time of the n-th most recent failure after `since`, if there are n of them."""
        f = m.login_failures.c
        value: datetime | None = self.conn.execute(
            select(f.created_at)
            .where(f.scope == scope, f.subject == subject, f.created_at > since)
            .order_by(f.created_at.desc())
            .limit(1)
            .offset(n - 1)
        ).scalar()
        return value

    def serialise(self, scope: str, subject: str) -> None:
        """Until the transaction ends, other attempts on this subject wait (PostgreSQL; a
        SQLite write transaction already excludes every other writer)."""
        if self.conn.dialect.name == "postgresql":
            key = advisory_key("login", scope, subject)
            self.conn.execute(select(func.pg_advisory_xact_lock(key)))

    def record(self, scope: str, subject: str, now: datetime, since: datetime) -> int:
        """Count a failure (dropping this subject's ones older than `since`); its id."""
        f = m.login_failures.c
        self.conn.execute(
            delete(m.login_failures).where(
                f.scope == scope, f.subject == subject, f.created_at <= since
            )
        )
        return int(
            self.conn.execute(
                insert(m.login_failures)
                .values(scope=scope, subject=subject, created_at=now)
                .returning(f.id)
            ).scalar_one()
        )

    def forget(self, ids: Sequence[int]) -> None:
        if ids:
            self.conn.execute(delete(m.login_failures).where(m.login_failures.c.id.in_(ids)))

    def clear(self, scope: str, subject: str) -> None:
        f = m.login_failures.c
        self.conn.execute(delete(m.login_failures).where(f.scope == scope, f.subject == subject))


class Audit(Repository):
    __slots__ = ()

    def record(
        self,
        *,
        action: str,
        outcome: str,
        now: datetime,
        user_id: uuid.UUID | None = None,
        jti: str | None = None,
        request_id: str | None = None,
        client_ip: str | None = None,
        target_type: str | None = None,
        target_id: uuid.UUID | str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        _AUDIT.insert_later(
            self.conn,
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "action": action,
                    "outcome": outcome,
                    "user_id": user_id,
                    "token_jti": jti,
                    "request_id": request_id,
                    "client_ip": client_ip,
                    "target_type": target_type,
                    "target_id": None if target_id is None else str(target_id),
                    "details": details,
                }
            ],
        )


_AUDIT = Prepared.insert_every_column(m.audit_events)


# ---------------------------------------------------------------- idempotency


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """What a keyed write learns before it acts: whether the caller's access token is revoked,
    whether it holds the key (PostgreSQL), and the live stored response, if any."""

    revoked: bool
    claimed: bool
    stored: StoredResponse | None


@dataclass(frozen=True, slots=True)
class NewKey:
    """An idempotency key that a write done in one statement claims and stores itself (`key`
    None: an unkeyed request), with the row's expiry and whether to purge expired keys."""

    operation: str
    key: str | None
    fingerprint: str
    expires_at: datetime
    purge: bool


def advisory_key(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Idempotency(Repository):
    __slots__ = ()

    def claim(self, user_id: uuid.UUID, operation: str, key: str, now: datetime, jti: str) -> Claim:
        """Check the token, take the key's lock and read a live stored response, in one round
        trip. On PostgreSQL the lock is a transaction-scoped advisory lock (a concurrent
        request with the key is told it is in flight); on SQLite the write transaction already
        serialises writers, so the claim always holds. A row committed between this statement's
        snapshot and the lock surfaces later as a unique violation, which the caller replays.
        """
        params: dict[str, Any] = {
            "p_user": user_id,
            "p_operation": operation,
            "p_key": key,
            "p_jti": jti,
        }
        if self.conn.dialect.name == "postgresql":
            params["p_lock"] = advisory_key(str(user_id), operation, key)
            (got, revoked, fingerprint, status, body, expires_at), *_ = _CLAIM_PG.rows(
                self.conn, params
            )
            claimed = bool(got)
        else:
            (revoked, fingerprint, status, body, expires_at), *_ = _CLAIM.rows(self.conn, params)
            claimed = True
        if not claimed or fingerprint is None:
            return Claim(bool(revoked), claimed, None)
        if expires_at <= now:
            self.conn.execute(_FORGET, params)
            return Claim(bool(revoked), claimed, None)
        return Claim(bool(revoked), claimed, StoredResponse(fingerprint, status, body))

    def store(
        self,
        *,
        user_id: uuid.UUID,
        operation: str,
        key: str,
        fingerprint: str,
        status: int,
        body: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        _IDEMPOTENCY_INSERT.insert_later(
            self.conn,
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "operation": operation,
                    "key": key,
                    "fingerprint": fingerprint,
                    "status_code": status,
                    "response_body": body,
                    "created_at": now,
                    "expires_at": expires_at,
                }
            ],
        )

    def purge(self, now: datetime) -> int:
        result = self.conn.execute(_PURGE_KEYS_STATEMENT, {"p_now": now})
        return int(result.rowcount or 0)


_IDEMPOTENCY_INSERT = Prepared.insert_every_column(m.idempotency_keys)
_k = m.idempotency_keys.c
_KEY_MATCH = and_(
    _k.user_id == bindparam("p_user"),
    _k.operation == bindparam("p_operation"),
    _k.key == bindparam("p_key"),
)
_CLAIM_COLUMNS = (
    exists().where(m.revoked_tokens.c.jti == bindparam("p_jti")).label("revoked"),
    _k.fingerprint,
    _k.status_code,
    _k.response_body,
    _k.expires_at,
)
# One row whether or not the key exists: (SELECT 1) LEFT JOIN idempotency_keys.
_CLAIM_FROM = (
    select(literal(1).label("one")).subquery("one").outerjoin(m.idempotency_keys, _KEY_MATCH)
)
# Rows: (revoked, fingerprint, status, body, expires_at), led on PostgreSQL by `got`.
_CLAIM = Prepared(select(*_CLAIM_COLUMNS).select_from(_CLAIM_FROM))
_CLAIM_PG = Prepared(
    select(
        func.pg_try_advisory_xact_lock(bindparam("p_lock")).label("got"), *_CLAIM_COLUMNS
    ).select_from(_CLAIM_FROM)
)
_FORGET = delete(m.idempotency_keys).where(_KEY_MATCH)
# Expired keys: `Idempotency.purge` (a rowcount) and the in-process money calls (`_finish`).
_PURGE_KEYS_STATEMENT = delete(m.idempotency_keys).where(
    _k.expires_at < bindparam("p_now", type_=m.Timestamp)
)
_PURGE_KEYS = Prepared(_PURGE_KEYS_STATEMENT)


# ---------------------------------------------------------------- ledger verification

_VERIFY_QUERIES: dict[str, str] = {
    "negative_balance": "SELECT id, balance FROM accounts WHERE balance < 0",
    "balance_differs_from_rows": """
        SELECT a.id, a.balance, COALESCE(SUM(CASE WHEN t.type IN ('deposit', 'transfer_in')
               THEN t.amount ELSE -t.amount END), 0) AS rows_total
        FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id
        GROUP BY a.id, a.balance
        HAVING a.balance <> COALESCE(SUM(CASE WHEN t.type IN ('deposit', 'transfer_in')
               THEN t.amount ELSE -t.amount END), 0)""",
    "last_balance_after_differs": """
        SELECT a.id, a.balance, t.balance_after FROM accounts a
        LEFT JOIN transactions t ON t.account_id = a.id AND t.seq = a.entry_count
        WHERE (a.entry_count > 0 AND (t.id IS NULL OR t.balance_after <> a.balance))
           OR (a.entry_count = 0 AND a.balance <> 0)""",
    "row_count_differs": """
        SELECT a.id, a.entry_count, COUNT(t.id) AS rows FROM accounts a
        LEFT JOIN transactions t ON t.account_id = a.id
        GROUP BY a.id, a.entry_count HAVING COUNT(t.id) <> a.entry_count""",
    "broken_balance_chain": """
        SELECT id, account_id, seq FROM (
          SELECT t.id, t.account_id, t.seq, t.balance_after,
                 LAG(t.balance_after, 1, 0) OVER (PARTITION BY t.account_id ORDER BY t.seq)
                 + CASE WHEN t.type IN ('deposit', 'transfer_in') THEN t.amount
                        ELSE -t.amount END AS expected
          FROM transactions t) chain
        WHERE balance_after <> expected""",
    "credited_total_differs_from_rows": """
        SELECT a.id, a.credited_total, COALESCE(SUM(CASE WHEN t.type IN ('deposit', 'transfer_in')
               THEN t.amount ELSE 0 END), 0) AS rows_total
        FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id
        GROUP BY a.id, a.credited_total
        HAVING a.credited_total <> COALESCE(SUM(CASE WHEN t.type IN ('deposit', 'transfer_in')
               THEN t.amount ELSE 0 END), 0)""",
    "broken_credited_total_chain": """
        SELECT id, account_id, seq FROM (
          SELECT t.id, t.account_id, t.seq, t.credited_total_after,
                 LAG(t.credited_total_after, 1, 0)
                   OVER (PARTITION BY t.account_id ORDER BY t.seq)
                 + CASE WHEN t.type IN ('deposit', 'transfer_in') THEN t.amount ELSE 0 END
                   AS expected
          FROM transactions t) chain
        WHERE credited_total_after <> expected""",
    "posted_out_of_order": """
        SELECT id, account_id, seq FROM (
          SELECT t.id, t.account_id, t.seq, t.created_at,
                 LAG(t.created_at) OVER (PARTITION BY t.account_id ORDER BY t.seq) AS previous
          FROM transactions t) chain
        WHERE created_at < previous""",
    "last_posted_at_differs": """
        SELECT a.id, a.last_posted_at, t.created_at FROM accounts a
        LEFT JOIN transactions t ON t.account_id = a.id AND t.seq = a.entry_count
        WHERE (t.id IS NOT NULL AND a.last_posted_at <> t.created_at)
           OR (a.entry_count = 0 AND a.last_posted_at <> a.created_at)""",
    "currency_differs_from_account": """
        SELECT t.id, t.currency, a.currency FROM transactions t
        JOIN accounts a ON a.id = t.account_id WHERE t.currency <> a.currency""",
    "transfer_rows_wrong": """
        SELECT tr.id FROM transfers tr
        WHERE (SELECT COUNT(*) FROM transactions t WHERE t.transfer_id = tr.id) <> 2
           OR (SELECT COUNT(*) FROM transactions t WHERE t.transfer_id = tr.id
               AND t.type = 'transfer_out' AND t.account_id = tr.from_account_id
               AND t.amount = tr.amount AND t.currency = tr.currency) <> 1
           OR (SELECT COUNT(*) FROM transactions t WHERE t.transfer_id = tr.id
               AND t.type = 'transfer_in' AND t.account_id = tr.to_account_id
               AND t.amount = tr.amount AND t.currency = tr.currency) <> 1""",
    "orphan_transfer_rows": """
        SELECT t.id FROM transactions t
        WHERE (t.type IN ('transfer_in', 'transfer_out')) <> (t.transfer_id IS NOT NULL)""",
}


class LedgerAudit(Repository):
    __slots__ = ()

    def ping(self) -> None:
        self.conn.execute(text("SELECT 1"))

    def violations(self) -> dict[str, list[tuple[Any, ...]]]:
        found: dict[str, list[tuple[Any, ...]]] = {}
        for name, sql in _VERIFY_QUERIES.items():
            rows = [tuple(row) for row in self.conn.execute(text(sql)).all()]
            if rows:
                found[name] = rows
        return found

    def totals(self) -> dict[str, int]:
        row = self.conn.execute(
            text(
                "SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM transactions),"
                " (SELECT COUNT(*) FROM transfers),"
                " (SELECT COALESCE(SUM(balance), 0) FROM accounts)"
            )
        ).one()
        return {
            "accounts": int(row[0]),
            "transactions": int(row[1]),
            "transfers": int(row[2]),
            "total_balance": int(row[3]),
        }
