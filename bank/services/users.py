"""Identity: signup, login with throttling, the refresh-token lifecycle, logout, holders.

bcrypt never runs inside a write transaction: hashing takes ~250 ms at cost 12 and would hold
SQLite's write lock for that long. Login therefore reads, verifies, then writes.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from bank.core import security
from bank.db.uow import DuplicateKey
from bank.domain import errors, model, rules
from bank.services.common import audit, ensure_token_live, owner_scope, retrying, utcnow
from bank.services.uow import UnitOfWork

# Verified against for unknown emails, so both failures cost one bcrypt check.
_DUMMY_HASH: dict[int, str] = {}


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    jwt_key: str
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int
    bcrypt_rounds: int
    max_failures_email: int
    max_failures_ip: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Signup:
    email: str
    password: str
    first_name: str
    last_name: str
    dob: date


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < 8:
        raise errors.ValidationFailed("password must be at least 8 characters.", field="password")
    if len(password.encode()) > security.MAX_PASSWORD_BYTES:
        raise errors.ValidationFailed(
            "password must be at most 72 bytes of UTF-8.", field="password"
        )


def signup(
    uow: UnitOfWork, client: model.Client, req: Signup, policy: AuthPolicy
) -> model.SignupResult:
    email = normalise_email(req.email)
    rules.ensure_deliverable_email(email)
    check_password(req.password)
    rules.ensure_past_date(req.dob, utcnow().date())
    first, last = req.first_name.strip(), req.last_name.strip()
    if not first or not last:
        raise errors.ValidationFailed("Names must not be blank.", field="first_name")
    with uow:  # spare the bcrypt work for a taken email; the unique constraint decides
        if uow.users.email_exists(email):
            raise errors.EmailTaken()
    password_hash = security.hash_password(req.password, policy.bcrypt_rounds)
    try:
        with uow.write():
            now = utcnow()
            user = uow.users.add(email=email, password_hash=password_hash, role="customer", now=now)
            holder = uow.holders.add(
                user_id=user.id, first_name=first, last_name=last, dob=req.dob, now=now
            )
            audit(uow, client, "signup", "success", now, "user", user.id, user_id=user.id)
            uow.commit()
    except DuplicateKey:  # a concurrent signup with the same email won the race
        raise errors.EmailTaken() from None
    return model.SignupResult(user=user, account_holder=holder)


def _dummy_hash(rounds: int) -> str:
    if rounds not in _DUMMY_HASH:
        _DUMMY_HASH[rounds] = security.hash_password("dummy-password-for-timing", rounds)
    return _DUMMY_HASH[rounds]


def login(
    uow: UnitOfWork, client: model.Client, email: str, password: str, policy: AuthPolicy
) -> model.TokenPair:
    email = normalise_email(email)
    reserved, found = _reserve_attempt(uow, client, email, policy)
    password_hash = found[1] if found else _dummy_hash(policy.bcrypt_rounds)
    valid = security.verify_password(password, password_hash) and found is not None
    if not valid or found is None:
        _audit_failure(uow, client)
        raise errors.InvalidCredentials()
    user_id, _, role = found

    def attempt() -> model.TokenPair:
        with uow.write():
            uow.throttle.clear("email", email)
            uow.throttle.forget(reserved)
            holder = uow.holders.for_user(user_id)
            pair = _issue_pair(
                uow, user_id, role, holder.id if holder else None, uuid.uuid4(), policy
            )
            audit(uow, client, "login", "success", utcnow(), "user", user_id, user_id=user_id)
            uow.commit()
            return pair

    return retrying(attempt)


def _ensure_not_throttled(
    uow: UnitOfWork, email: str, client_ip: str | None, since: datetime, policy: AuthPolicy
) -> None:
    checks = [("email", email, policy.max_failures_email)]
    if client_ip:
        checks.append(("ip", client_ip, policy.max_failures_ip))
    for scope, subject, limit in checks:
        nth = uow.throttle.nth_recent_failure(scope, subject, since, limit)
        if nth is not None:
            wait = (nth - since).total_seconds()
            raise errors.TooManyRequests(retry_after=max(1, math.ceil(wait)))


def _reserve_attempt(
    uow: UnitOfWork, client: model.Client, email: str, policy: AuthPolicy
) -> tuple[list[int], tuple[UUID, str, str] | None]:
    """Count the attempt as a failure before the password is checked (bcrypt takes ~250 ms):
    attempts made meanwhile see it, so parallel guesses cannot pass the throttle. A success
    forgets it. Also reads the credentials. 429 when the subject is already throttled."""

    def attempt() -> tuple[list[int], tuple[UUID, str, str] | None]:
        with uow.write():
            now = utcnow()
            since = now - timedelta(seconds=policy.window_seconds)
            subjects = [("email", email)]
            if client.client_ip:
                subjects.append(("ip", client.client_ip))
            for scope, subject in subjects:  # always in this order: no deadlock
                uow.throttle.serialise(scope, subject)
            _ensure_not_throttled(uow, email, client.client_ip, since, policy)
            reserved = [
                uow.throttle.record(scope, subject, now, since) for scope, subject in subjects
            ]
            found = uow.users.credentials(email)
            uow.commit()
            return reserved, found

    return retrying(attempt)


def _audit_failure(uow: UnitOfWork, client: model.Client) -> None:
    def attempt() -> None:
        with uow.write():
            audit(
                uow,
                client,
                "login",
                "failure",
                utcnow(),
                "email",
                None,
                {"reason": "invalid_credentials"},
            )
            uow.commit()

    retrying(attempt)


def _issue_pair(
    uow: UnitOfWork,
    user_id: UUID,
    role: str,
    holder_id: UUID | None,
    family_id: UUID,
    policy: AuthPolicy,
) -> model.TokenPair:
    access = security.issue_access_token(
        key=policy.jwt_key,
        user_id=str(user_id),
        role=role,
        holder_id=None if holder_id is None else str(holder_id),
        ttl=policy.access_ttl,
        issuer=policy.issuer,
        audience=policy.audience,
    )
    refresh = security.new_refresh_token()
    now = utcnow()
    uow.tokens.add_refresh(
        user_id=user_id,
        family_id=family_id,
        token_hash=security.hash_refresh_token(refresh),
        access_jti=access.jti,
        expires_at=now + timedelta(seconds=policy.refresh_ttl),
        now=now,
    )
    return model.TokenPair(
        access_token=access.token, expires_in=policy.access_ttl, refresh_token=refresh
    )


def refresh(
    uow: UnitOfWork, client: model.Client, refresh_token: str, policy: AuthPolicy
) -> model.TokenPair:
    token_hash = security.hash_refresh_token(refresh_token)

    def attempt() -> model.TokenPair:
        with uow.write():
            now = utcnow()
            used = uow.tokens.use_refresh(token_hash, now)
            if used is None:
                _reject_refresh(uow, client, token_hash, now, policy)
            assert used is not None
            user_id, family_id = used
            found = uow.users.get(user_id)
            holder = uow.holders.for_user(user_id)
            role = found[1] if found else "customer"
            pair = _issue_pair(uow, user_id, role, holder.id if holder else None, family_id, policy)
            audit(uow, client, "refresh", "success", now, "user", user_id, user_id=user_id)
            uow.commit()
            return pair

    return retrying(attempt)


def _reject_refresh(
    uow: UnitOfWork, client: model.Client, token_hash: str, now: datetime, policy: AuthPolicy
) -> None:
    state = uow.tokens.refresh_state(token_hash, now)
    if state is None or not state.used or state.expired:
        raise errors.InvalidRefreshToken()
    # Reuse of a rotated token: someone holds a copy. Revoke the whole family (RFC 9700).
    uow.tokens.revoke_family(state.family_id, now, policy.access_ttl)
    audit(
        uow,
        client,
        "refresh_reuse_detected",
        "family_revoked",
        now,
        "user",
        state.user_id,
        {"family_id": str(state.family_id)},
        user_id=state.user_id,
    )
    uow.commit()
    raise errors.RefreshTokenReused()


def logout(uow: UnitOfWork, actor: model.Actor, policy: AuthPolicy) -> None:
    def attempt() -> None:
        with uow.write():
            ensure_token_live(uow, actor)
            now = utcnow()
            expires = datetime.fromtimestamp(actor.token_exp, tz=now.tzinfo)
            uow.tokens.revoke_access(actor.jti, max(expires, now))
            family = uow.tokens.family_of_access(actor.jti)
            if family is not None:
                uow.tokens.revoke_family(family, now, policy.access_ttl)
            audit(uow, actor, "logout", "success", now, "user", actor.user_id)
            uow.commit()

    retrying(attempt)


def me(uow: UnitOfWork, actor: model.Actor) -> model.Me:
    with uow.independent_reads():
        ensure_token_live(uow, actor)
        found = uow.users.get(actor.user_id)
        holder = uow.holders.for_user(actor.user_id)
    if found is None:
        raise errors.Unauthenticated("The user no longer exists.")
    user, role = found
    return model.Me(user=user, role=role, account_holder=holder)


def get_holder(uow: UnitOfWork, actor: model.Actor, holder_id: UUID) -> model.AccountHolder:
    with uow.independent_reads():
        ensure_token_live(uow, actor)
        holder = uow.holders.get(holder_id)
    scope = owner_scope(actor)
    if holder is None or (scope is not None and holder.id != scope):
        raise errors.NotFound("Account holder not found.", holder_id=str(holder_id))
    return holder


def list_holders(
    uow: UnitOfWork, actor: model.Actor, limit: int, offset: int
) -> model.Page[model.AccountHolder]:
    with uow:
        ensure_token_live(uow, actor)
        return uow.holders.page(owner_scope(actor), limit, offset)


def create_admin(uow: UnitOfWork, email: str, password: str, rounds: int) -> model.User:
    """Create an admin, or promote an existing user and reset its password (CLI only)."""
    email = normalise_email(email)
    check_password(password)
    password_hash = security.hash_password(password, rounds)
    with uow.write():
        now = utcnow()
        existing = uow.users.credentials(email)
        if existing is not None:
            uow.users.set_password(existing[0], password_hash, "admin")
            found = uow.users.get(existing[0])
            assert found is not None
            user = found[0]
        else:
            user = uow.users.add(email=email, password_hash=password_hash, role="admin", now=now)
        audit(
            uow, model.Client(), "admin_created", "success", now, "user", user.id, user_id=user.id
        )
        uow.commit()
    return user


def purge_expired(uow: UnitOfWork) -> int:
    with uow.write():
        now = utcnow()
        removed = uow.tokens.purge(now) + uow.idempotency.purge(now)
        uow.commit()
    return removed
