"""What handlers need, wired once by create_app() and reached through a context variable."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import connexion
import structlog
from starlette.responses import Response

from bank.api.errors import JSON
from bank.api.validation import scope_header_values
from bank.core.config import Settings
from bank.core.security import AccessTokenVerifier
from bank.domain import errors
from bank.domain.model import Actor, Client, Page, Replayable, Role
from bank.domain.serialize import to_json
from bank.services.cards import CardPolicy
from bank.services.uow import UnitOfWork, UnitOfWorkFactory
from bank.services.users import AuthPolicy


@dataclass(frozen=True, slots=True)
class Wiring:
    settings: Settings
    uow_factory: UnitOfWorkFactory
    auth: AuthPolicy
    cards: CardPolicy
    tokens: AccessTokenVerifier


WIRING: ContextVar[Wiring] = ContextVar("bank_wiring")
# One mutable dict per request, shared by the gateway, the security check and the handler
# (a ContextVar set in a threaded handler, such as login, would not reach the access log).
REQUEST_STATE: ContextVar[dict[str, str]] = ContextVar("bank_request_state")


def note(key: str, value: str) -> None:
    state = REQUEST_STATE.get(None)
    if state is not None:
        state[key] = value


def wiring() -> Wiring:
    return WIRING.get()


def uow() -> UnitOfWork:
    return WIRING.get().uow_factory()


def settings() -> Settings:
    return WIRING.get().settings


def _request_context() -> tuple[str | None, str | None]:
    bound = structlog.contextvars.get_contextvars()
    return bound.get("request_id"), bound.get("client_ip")


def actor(token_info: dict[str, Any]) -> Actor:
    request_id, client_ip = _request_context()
    holder = token_info.get("hid")
    return Actor(
        user_id=UUID(token_info["sub"]),
        role=Role(token_info["role"]),
        holder_id=UUID(holder) if holder else None,
        jti=token_info["jti"],
        token_exp=int(token_info["exp"]),
        request_id=request_id,
        client_ip=client_ip,
    )


def client() -> Client:
    request_id, client_ip = _request_context()
    return Client(request_id=request_id, client_ip=client_ip)


def header_values(name: bytes) -> list[str]:
    """The request's values of header `name` (lower-case); `connexion.request` would build a
    new request object on every access."""
    return scope_header_values(connexion.context.scope, name)


def idempotency_key() -> str | None:
    values = header_values(b"idempotency-key")
    if len(values) > 1:  # the contract validated only one of them; which one was meant?
        raise errors.ValidationFailed(
            "Send one Idempotency-Key header, not several.", field="Idempotency-Key"
        )
    return values[0] if values else None


def parse_timestamp(value: str | None, field: str) -> datetime | None:
    """An RFC 3339 query value as an aware UTC datetime (one beyond the years 0001-9999 in UTC
    at that edge), or a 400 naming the parameter."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise errors.ValidationFailed(
            f"{field} must be an RFC 3339 date-time.", field=field
        ) from None
    if parsed.tzinfo is None:
        raise errors.ValidationFailed(f"{field} must include a UTC offset.", field=field)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # Valid RFC 3339, but its UTC instant lies before year 1 or after year 9999: taken at
        # the edge it crossed (the contract says so; no row lies beyond either).
        edge = datetime.min if parsed.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


def page_body(page: Any, items: list[Any]) -> dict[str, Any]:
    return {
        "data": items,
        "pagination": {"limit": page.limit, "offset": page.offset, "total": page.total},
    }


def replayable(result: Replayable) -> Response:
    """An idempotent operation's answer, its JSON text sent as it was stored (no parse and
    re-serialisation), with `Idempotent-Replayed: true` on a replay."""
    return Response(
        result.text,
        status_code=result.status,
        media_type=JSON,
        headers=_REPLAYED if result.replayed else None,
    )


_REPLAYED = {"Idempotent-Replayed": "true"}


def filtered_page(
    list_fn: Callable[[UnitOfWork, Actor, UUID | None, int, int], Page[Any]],
    token_info: dict[str, Any],
    account_id: str | None,
    limit: int,
    offset: int,
) -> tuple[dict[str, Any], int]:
    """A list operation with the optional `account_id` filter, as a response."""
    page = list_fn(
        uow(), actor(token_info), UUID(account_id) if account_id else None, limit, offset
    )
    return page_body(page, to_json(page.items)), 200
