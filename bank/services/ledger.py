"""Money movement: deposits, withdrawals, transfers, and reading the ledger.

Every balance change is a conditional UPDATE that folds ownership, status, currency and funds
into its WHERE clause (one round trip, and the row lock on PostgreSQL), taken in ascending id
order, in the same transaction as its immutable transaction rows.

`transfer` and `post_transaction` are coroutines only so that, on PostgreSQL, their one
statement (`idempotency.run_at_once_first`) is awaited while the worker serves other requests;
everything else they do, the general path included, runs synchronously as elsewhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from bank.db.repositories import (
    AccountState,
    AtOnceCall,
    NewKey,
    Posting,
    movement_at_once,
    transfer_at_once,
)
from bank.db.uow import RetryableConflict
from bank.domain import errors, model, rules
from bank.domain.serialize import error_template, template, to_json
from bank.services import idempotency
from bank.services.common import (
    audit,
    ensure_customer,
    ensure_token_live,
    owner_scope,
    read_scope,
    readable_account,
    utcnow,
    visible_scope,
)
from bank.services.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class MovementRequest:
    account_id: UUID
    type: str  # deposit | withdrawal
    amount: int
    currency: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TransferRequest:
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None = None


async def post_transaction(
    uow: UnitOfWork, actor: model.Actor, req: MovementRequest, key: str | None, ttl_hours: int
) -> model.Replayable:
    holder = ensure_customer(actor, "deposit or withdraw")
    _check_amount(req.amount)
    payload = {
        "account_id": str(req.account_id),
        "type": req.type,
        "amount": req.amount,
        "currency": req.currency,
        "description": req.description,
    }
    request = idempotency.request(key, "create_transaction", payload)

    def action(tx: UnitOfWork) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        if req.type == "deposit":
            posting = tx.accounts.credit(req.account_id, req.amount, req.currency, holder, now)
        else:
            posting = tx.accounts.debit(req.account_id, req.amount, req.currency, holder, now)
        if posting is None:
            _explain_failure(
                tx,
                holder,
                req.account_id,
                None,
                req.amount,
                req.currency,
                debit_source=req.type == "withdrawal",
            )
        assert posting is not None
        row = _row(
            req.account_id, req.type, req.amount, req.currency, posting, None, req.description
        )
        tx.ledger.add_transactions([row])
        audit(
            tx,
            actor,
            f"{req.type}_posted",
            "success",
            now,
            "transaction",
            row["id"],
            _movement_audit(req),
        )
        return 201, to_json(_transaction(row))

    def at_once(key: NewKey) -> AtOnceCall | None:
        now = utcnow()
        asked = model.Transaction(
            id=uuid.uuid4(),
            account_id=req.account_id,
            type=req.type,
            amount=req.amount,
            currency=req.currency,
            balance_after=0,  # the database fills in the posting's balance and stamp
            transfer_id=None,
            description=req.description,
            created_at=now,
        )
        body = template(to_json(asked), "balance_after", "created_at")
        if body is None:
            return None
        refusal = None
        if req.type == "withdrawal":  # an over-draw is refused by the same call
            over = errors.InsufficientFunds(
                account_id=str(req.account_id), balance=0, amount=req.amount
            )
            refusal = error_template(over.code, over.message, over.details, "balance")
        return movement_at_once(key, actor, asked, now, _movement_audit(req), body, refusal)

    return await idempotency.run_at_once_first(uow, actor, request, action, ttl_hours, at_once)


def _movement_audit(req: MovementRequest) -> dict[str, Any]:
    return {"account_id": str(req.account_id), "amount": req.amount}


async def transfer(
    uow: UnitOfWork, actor: model.Actor, req: TransferRequest, key: str | None, ttl_hours: int
) -> model.Replayable:
    holder = ensure_customer(actor, "transfer money")
    if req.from_account_id == req.to_account_id:
        raise errors.SameAccount(account_id=str(req.from_account_id))
    _check_amount(req.amount)
    payload = {
        "from_account_id": str(req.from_account_id),
        "to_account_id": str(req.to_account_id),
        "amount": req.amount,
        "currency": req.currency,
        "description": req.description,
    }
    request = idempotency.request(key, "create_transfer", payload)

    def action(tx: UnitOfWork) -> tuple[int, dict[str, Any]]:
        now = utcnow()
        postings = _post_both(tx, holder, req, now)
        debited, credited = postings[req.from_account_id], postings[req.to_account_id]
        posted = model.Transfer(
            id=uuid.uuid4(),
            from_account_id=req.from_account_id,
            to_account_id=req.to_account_id,
            amount=req.amount,
            currency=req.currency,
            description=req.description,
            # No earlier than either side's previous row (each side's row keeps its own stamp).
            created_at=max(debited.posted_at, credited.posted_at),
        )
        tx.ledger.add_transfer(posted)
        tx.ledger.add_transactions(
            [
                _row(
                    req.from_account_id,
                    "transfer_out",
                    req.amount,
                    req.currency,
                    debited,
                    posted.id,
                    req.description,
                ),
                _row(
                    req.to_account_id,
                    "transfer_in",
                    req.amount,
                    req.currency,
                    credited,
                    posted.id,
                    req.description,
                ),
            ]
        )
        audit(
            tx,
            actor,
            "transfer_posted",
            "success",
            now,
            "transfer",
            posted.id,
            _transfer_audit(req),
        )
        return 201, to_json(posted)

    def at_once(key: NewKey) -> AtOnceCall | None:
        now = utcnow()
        asked = model.Transfer(
            id=uuid.uuid4(),
            from_account_id=req.from_account_id,
            to_account_id=req.to_account_id,
            amount=req.amount,
            currency=req.currency,
            description=req.description,
            created_at=now,  # the database stamps it: the later of the two postings
        )
        body = template(to_json(asked), "created_at")
        if body is None:
            return None
        return transfer_at_once(key, actor, asked, now, _transfer_audit(req), body)

    return await idempotency.run_at_once_first(uow, actor, request, action, ttl_hours, at_once)


def _transfer_audit(req: TransferRequest) -> dict[str, Any]:
    return {
        "from_account_id": str(req.from_account_id),
        "to_account_id": str(req.to_account_id),
        "amount": req.amount,
    }


def _post_both(
    tx: UnitOfWork, holder: UUID, req: TransferRequest, now: datetime
) -> dict[UUID, Posting]:
    """Debit the source and credit the destination, locking in ascending id order."""
    postings: dict[UUID, Posting] = {}
    for account_id in sorted((req.from_account_id, req.to_account_id)):
        if account_id == req.from_account_id:
            posting = tx.accounts.debit(account_id, req.amount, req.currency, holder, now)
        else:
            posting = tx.accounts.credit(account_id, req.amount, req.currency, None, now)
        if posting is None:
            _explain_failure(
                tx,
                holder,
                req.from_account_id,
                req.to_account_id,
                req.amount,
                req.currency,
                debit_source=True,
            )
        assert posting is not None
        postings[account_id] = posting
    return postings


def _explain_failure(
    tx: UnitOfWork,
    holder: UUID,
    source_id: UUID,
    target_id: UUID | None,
    amount: int,
    currency: str,
    *,
    debit_source: bool,
) -> None:
    """A conditional update matched nothing: say which rule failed, in a fixed precedence.

    Runs only on the failure path. `source` is the caller's account (for a deposit, the one
    credited); `target` is a transfer's destination.
    """
    ids = (source_id,) if target_id is None else (source_id, target_id)
    states = tx.accounts.states(*ids)
    source = states.get(source_id)
    if source is None or source.holder_id != holder:
        raise errors.NotFound("Account not found.", account_id=str(source_id))
    target = states.get(target_id) if target_id is not None else None
    if target_id is not None and target is None:
        raise errors.NotFound("Account not found.", account_id=str(target_id))
    # Another customer's destination says which rule failed, but not its currency or status.
    for state in (source, target):
        if state is not None and state.currency != currency:
            shown = {"account_currency": state.currency} if state.holder_id == holder else {}
            raise errors.CurrencyMismatch(account_id=str(state.id), currency=currency, **shown)
    for state in (source, target):
        if state is not None and state.status != "active":
            shown = {"status": state.status} if state.holder_id == holder else {}
            raise errors.AccountNotActive(account_id=str(state.id), **shown)
    _explain_balance(source, target, amount, debit_source=debit_source)


def _explain_balance(
    source: AccountState, target: AccountState | None, amount: int, *, debit_source: bool
) -> None:
    if debit_source and source.balance < amount:
        raise errors.InsufficientFunds(
            account_id=str(source.id), balance=source.balance, amount=amount
        )
    credited = target if debit_source else source
    if credited is not None and credited.balance > model.MAX_BALANCE - amount:
        raise errors.BalanceLimitExceeded(account_id=str(credited.id))
    if credited is not None and credited.credited_total > model.MAX_CREDITED_TOTAL - amount:
        raise errors.BalanceLimitExceeded(
            "The account has been credited the most it ever can be.", account_id=str(credited.id)
        )
    # Every rule holds now: the row changed between the update and this read. Run again.
    raise RetryableConflict("account changed concurrently")


def _check_amount(amount: int) -> None:
    if not 1 <= amount <= model.MAX_AMOUNT:
        raise errors.ValidationFailed(
            f"amount must be between 1 and {model.MAX_AMOUNT}.", field="amount"
        )


def _row(
    account_id: UUID,
    type_: str,
    amount: int,
    currency: str,
    posting: Posting,
    transfer_id: UUID | None,
    description: str | None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "type": type_,
        "amount": amount,
        "currency": currency,
        "balance_after": posting.balance,
        "transfer_id": transfer_id,
        "description": description,
        "created_at": posting.posted_at,
        "seq": posting.seq,
        "credited_total_after": posting.credited_total,
    }


_LEDGER_ONLY = frozenset({"seq", "credited_total_after"})


def _transaction(row: dict[str, Any]) -> model.Transaction:
    return model.Transaction(**{k: v for k, v in row.items() if k not in _LEDGER_ONLY})


# ---------------------------------------------------------------- reads


def get_transaction(uow: UnitOfWork, actor: model.Actor, transaction_id: UUID) -> model.Transaction:
    with uow.independent_reads():
        ensure_token_live(uow, actor)
        found = uow.ledger.transaction(transaction_id, owner_scope(actor))
    if found is None:
        raise errors.NotFound("Transaction not found.")
    return found


def list_transactions(
    uow: UnitOfWork, actor: model.Actor, account_id: UUID | None, limit: int, offset: int
) -> model.Page[model.Transaction]:
    with uow:
        scope = visible_scope(uow, actor, account_id)
        return uow.ledger.transactions(scope, account_id, limit, offset)


def get_transfer(uow: UnitOfWork, actor: model.Actor, transfer_id: UUID) -> model.Transfer:
    with uow.independent_reads():
        ensure_token_live(uow, actor)
        found = uow.ledger.transfer(transfer_id, owner_scope(actor))
    if found is None:
        raise errors.NotFound("Transfer not found.")
    return found


def list_transfers(
    uow: UnitOfWork, actor: model.Actor, account_id: UUID | None, limit: int, offset: int
) -> model.Page[model.Transfer]:
    with uow:
        scope = visible_scope(uow, actor, account_id)
        return uow.ledger.transfers(scope, account_id, limit, offset)


async def statement(
    uow: UnitOfWork,
    actor: model.Actor,
    account_id: UUID,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> model.Statement:
    """The account, its balances at both ends of the period and a page of its rows, read in one
    snapshot (`snapshot_reads`): they agree even while money moves."""
    async with uow.snapshot_reads() as reads:
        found = await reads.token_and_account(actor.jti, account_id, read_scope(actor))
        account = readable_account(found, account_id)
        period_to = end or utcnow()
        period_from = start if start is not None else min(account.created_at, period_to)
        if end is not None:
            rules.ensure_period(period_from, period_to)
        elif period_from > period_to:
            period_to = period_from  # only `from` was given, and it lies in the future
        # Totals from the running values at both ends: two index seeks, not a sum over the period.
        opening = await reads.position_before(account_id, period_from)
        closing = await reads.position_before(account_id, period_to)
        rows = await reads.period_rows(account_id, period_from, period_to, limit, offset)
    return model.Statement(
        account=account,
        period_from=period_from,
        period_to=period_to,
        opening_balance=opening.balance,
        closing_balance=closing.balance,
        total_credits=closing.credited_total - opening.credited_total,
        total_debits=closing.debited_total - opening.debited_total,
        transactions=model.Page(
            items=rows, limit=limit, offset=offset, total=closing.seq - opening.seq
        ),
    )
