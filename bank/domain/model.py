"""Value types and results: frozen dataclasses that leave the unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

MAX_AMOUNT = 10**15
MAX_BALANCE = 10**18
# Everything ever credited to one account is kept as a running total in a BIGINT.
MAX_CREDITED_TOTAL = 2**63 - 1
CURRENCIES = ("USD", "EUR", "GBP")
MAX_ACTIVE_CARDS = 5


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: from a verified access token."""

    user_id: UUID
    role: Role
    holder_id: UUID | None
    jti: str
    token_exp: int = 0
    request_id: str | None = None
    client_ip: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Client:
    """Who is calling an unauthenticated operation."""

    request_id: str | None = None
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountHolder:
    id: UUID
    user_id: UUID
    first_name: str
    last_name: str
    dob: date
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    id: UUID
    holder_id: UUID
    type: str
    currency: str
    balance: int
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Transaction:
    id: UUID
    account_id: UUID
    type: str
    amount: int
    currency: str
    balance_after: int
    transfer_id: UUID | None
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Transfer:
    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Card:
    id: UUID
    account_id: UUID
    type: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: list[T]
    limit: int
    offset: int
    total: int


@dataclass(frozen=True, slots=True)
class Statement:
    account: Account
    period_from: datetime
    period_to: datetime
    opening_balance: int
    closing_balance: int
    total_credits: int
    total_debits: int
    transactions: Page[Transaction]


@dataclass(frozen=True, slots=True)
class Me:
    user: User
    role: str
    account_holder: AccountHolder | None


@dataclass(frozen=True, slots=True)
class SignupResult:
    user: User
    account_holder: AccountHolder


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


@dataclass(frozen=True, slots=True)
class Replayable:
    """A response that an idempotent retry replays: status and JSON body, as the text that is
    stored under the key and sent (so a replay answers byte for byte what the first did)."""

    status: int
    text: str
    replayed: bool = False

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed
