"""Card issuing and lifecycle."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from bank.api import deps
from bank.domain.serialize import to_json
from bank.services import cards
from generated.models import CardCreate, CardUpdate


async def create_card(token_info: dict[str, Any], body: dict[str, Any]) -> Response:
    req = CardCreate.model_validate(body)
    result = cards.issue_card(
        deps.uow(),
        deps.actor(token_info),
        cards.IssueCard(account_id=req.account_id, type=req.type.value),
        deps.idempotency_key(),
        deps.wiring().cards,
    )
    return deps.replayable(result)


async def list_cards(
    token_info: dict[str, Any], account_id: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[dict[str, Any], int]:
    return deps.filtered_page(cards.list_cards, token_info, account_id, limit, offset)


async def get_card(token_info: dict[str, Any], card_id: str) -> tuple[dict[str, Any], int]:
    return to_json(cards.get_card(deps.uow(), deps.actor(token_info), UUID(card_id))), 200


async def update_card(
    token_info: dict[str, Any], card_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    req = CardUpdate.model_validate(body)
    card = cards.change_status(deps.uow(), deps.actor(token_info), UUID(card_id), req.status.value)
    return to_json(card), 200
