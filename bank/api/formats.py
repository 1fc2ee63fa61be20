"""String formats the contract uses that jsonschema's Draft 4 checker does not know."""

from __future__ import annotations

import re
from datetime import date

from jsonschema import Draft4Validator

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def register() -> None:
    """Teach Connexion's (shared) Draft 4 format checker `uuid` and `date`. Idempotent."""
    checker = Draft4Validator.FORMAT_CHECKER
    checker.checks("uuid")(_is_uuid)
    checker.checks("date")(_is_date)
