"""Cards: issuing and lifecycle. The number is generated, checked and discarded: only last4 and
a keyed fingerprint (for uniqueness) are stored; no CVV is ever generated or kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from bank.core.security import keyed_fingerprint
from bank.db.uow import RetryableConflict
from bank.domain import errors, model, rules
from bank.domain.serialize import to_json
from bank.services import idempotency
from bank.services.common import (
    audit,
    ensure_customer,
    ensure_token_live,
    owner_scope,
    retrying,
    utcnow,
    visible_scope,
)
from bank.services.uow import UnitOfWork

BRAND = "visa"
MAX_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class IssueCard:
    account_id: UUID
    type: str


@dataclass(frozen=True, slots=True)
class CardPolicy:
    expiry_years: int
    fingerprint_key: str
    ttl_hours: int


def expiry(now: datetime, years: int) -> tuple[int, int]:
    """(month, year): the card is valid through the end of this month, `years` from now."""
    return now.month, now.year + years


def issue_card(
    uow: UnitOfWork, actor: model.Actor, req: IssueCard, key: str | None, policy: CardPolicy
) -> model.Replayable:
    holder = ensure_customer(actor, "issue cards")
    payload = {"account_id": str(req.account_id), "type": req.type}
    request = idempotency.request(key, "create_card", payload)

    def action(tx: UnitOfWork) -> tuple[int, dict[str, Any]]:
        # Locked: a concurrent issue counts this card, a concurrent close cancels it.
        account = tx.accounts.lock_owned(req.account_id, holder)
        if account is None:
            raise errors.NotFound("Account not found.", account_id=str(req.account_id))
        if account.status != "active":
            raise errors.AccountNotActive(account_id=str(account.id), status=account.status)
        if tx.cards.count_open(account.id) >= model.MAX_ACTIVE_CARDS:
            raise errors.CardLimitReached(limit=model.MAX_ACTIVE_CARDS)
        card = _new_card(tx, account.id, req.type, policy)
        audit(
            tx,
            actor,
            "card_issued",
            "success",
            card.created_at,
            "card",
            card.id,
            {"account_id": str(account.id), "type": req.type, "last4": card.last4},
        )
        return 201, to_json(card)

    return idempotency.run(uow, actor, request, action, policy.ttl_hours)


def _new_card(tx: UnitOfWork, account_id: UUID, type_: str, policy: CardPolicy) -> model.Card:
    now = utcnow()
    month, year = expiry(now, policy.expiry_years)
    for _ in range(MAX_NUMBER_ATTEMPTS):
        number = rules.new_card_number()
        card = model.Card(
            id=uuid.uuid4(),
            account_id=account_id,
            type=type_,
            brand=BRAND,
            last4=number[-4:],
            exp_month=month,
            exp_year=year,
            status="active",
            created_at=now,
        )
        if tx.cards.add(card, keyed_fingerprint(policy.fingerprint_key, number)):
            return card
    raise RetryableConflict("card number collisions")  # pragma: no cover - 1e-9 odds, 5 times


def get_card(uow: UnitOfWork, actor: model.Actor, card_id: UUID) -> model.Card:
    with uow.independent_reads():
        ensure_token_live(uow, actor)
        card = uow.cards.get(card_id, owner_scope(actor))
    if card is None:
        raise errors.NotFound("Card not found.", card_id=str(card_id))
    return card


def list_cards(
    uow: UnitOfWork, actor: model.Actor, account_id: UUID | None, limit: int, offset: int
) -> model.Page[model.Card]:
    with uow:
        scope = visible_scope(uow, actor, account_id)
        return uow.cards.page(scope, account_id, limit, offset)


def change_status(uow: UnitOfWork, actor: model.Actor, card_id: UUID, target: str) -> model.Card:
    def attempt() -> model.Card:
        with uow.write():
            ensure_token_live(uow, actor)
            card = uow.cards.get(card_id, owner_scope(actor))
            if card is None:
                raise errors.NotFound("Card not found.", card_id=str(card_id))
            rules.ensure_card_transition(card.status, target)
            updated = uow.cards.set_status(card_id, card.status, target)
            if updated is None:
                raise RetryableConflict("card status changed concurrently")
            audit(
                uow,
                actor,
                "card_status_changed",
                "success",
                utcnow(),
                "card",
                card_id,
                {"from": card.status, "to": target},
            )
            uow.commit()
            return updated

    return retrying(attempt)
