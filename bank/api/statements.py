"""Account statements, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from bank.api import deps
from bank.domain import errors
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
    accept = deps.header_values(b"accept")
    as_csv = _wants_csv(accept[0] if accept else "")
    result = await ledger.statement(
        deps.uow(),
        deps.actor(token_info),
        UUID(account_id),
        deps.parse_timestamp(from_, "from"),
        deps.parse_timestamp(to, "to"),
        limit,
        offset,
    )
    if as_csv:
        return _csv(result), 200, {"Content-Type": "text/csv"}
    return _json(result), 200, {"Content-Type": "application/json"}


def _wants_csv(accept: str) -> bool:
    """CSV when `Accept` prefers it by quality value (RFC 9110 12.5.1: the most specific
    matching range gives a type its quality, q=0 means never); JSON by default and on ties;
    NotAcceptable when neither type is acceptable."""
    if not accept.strip():
        return False
    json_q, csv_q = _quality(accept, "application", "json"), _quality(accept, "text", "csv")
    if json_q <= 0 and csv_q <= 0:
        raise errors.NotAcceptable("Accept allows neither application/json nor text/csv.")
    return csv_q > json_q


def _quality(accept: str, kind: str, subtype: str) -> float:
    best_specificity, quality = -1, 0.0
    for media_range in accept.lower().split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        range_kind, _, range_subtype = media.partition("/")
        if range_kind == kind and range_subtype == subtype:
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, _q(params)
    return quality


def _q(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


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
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; also quotes a lone CR
    writer.writerow(CSV_COLUMNS)
    for row in to_json(result.transactions.items):
        writer.writerow(["" if row[col] is None else _safe(row[col]) for col in CSV_COLUMNS])
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
