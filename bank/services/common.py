"""Helpers the use cases share: clock, token check, ownership scope, retries, audit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from bank.db.uow import RetryableConflict
from bank.domain import errors
from bank.domain.model import Account, Actor, Client
from bank.services.uow import UnitOfWork

MAX_ATTEMPTS = 5


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_token_live(uow: UnitOfWork, actor: Actor) -> None:
    """Logout revokes a token's jti in the database, so every worker sees it: one lookup."""
    if uow.tokens.is_revoked(actor.jti):
        raise errors.TokenRevoked()


def owner_scope(actor: Actor) -> UUID | None:
    """The holder whose objects the actor may see: None means everything (admins)."""
    if actor.is_admin:
        return None
    if actor.holder_id is None:  # a customer always has a holder; be strict anyway
        raise errors.NotFound()
    return actor.holder_id


# No holder has this id (holders' ids are random UUIDs): a customer without a holder, which is
# never issued, reads no account.
_NO_HOLDER = UUID(int=0)


def read_scope(actor: Actor) -> UUID | None:
    """`owner_scope` for a read that checks the token in the same statement: None for an admin
    (everything), else the customer's holder."""
    if actor.is_admin:
        return None
    return actor.holder_id or _NO_HOLDER


def readable_account(answer: tuple[bool, Account | None], account_id: UUID) -> Account:
    """The account a token check and scoped read found together (`repositories.account_read`):
    a revoked token is refused first, then a missing or foreign account is a 404."""
    revoked, account = answer
    if revoked:
        raise errors.TokenRevoked()
    if account is None:
        raise errors.NotFound("Account not found.", account_id=str(account_id))
    return account


def visible_scope(uow: UnitOfWork, actor: Actor, account_id: UUID | None) -> UUID | None:
    """The actor's owner scope, after checking that a filter account is visible (else 404)."""
    ensure_token_live(uow, actor)
    scope = owner_scope(actor)
    if account_id is not None and uow.accounts.get(account_id, scope) is None:
        raise errors.NotFound("Account not found.", account_id=str(account_id))
    return scope


def ensure_customer(actor: Actor, action: str) -> UUID:
    if actor.is_admin or actor.holder_id is None:
        raise errors.Forbidden(f"Only customers may {action}.")
    return actor.holder_id


def retrying[T](attempt: Callable[[], T], attempts: int = MAX_ATTEMPTS) -> T:
    """Run a transaction again after a deadlock or serialization failure (bounded, jittered)."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except RetryableConflict:
            if number == attempts:
                raise errors.ServiceUnavailable("The database is busy; retry shortly.") from None
            # Handlers run on the worker's event loop, so this jitter pauses the worker: it is
            # bounded (under 0.2 s over all attempts) and follows only a deadlock or a race.
            time.sleep(random.uniform(0, 0.005 * 2**number))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")  # pragma: no cover


def audit(
    uow: UnitOfWork,
    who: Actor | Client,
    action: str,
    outcome: str,
    now: datetime,
    target_type: str | None = None,
    target_id: UUID | str | None = None,
    details: dict[str, Any] | None = None,
    user_id: UUID | None = None,
) -> None:
    actor = who if isinstance(who, Actor) else None
    uow.audit.record(
        action=action,
        outcome=outcome,
        now=now,
        user_id=actor.user_id if actor else user_id,
        jti=actor.jti if actor else None,
        request_id=who.request_id,
        client_ip=who.client_ip,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
