"""The JSON a one-statement write stores is the service's own rendering, with the database's
values put where the template leaves room for them."""

from __future__ import annotations

import json

from bank.domain.serialize import template


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
