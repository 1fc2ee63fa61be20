"""Account operations."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from bank.api import deps
from bank.domain.serialize import to_json
from bank.services import accounts
from generated.models import AccountCreate, AccountUpdate


async def create_account(token_info: dict[str, Any], body: dict[str, Any]) -> Response:
    req = AccountCreate.model_validate(body)
    result = accounts.open_account(
        deps.uow(),
        deps.actor(token_info),
        accounts.OpenAccount(
            type=req.type.value, currency=req.currency.value, holder_id=req.holder_id
        ),
        deps.idempotency_key(),
        deps.settings().idempotency_ttl_hours,
    )
    return deps.replayable(result)


async def list_accounts(
    token_info: dict[str, Any], limit: int = 20, offset: int = 0
) -> tuple[dict[str, Any], int]:
    page = accounts.list_accounts(deps.uow(), deps.actor(token_info), limit, offset)
    return deps.page_body(page, to_json(page.items)), 200


async def get_account(token_info: dict[str, Any], account_id: str) -> tuple[dict[str, Any], int]:
    account = await accounts.get_account(deps.uow(), deps.actor(token_info), UUID(account_id))
    return to_json(account), 200


async def update_account(
    token_info: dict[str, Any], account_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    req = AccountUpdate.model_validate(body)
    account = accounts.change_status(
        deps.uow(), deps.actor(token_info), UUID(account_id), req.status.value
    )
    return to_json(account), 200
