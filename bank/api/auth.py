"""Authentication: the bearer-token check Connexion calls, and the auth operations."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.responses import Response

from bank.api import deps
from bank.core import security
from bank.domain import errors
from bank.domain.serialize import to_json
from bank.services import users
from generated.models import LoginRequest, RefreshRequest, SignupRequest

_TOKEN_ERRORS: dict[str, type[errors.BankError]] = {
    "token_expired": errors.TokenExpired,
    "invalid_token": errors.InvalidToken,
}


def decode_token(token: str) -> dict[str, Any]:
    """x-bearerInfoFunc: CPU only (it runs on the event loop); revocation is checked in the
    service's transaction, so a logged-out token fails on every worker."""
    try:
        claims = deps.wiring().tokens(token)
    except security.TokenError as exc:
        raise _TOKEN_ERRORS[exc.code]() from None
    structlog.contextvars.bind_contextvars(user_id=claims.user_id)
    deps.note("user_id", claims.user_id)
    return {
        "sub": claims.user_id,
        "role": claims.role,
        "hid": claims.holder_id,
        "jti": claims.jti,
        "exp": claims.exp,
    }


def signup(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    req = SignupRequest.model_validate(body)
    result = users.signup(
        deps.uow(),
        deps.client(),
        users.Signup(
            email=str(req.email),
            password=req.password,
            first_name=req.first_name,
            last_name=req.last_name,
            dob=req.dob,
        ),
        deps.wiring().auth,
    )
    return to_json(result), 201


def _tokens(pair: Any) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
    }


def login(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    req = LoginRequest.model_validate(body)
    pair = users.login(deps.uow(), deps.client(), req.email, req.password, deps.wiring().auth)
    return _tokens(pair), 200


async def refresh_token(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    req = RefreshRequest.model_validate(body)
    pair = users.refresh(deps.uow(), deps.client(), req.refresh_token, deps.wiring().auth)
    return _tokens(pair), 200


async def logout(token_info: dict[str, Any]) -> Response:
    users.logout(deps.uow(), deps.actor(token_info), deps.wiring().auth)
    # A bare Response: Connexion would give a `None` body the operation's JSON Content-Type.
    return Response(status_code=204)


async def get_me(token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    found = users.me(deps.uow(), deps.actor(token_info))
    body = to_json(found)
    if body["account_holder"] is None:
        del body["account_holder"]
    return body, 200
