"""Deposits, withdrawals and ledger rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from bank.api import deps
from bank.domain.serialize import to_json
from bank.services import ledger
from generated.models import TransactionCreate


async def create_transaction(token_info: dict[str, Any], body: dict[str, Any]) -> Response:
    req = TransactionCreate.model_validate(body)
    deps.note("movement", req.type.value)
    result = await ledger.post_transaction(
        deps.uow(),
        deps.actor(token_info),
        ledger.MovementRequest(
            account_id=req.account_id,
            type=req.type.value,
            amount=req.amount,
            currency=req.currency.value,
            description=req.description,
        ),
        deps.idempotency_key(),
        deps.settings().idempotency_ttl_hours,
    )
    return deps.replayable(result)


async def list_transactions(
    token_info: dict[str, Any], account_id: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[dict[str, Any], int]:
    return deps.filtered_page(ledger.list_transactions, token_info, account_id, limit, offset)


async def get_transaction(
    token_info: dict[str, Any], transaction_id: str
) -> tuple[dict[str, Any], int]:
    found = ledger.get_transaction(deps.uow(), deps.actor(token_info), UUID(transaction_id))
    return to_json(found), 200
