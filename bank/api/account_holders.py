"""Account holder operations."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bank.api import deps
from bank.domain.serialize import to_json
from bank.services import users


async def list_account_holders(
    token_info: dict[str, Any], limit: int = 20, offset: int = 0
) -> tuple[dict[str, Any], int]:
    page = users.list_holders(deps.uow(), deps.actor(token_info), limit, offset)
    return deps.page_body(page, to_json(page.items)), 200


async def get_account_holder(
    token_info: dict[str, Any], holder_id: str
) -> tuple[dict[str, Any], int]:
    holder = users.get_holder(deps.uow(), deps.actor(token_info), UUID(holder_id))
    return to_json(holder), 200
