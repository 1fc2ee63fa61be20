"""One JSON shape for every response body, fresh or replayed (stdlib only)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds; the year is always four digits (strftime's %Y is not
    zero-padded below 1000)."""
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


def to_json(value: Any) -> Any:
    """Dataclasses, UUIDs and datetimes to JSON-ready values."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


_SLOT = "\x00server\x00"  # never in a value: the contract and PostgreSQL refuse NUL in text


def template(shown: dict[str, Any], *server_fields: str) -> list[str] | None:
    """`shown` as compact JSON (as a stored response is), split around the values of
    `server_fields` (given in `shown`'s order), which the database fills in: one more part than
    fields. None if a value happened to contain the split marker."""
    slotted = dict(shown)
    for name in server_fields:
        slotted[name] = _SLOT
    parts = json.dumps(slotted, separators=(",", ":")).split(json.dumps(_SLOT))
    return parts if len(parts) == len(server_fields) + 1 else None
