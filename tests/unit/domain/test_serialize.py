"""The JSON a one-statement write stores is the service's own rendering, with the database's
values put where the template leaves room for them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from bank.domain.model import Role
from bank.domain.serialize import template, timestamp, to_json


def test_a_template_joined_with_the_values_is_the_compact_json_of_the_whole() -> None:
    shown = {"id": "a", "balance_after": 0, "description": 'say "hi" \\ ☕', "created_at": "x"}

    parts = template(shown, "balance_after", "created_at")

    assert parts is not None
    filled = parts[0] + "42" + parts[1] + '"2026-12-03T10:00:00.000001Z"' + parts[2]
    expected = shown | {"balance_after": 42, "created_at": "2026-12-03T10:00:00.000001Z"}
    assert filled == json.dumps(expected, separators=(",", ":"))
    assert shown["balance_after"] == 0  # the caller's dict is left alone


def test_a_value_that_contains_the_marker_gives_no_template() -> None:
    shown = {"description": "\x00server\x00", "created_at": "x"}

    assert template(shown, "created_at") is None


@dataclass(frozen=True)
class _Inner:
    id: uuid.UUID
    on: date


@dataclass(frozen=True)
class _Outer:
    name: str
    at: datetime
    inner: _Inner
    items: list[_Inner]
    pair: tuple[int, float]
    extra: dict[str, Any]
    role: Role
    nothing: None = None


def test_to_json_renders_nested_dataclasses_in_field_order() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    inner = _Inner(ident, date(2026, 1, 2))
    value = _Outer(
        name="n",
        at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        inner=inner,
        items=[inner],
        pair=(1, 2.5),
        extra={"when": datetime(2026, 12, 3, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))},
        role=Role.ADMIN,
    )

    shown = to_json(value)

    assert list(shown) == ["name", "at", "inner", "items", "pair", "extra", "role", "nothing"]
    assert shown == {
        "name": "n",
        "at": "2026-12-03T10:00:00.000000Z",
        "inner": {"id": str(ident), "on": "2026-01-02"},
        "items": [{"id": str(ident), "on": "2026-01-02"}],
        "pair": [1, 2.5],
        "extra": {"when": "2026-12-03T10:00:00.000005Z"},
        "role": "admin",
        "nothing": None,
    }
    assert json.dumps(shown)  # JSON-ready all the way down


def test_timestamps_are_utc_with_microseconds_and_a_four_digit_year() -> None:
    assert timestamp(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05.000000Z"
    behind = datetime(2026, 12, 31, 23, 30, 0, 123, tzinfo=timezone(timedelta(hours=-5)))
    assert timestamp(behind) == "2027-01-01T04:30:00.000123Z"
