"""Idempotency-Key handling in one place (Stripe's semantics; see notes/ledger.md).

The key row is written in the same transaction as the effect, so a crash or rollback leaves no
key and a retry is safe. Business errors are stored too and replayed (in a second transaction,
after the failed effect rolled back; a retry that committed in between wins); validation errors
are not. A money movement's success may instead be claimed, done and stored by one call
(`run_at_once_first`): on PostgreSQL a server-side statement, under the same advisory lock and
unique key; on SQLite the same steps in one write transaction, with everything but the
database's answers prepared before the write lock. A withdrawal over the balance is refused
and stored by that call too (the one refusal clients make on purpose, often). All else comes
here.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bank.db.repositories import AtOnceCall, NewKey
from bank.db.uow import DuplicateKey, RetryableConflict
from bank.domain import errors
from bank.domain.model import Actor, Replayable
from bank.domain.serialize import COMPACT, STORED_ERROR_PREFIX, compact_json, error_body
from bank.services.common import ensure_token_live, retrying, utcnow
from bank.services.uow import UnitOfWork

PURGE_ONE_IN = 500


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    key: str | None
    operation: str
    fingerprint: str


# The fingerprint's canonical JSON (stored fingerprints depend on this exact form), encoder
# built once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=COMPACT, default=str)


def request(key: str | None, operation: str, payload: Mapping[str, Any]) -> IdempotencyRequest:
    canonical = _CANONICAL.encode(payload)
    return IdempotencyRequest(key, operation, hashlib.sha256(canonical.encode()).hexdigest())


Action = Callable[[UnitOfWork], tuple[int, dict[str, Any]]]


# A whole unit of work as one statement, for a key it claims itself (see `run_at_once_first`);
# None when the request cannot take that path and the general path must run.
AtOnce = Callable[[NewKey], AtOnceCall | None]


def run(
    uow: UnitOfWork, actor: Actor, req: IdempotencyRequest, action: Action, ttl_hours: int
) -> Replayable:
    """Run `action` in one write transaction, at most once per (user, operation, key)."""

    def attempt() -> Replayable:
        try:
            return _attempt(uow, actor, req, action, ttl_hours)
        except DuplicateKey:
            if req.key is None:
                raise
            # Another request with this key committed first: replay it on the next attempt.
            return _replay_only(uow, actor, req)

    return retrying(attempt)


async def run_at_once_first(
    uow: UnitOfWork,
    actor: Actor,
    req: IdempotencyRequest,
    action: Action,
    ttl_hours: int,
    at_once: AtOnce,
) -> Replayable:
    """As `run`; but where the unit of work can (`writes_at_once`), `at_once` first tries the
    common case, a success, as one call that claims the key, does the work and stores the
    response (on PostgreSQL one statement, awaited so that the worker serves other requests
    while it runs; on SQLite in process, see `repositories.in_process`). Whatever it cannot
    answer (a stored or in-flight key, a revoked token, a refused rule, a race) it leaves
    unwritten, and `run` decides.
    """
    if uow.writes_at_once:
        done = await _run_at_once(uow, req, at_once, ttl_hours)
        if done is not None:
            return done
    return run(uow, actor, req, action, ttl_hours)


async def _run_at_once(
    uow: UnitOfWork, req: IdempotencyRequest, at_once: AtOnce, ttl_hours: int
) -> Replayable | None:
    now = utcnow()
    record = NewKey(
        operation=req.operation,
        key=req.key,
        fingerprint=req.fingerprint,
        expires_at=now + timedelta(hours=ttl_hours),
        purge=random.randrange(PURGE_ONE_IN) == 0,  # noqa: S311 - housekeeping, not crypto
    )
    call = at_once(record)
    if call is None:
        return None
    try:
        body = await uow.post_at_once(call)
    except (DuplicateKey, RetryableConflict):
        return None  # a race the general path settles (replays the winner, or retries)
    if body is None:
        return None
    if body.startswith(STORED_ERROR_PREFIX):
        # The one refusal the call answers itself, stored under the key as `_attempt` would.
        raise errors.InsufficientFunds(**json.loads(body)["error"]["details"])
    return Replayable(201, body)


def _attempt(
    uow: UnitOfWork, actor: Actor, req: IdempotencyRequest, action: Action, ttl_hours: int
) -> Replayable:
    failure: errors.BankError
    with uow.write():
        if req.key is None:
            ensure_token_live(uow, actor)
        else:
            replay = _claim(uow, actor, req, check_token=True)
            if replay is not None:
                return replay
        try:
            status, body = action(uow)
        except errors.BankError as exc:
            if req.key is None or not exc.replayable:
                raise
            failure = exc
        else:
            text = compact_json(body)
            if req.key is not None:
                _store(uow, actor, req, status, text, ttl_hours)
            uow.commit()
            return Replayable(status, text)
    # The effect rolled back; record the business error so a retry answers the same. The key
    # was free between the two transactions: if a retry with it committed meanwhile, its
    # stored response is the key's one answer (the claim returns or raises it), not this error.
    with uow.write():
        replay = _claim(uow, actor, req)
        if replay is not None:
            return replay
        body = error_body(failure.code, failure.message, failure.details)
        _store(uow, actor, req, failure.status, compact_json(body), ttl_hours)
        uow.commit()
    raise failure


def _replay_only(uow: UnitOfWork, actor: Actor, req: IdempotencyRequest) -> Replayable:
    with uow:
        replay = _claim(uow, actor, req)
    if replay is None:  # pragma: no cover - the winner's row vanished (expired) meanwhile
        raise errors.IdempotencyInProgress()
    return replay


def _claim(
    uow: UnitOfWork, actor: Actor, req: IdempotencyRequest, *, check_token: bool = False
) -> Replayable | None:
    """The key's stored response as a replay, or None to go ahead. With `check_token`, the
    same statement stands in for ensure_token_live (one round trip fewer per keyed write)."""
    assert req.key is not None
    claim = uow.idempotency.claim(actor.user_id, req.operation, req.key, utcnow(), actor.jti)
    if check_token and claim.revoked:
        raise errors.TokenRevoked()
    if not claim.claimed:
        raise errors.IdempotencyInProgress()
    stored = claim.stored
    if stored is None:
        return None
    if stored.fingerprint != req.fingerprint:
        raise errors.IdempotencyKeyReused()
    if stored.status >= 400:
        error = json.loads(stored.body)["error"]
        raise errors.ReplayedError(error["code"], stored.status, error["message"], error["details"])
    return Replayable(stored.status, stored.body, replayed=True)


def _store(
    uow: UnitOfWork,
    actor: Actor,
    req: IdempotencyRequest,
    status: int,
    text: str,
    ttl_hours: int,
) -> None:
    assert req.key is not None
    now = utcnow()
    uow.idempotency.store(
        user_id=actor.user_id,
        operation=req.operation,
        key=req.key,
        fingerprint=req.fingerprint,
        status=status,
        body=text,
        now=now,
        expires_at=now + timedelta(hours=ttl_hours),
    )
    if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - housekeeping, not crypto
        uow.idempotency.purge(now)
