"""Pure rules: state machines, card numbers, period checks (stdlib only)."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from bank.domain import errors

ACCOUNT_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {("active", "frozen"), ("frozen", "active"), ("active", "closed"), ("frozen", "closed")}
)
CARD_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {("active", "frozen"), ("frozen", "active"), ("active", "canceled"), ("frozen", "canceled")}
)
CARD_BIN = "400000"  # a Visa test range: these numbers never reach a network
CARD_LENGTH = 16


def ensure_account_transition(current: str, target: str, balance: int) -> None:
    if (current, target) not in ACCOUNT_TRANSITIONS:
        raise errors.InvalidStateTransition(
            f"An account cannot go from {current} to {target}.", current=current, target=target
        )
    if target == "closed" and balance != 0:
        raise errors.AccountNotEmpty(balance=balance)


def ensure_card_transition(current: str, target: str) -> None:
    if (current, target) not in CARD_TRANSITIONS:
        raise errors.InvalidStateTransition(
            f"A card cannot go from {current} to {target}.", current=current, target=target
        )


def ensure_period(start: datetime, end: datetime) -> None:
    if start > end:
        raise errors.InvalidPeriod(**{"from": start.isoformat(), "to": end.isoformat()})


# RFC 5321 4.5.3.1.1 (email-validator 2.x accepts longer local parts).
MAX_EMAIL_LOCAL_PART = 64
# Special-use top-level domains email-validator does not refuse itself: RFC 6761 `.example`,
# RFC 9476 `.alt`, and `.internal` (reserved by ICANN for private use in 2024).
SPECIAL_USE_TLDS = frozenset({"example", "alt", "internal"})


def ensure_deliverable_email(email: str) -> None:
    """For a syntactically valid, normalised address: refuse what no mail can reach."""
    local, _, domain = email.rpartition("@")
    if len(local) > MAX_EMAIL_LOCAL_PART:
        raise errors.ValidationFailed(
            f"email must have at most {MAX_EMAIL_LOCAL_PART} characters before the @.",
            field="email",
        )
    if domain.rsplit(".", 1)[-1] in SPECIAL_USE_TLDS:
        raise errors.ValidationFailed(
            "email must use a deliverable domain, not a special-use one.", field="email"
        )


def ensure_past_date(value: date, today: date) -> None:
    if value >= today or value.year < 1900:
        raise errors.ValidationFailed(
            "dob must be a date from 1900-01-01 up to yesterday.",
            field="dob",
            value=value.isoformat(),
        )


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    """A fresh, Luhn-valid card number from the OS's secure random source."""
    body = CARD_BIN + "".join(secrets.choice("0123456789") for _ in range(CARD_LENGTH - 7))
    return body + luhn_check_digit(body)
