"""Transfers between accounts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from bank.api import deps
from bank.domain.serialize import to_json
from bank.services import ledger
from generated.models import TransferCreate


async def create_transfer(token_info: dict[str, Any], body: dict[str, Any]) -> Response:
    req = TransferCreate.model_validate(body)
    result = await ledger.transfer(
        deps.uow(),
        deps.actor(token_info),
        ledger.TransferRequest(
            from_account_id=req.from_account_id,
            to_account_id=req.to_account_id,
            amount=req.amount,
            currency=req.currency.value,
            description=req.description,
        ),
        deps.idempotency_key(),
        deps.settings().idempotency_ttl_hours,
    )
    return deps.replayable(result)


async def list_transfers(
    token_info: dict[str, Any], account_id: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[dict[str, Any], int]:
    return deps.filtered_page(ledger.list_transfers, token_info, account_id, limit, offset)


async def get_transfer(token_info: dict[str, Any], transfer_id: str) -> tuple[dict[str, Any], int]:
    found = ledger.get_transfer(deps.uow(), deps.actor(token_info), UUID(transfer_id))
    return to_json(found), 200
