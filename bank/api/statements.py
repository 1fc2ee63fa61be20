"""Account statements, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import connexion

from bank.api import deps
from bank.domain.model import Statement
from bank.domain.serialize import timestamp, to_json
from bank.services import ledger

CSV_COLUMNS = (
    "id",
    "created_at",
    "type",
    "amount",
    "currency",
    "balance_after",
    "transfer_id",
    "description",
)


async def get_statement(
    token_info: dict[str, Any],
    account_id: str,
    limit: int = 20,
    offset: int = 0,
    from_: str | None = None,
    to: str | None = None,
) -> tuple[Any, int, dict[str, str]]:
    result = ledger.statement(
        deps.uow(),
        deps.actor(token_info),
        UUID(account_id),
        deps.parse_timestamp(from_, "from"),
        deps.parse_timestamp(to, "to"),
        limit,
        offset,
    )
    if _wants_csv(connexion.request.headers.get("accept", "")):
        return _csv(result), 200, {"Content-Type": "text/csv"}
    return _json(result), 200, {"Content-Type": "application/json"}


def _wants_csv(accept: str) -> bool:
    return "text/csv" in accept.lower() and "application/json" not in accept.lower()


def _json(result: Statement) -> dict[str, Any]:
    page = result.transactions
    return {
        "account": to_json(result.account),
        "from": timestamp(result.period_from),
        "to": timestamp(result.period_to),
        "opening_balance": result.opening_balance,
        "closing_balance": result.closing_balance,
        "total_credits": result.total_credits,
        "total_debits": result.total_debits,
        "current_balance": result.account.balance,
        "transactions": to_json(page.items),
        "pagination": {"limit": page.limit, "offset": page.offset, "total": page.total},
    }


def _csv(result: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in to_json(result.transactions.items):
        writer.writerow(["" if row[col] is None else _safe(row[col]) for col in CSV_COLUMNS])
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
