"""One JSON shape for every response body, fresh or replayed (stdlib only)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds (`isoformat` always pads the year to four digits)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def to_json(value: Any) -> Any:
    """Dataclasses, UUIDs and datetimes to JSON-ready values.

    Every response body passes through here (a statement page is ~100 values), so the common
    types are looked up by exact type; subclasses take the general checks below."""
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _BY_TYPE[type(value)] = _dataclass  # one entry per dataclass: the models are few
        return _dataclass(value)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def _same(value: Any) -> Any:
    return value


def _dataclass(value: Any) -> dict[str, Any]:
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(value))
    return {name: to_json(getattr(value, name)) for name in names}


_FIELDS: dict[type, tuple[str, ...]] = {}
_BY_TYPE: dict[type, Any] = {
    str: _same,
    int: _same,
    bool: _same,
    float: _same,
    type(None): _same,
    datetime: timestamp,
    UUID: str,
    date: date.isoformat,
    list: lambda items: [to_json(item) for item in items],
    tuple: lambda items: [to_json(item) for item in items],
    dict: lambda mapping: {key: to_json(item) for key, item in mapping.items()},
}


# The one form of every JSON body the service sends and stores: the error envelopes, a stored
# idempotent response (built here or by the database from `template`), Connexion's bodies.
COMPACT = (",", ":")


# One encoder, built once: `json.dumps` with any non-default argument builds a new JSONEncoder
# on every call (its output is the same).
_COMPACT = json.JSONEncoder(separators=COMPACT)


def compact_json(value: Any) -> str:
    return _COMPACT.encode(value)


_SLOT = "\x00server\x00"  # never in a value: the contract and PostgreSQL refuse NUL in text
_SLOT_JSON = json.dumps(_SLOT)


# How a stored response that is a business error begins (`error_body`); a success never does.
STORED_ERROR_PREFIX = '{"error":'


def error_body(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """A business error as the envelope stores it under an idempotency key (the response adds
    the request id when it is answered)."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_template(
    code: str, message: str, details: dict[str, Any], *server_fields: str
) -> list[str] | None:
    """`error_body` as compact JSON, split around the `details` values the database fills
    in, as `template` splits a success."""
    slotted = {**details, **dict.fromkeys(server_fields, _SLOT)}  # each keeps its place
    parts = compact_json(error_body(code, message, slotted)).split(_SLOT_JSON)
    return parts if len(parts) == len(server_fields) + 1 else None


def template(shown: dict[str, Any], *server_fields: str) -> list[str] | None:
    """`shown` as compact JSON (as a stored response is), split around the values of
    `server_fields` (given in `shown`'s order), which the database fills in: one more part than
    fields. None if a value happened to contain the split marker."""
    slotted = dict(shown)
    for name in server_fields:
        slotted[name] = _SLOT
    parts = compact_json(slotted).split(_SLOT_JSON)
    return parts if len(parts) == len(server_fields) + 1 else None
