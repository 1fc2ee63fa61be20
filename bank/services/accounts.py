"""Accounts: opening, reading, and status changes (closing cancels the account's cards)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from bank.db.repositories import account_read, account_read_answer
from bank.db.uow import RetryableConflict
from bank.domain import errors, model, rules
from bank.domain.serialize import to_json
from bank.services import idempotency
from bank.services.common import (
    audit,
    ensure_token_live,
    owner_scope,
    read_scope,
    readable_account,
    retrying,
    utcnow,
)
from bank.services.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class OpenAccount:
    type: str
    currency: str
    holder_id: UUID | None = None


def open_account(
    uow: UnitOfWork, actor: model.Actor, req: OpenAccount, key: str | None, ttl_hours: int
) -> model.Replayable:
    payload = {
        "type": req.type,
        "currency": req.currency,
        "holder_id": None if req.holder_id is None else str(req.holder_id),
    }
    request = idempotency.request(key, "create_account", payload)

    def action(tx: UnitOfWork) -> tuple[int, dict[str, Any]]:
        holder_id = _target_holder(tx, actor, req.holder_id)
        now = utcnow()
        account = tx.accounts.add(
            holder_id=holder_id, type_=req.type, currency=req.currency, now=now
        )
        audit(
            tx,
            actor,
            "account_opened",
            "success",
            now,
            "account",
            account.id,
            {"holder_id": str(holder_id), "currency": req.currency},
        )
        return 201, to_json(account)

    return idempotency.run(uow, actor, request, action, ttl_hours)


def _target_holder(tx: UnitOfWork, actor: model.Actor, requested: UUID | None) -> UUID:
    if actor.is_admin:
        if requested is None:
            raise errors.HolderRequired()
        if tx.holders.get(requested) is None:
            raise errors.NotFound("Account holder not found.", holder_id=str(requested))
        return requested
    own = owner_scope(actor)
    assert own is not None
    if requested is not None and requested != own:
        # A customer naming someone else's holder learns nothing: same as a missing one.
        raise errors.NotFound("Account holder not found.", holder_id=str(requested))
    return own


async def get_account(uow: UnitOfWork, actor: model.Actor, account_id: UUID) -> model.Account:
    """The token check and the scoped read as one statement (`repositories.account_read`)."""
    call = account_read(actor.jti, account_id, read_scope(actor))
    return readable_account(account_read_answer(await uow.read_at_once(call)), account_id)


def list_accounts(
    uow: UnitOfWork, actor: model.Actor, limit: int, offset: int
) -> model.Page[model.Account]:
    with uow:
        ensure_token_live(uow, actor)
        return uow.accounts.page(owner_scope(actor), limit, offset)


def change_status(
    uow: UnitOfWork, actor: model.Actor, account_id: UUID, target: str
) -> model.Account:
    def attempt() -> model.Account:
        with uow.write():
            ensure_token_live(uow, actor)
            account = uow.accounts.get(account_id, owner_scope(actor))
            if account is None:
                raise errors.NotFound("Account not found.", account_id=str(account_id))
            rules.ensure_account_transition(account.status, target, account.balance)
            updated = uow.accounts.set_status(account_id, account.status, target)
            if updated is None:  # changed between our read and write: read again
                raise RetryableConflict("account status changed concurrently")
            now = utcnow()
            canceled = uow.cards.cancel_all(account_id) if target == "closed" else []
            audit(
                uow,
                actor,
                "account_status_changed",
                "success",
                now,
                "account",
                account_id,
                {"from": account.status, "to": target, "cards_canceled": len(canceled)},
            )
            for card_id in canceled:
                audit(
                    uow,
                    actor,
                    "card_status_changed",
                    "success",
                    now,
                    "card",
                    card_id,
                    {"to": "canceled", "reason": "account_closed"},
                )
            uow.commit()
            return updated

    return retrying(attempt)
