#!/usr/bin/env python3
"""Demo command-line client for the Bank API, built on the generated Python SDK (`bank_client`).

Two modes:

    python clients/demo_client.py [--base-url URL]
        Interactive: prompts for the service URL, then offers a menu (sign up, log in, open
        accounts, deposit, withdraw, transfer, statements, cards). Every answer is validated and
        asked again when it is wrong.

    python clients/demo_client.py --config FLOW.json [--base-url URL]
        Runs the JSON flow's steps in order and prints each result. Exit codes: 0 every step
        passed, 1 a step failed (the API's error code and message are shown), 2 the flow file
        is invalid (the message names the step and the field).

Flow files (see clients/flows/demo.json):

    {"base_url": "http://127.0.0.1:8000",            optional; --base-url wins
     "description": "...",                           optional
     "steps": [
       {"id": "alice", "action": "signup", "email": "alice-${run}@example.com", ...},
       {"id": "alice_login", "action": "login", "email": "${steps.alice.user.email}", ...},
       {"id": "checking", "action": "create_account", "as": "alice_login",
        "type": "checking", "currency": "USD"},
       {"action": "deposit", "account_id": "${steps.checking.id}", "amount": "100.00"}]}

- `id` (optional, unique) names a step so later steps can use its result.
- `${steps.ID.PATH}` is a value from an earlier step's result: PATH is dotted keys of the API's
  JSON answer (list items by index, e.g. `${steps.accounts.data.0.id}`). A value that is only a
  reference keeps the referenced type; otherwise references are spliced into the text.
- `${run}` is a random token, new on every run (handy for unique emails).
- `as` names the login step whose token a step uses; by default, the latest login before it.
- `amount` is in major units (`"125.50"` is 125.50 in the account's currency); it is sent as
  integer minor units. `currency` defaults to the account's own.
- `expect_error` (an error code, e.g. `"insufficient_funds"`) makes a step pass only when the
  API answers with that code.

Run `python clients/demo_client.py --list-actions` for every action and its fields.
Every creating POST sends a fresh `Idempotency-Key` (uuid4), reused only for a retry after a
network failure, so a retry never moves money twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import re
import secrets
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

try:
    import bank_client  # noqa: F401
except ImportError:  # running from a checkout: use the committed SDK next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))

import httpx
from bank_client import AuthenticatedClient, Client
from bank_client.api.accounts import create_account, get_account, list_accounts, update_account
from bank_client.api.auth import get_me, login, logout, signup
from bank_client.api.cards import create_card, list_cards, update_card
from bank_client.api.health import get_liveness
from bank_client.api.statements import get_statement
from bank_client.api.transactions import create_transaction, list_transactions
from bank_client.api.transfers import create_transfer
from bank_client.models import (
    Account,
    AccountCreate,
    AccountList,
    AccountStatus,
    AccountType,
    AccountUpdate,
    Card,
    CardCreate,
    CardList,
    CardStatus,
    CardType,
    CardUpdate,
    Currency,
    ErrorEnvelope,
    Liveness,
    LoginRequest,
    Me,
    SignupRequest,
    SignupResponse,
    Statement,
    TokenPair,
    Transaction,
    TransactionCreate,
    TransactionCreateType,
    TransactionList,
    Transfer,
    TransferCreate,
)
from bank_client.types import UNSET, Response, Unset

EXIT_OK, EXIT_STEP_FAILED, EXIT_CONFIG_ERROR = 0, 1, 2
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
MINOR_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2}
CURRENCIES = tuple(c.value for c in Currency)
MAX_AMOUNT_MINOR = 10**15
PAGE_SIZE = 100
CREDIT_TYPES = frozenset({"deposit", "transfer_in"})

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Money


def format_money(minor: int, currency: str) -> str:
    """`123456, "USD"` -> `"1,234.56 USD"`."""
    digits = MINOR_DIGITS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{major:,}.{fraction:0{digits}d} {currency}"


def parse_major_amount(value: object) -> Decimal:
    """A positive amount in major units (`"125.50"`, `125.5`, `125`) with at most 2 decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('must be an amount in major units, e.g. "125.50"')
    text = str(value).strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise ValueError(f"{text!r} is not an amount: use digits and a decimal point, e.g. 125.50")
    amount = Decimal(text)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"{text!r} has more than 2 decimals")
    if amount <= 0:
        raise ValueError("must be greater than zero")
    if amount * 100 > MAX_AMOUNT_MINOR:
        raise ValueError(f"must be at most {format_money(MAX_AMOUNT_MINOR, 'USD')[:-4]}")
    return amount


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Major units to the integer count of minor units the API takes (`125.50 USD` -> 12550)."""
    digits = MINOR_DIGITS.get(currency, 2)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} has {digits} decimals at most")
    return int(scaled)


# --------------------------------------------------------------------------------------------
# The API, through the SDK


class ApiError(Exception):
    """An error answer from the API (its envelope), or no usable answer at all."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    def describe(self) -> str:
        where = [f"HTTP {self.status}"] if self.status else []
        if self.request_id:
            where.append(f"request_id {self.request_id}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.code}: {self.message}{suffix}"


class BankApi:
    """The operations the demo needs, each returning the SDK model or raising `ApiError`."""

    def __init__(
        self, base_url: str, timeout: float = 15.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout)
        self._httpx_args: dict[str, Any] = {} if transport is None else {"transport": transport}
        self._anonymous = Client(
            base_url=f"{self.base_url}/v1", timeout=self._timeout, httpx_args=self._httpx_args
        )
        self._sessions: dict[str, AuthenticatedClient] = {}

    def close(self) -> None:
        self._anonymous.get_httpx_client().close()
        for client in self._sessions.values():
            client.get_httpx_client().close()

    def _client(self, token: str) -> AuthenticatedClient:
        if token not in self._sessions:
            self._sessions[token] = AuthenticatedClient(
                base_url=f"{self.base_url}/v1",
                token=token,
                timeout=self._timeout,
                httpx_args=self._httpx_args,
            )
        return self._sessions[token]

    def _send(self, send: Callable[[], Response[Any]]) -> Response[Any]:
        try:
            return send()
        except httpx.HTTPError as exc:
            raise ApiError(0, "connection_error", f"cannot reach {self.base_url}: {exc}") from None
        except (ValueError, KeyError, TypeError) as exc:  # a body the contract does not describe
            raise ApiError(0, "unexpected_response", f"unreadable answer: {exc}") from None

    @staticmethod
    def _failure(response: Response[Any]) -> ApiError:
        status = int(response.status_code)
        if isinstance(response.parsed, ErrorEnvelope):
            error = response.parsed.error
            return ApiError(status, error.code, error.message, error.request_id)
        body = response.content[:200].decode(errors="replace")
        return ApiError(status, "unexpected_response", f"HTTP {status}: {body}")

    def _call(self, send: Callable[[], Response[Any]], expected: type[T]) -> T:
        response = self._send(send)
        if isinstance(response.parsed, expected):
            return response.parsed
        raise self._failure(response)

    def _call_keyed(self, send: Callable[[str], Response[Any]], expected: type[T]) -> T:
        """A creating POST with a fresh Idempotency-Key, retried once on a network failure."""
        key = str(uuid.uuid4())
        try:
            return self._call(lambda: send(key), expected)
        except ApiError as exc:
            if exc.code != "connection_error":
                raise
            return self._call(lambda: send(key), expected)

    # -- health and auth
    def liveness(self) -> Liveness:
        return self._call(lambda: get_liveness.sync_detailed(client=self._anonymous), Liveness)

    def signup(self, body: SignupRequest) -> SignupResponse:
        return self._call(
            lambda: signup.sync_detailed(client=self._anonymous, body=body), SignupResponse
        )

    def login(self, email: str, password: str) -> TokenPair:
        body = LoginRequest(email=email, password=password)
        return self._call(lambda: login.sync_detailed(client=self._anonymous, body=body), TokenPair)

    def logout(self, token: str) -> None:
        response = self._send(lambda: logout.sync_detailed(client=self._client(token)))
        if response.status_code != 204:
            raise self._failure(response)
        self._sessions.pop(token, None)

    def me(self, token: str) -> Me:
        return self._call(lambda: get_me.sync_detailed(client=self._client(token)), Me)

    # -- accounts
    def create_account(
        self, token: str, kind: str, currency: str, holder_id: uuid.UUID | None = None
    ) -> Account:
        body = AccountCreate(
            type_=AccountType(kind),
            currency=Currency(currency),
            holder_id=UNSET if holder_id is None else holder_id,
        )
        return self._call_keyed(
            lambda key: create_account.sync_detailed(
                client=self._client(token), body=body, idempotency_key=key
            ),
            Account,
        )

    def get_account(self, token: str, account_id: uuid.UUID) -> Account:
        return self._call(
            lambda: get_account.sync_detailed(account_id, client=self._client(token)), Account
        )

    def list_accounts(self, token: str) -> list[Account]:
        items: list[Account] = []
        while True:
            page = self._call(
                lambda: list_accounts.sync_detailed(
                    client=self._client(token), limit=PAGE_SIZE, offset=len(items)
                ),
                AccountList,
            )
            items.extend(page.data)
            if not page.data or len(items) >= page.pagination.total:
                return items

    def set_account_status(self, token: str, account_id: uuid.UUID, status: str) -> Account:
        body = AccountUpdate(status=AccountStatus(status))
        return self._call(
            lambda: update_account.sync_detailed(account_id, client=self._client(token), body=body),
            Account,
        )

    # -- money
    def post_transaction(
        self,
        token: str,
        account_id: uuid.UUID,
        kind: str,
        *,
        amount: int,
        currency: str,
        description: str | None = None,
    ) -> Transaction:
        body = TransactionCreate(
            account_id=account_id,
            type_=TransactionCreateType(kind),
            amount=amount,
            currency=Currency(currency),
            description=UNSET if description is None else description,
        )
        return self._call_keyed(
            lambda key: create_transaction.sync_detailed(
                client=self._client(token), body=body, idempotency_key=key
            ),
            Transaction,
        )

    def transfer(
        self,
        token: str,
        source: uuid.UUID,
        target: uuid.UUID,
        *,
        amount: int,
        currency: str,
        description: str | None = None,
    ) -> Transfer:
        body = TransferCreate(
            from_account_id=source,
            to_account_id=target,
            amount=amount,
            currency=Currency(currency),
            description=UNSET if description is None else description,
        )
        return self._call_keyed(
            lambda key: create_transfer.sync_detailed(
                client=self._client(token), body=body, idempotency_key=key
            ),
            Transfer,
        )

    def list_transactions(self, token: str, account_id: uuid.UUID | None) -> TransactionList:
        return self._call(
            lambda: list_transactions.sync_detailed(
                client=self._client(token), account_id=_unset_if_none(account_id), limit=PAGE_SIZE
            ),
            TransactionList,
        )

    def statement(
        self,
        token: str,
        account_id: uuid.UUID,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = PAGE_SIZE,
        offset: int = 0,
    ) -> Statement:
        return self._call(
            lambda: get_statement.sync_detailed(
                account_id,
                client=self._client(token),
                from_=_unset_if_none(start),
                to=_unset_if_none(end),
                limit=limit,
                offset=offset,
            ),
            Statement,
        )

    # -- cards
    def issue_card(self, token: str, account_id: uuid.UUID, kind: str) -> Card:
        body = CardCreate(account_id=account_id, type_=CardType(kind))
        return self._call_keyed(
            lambda key: create_card.sync_detailed(
                client=self._client(token), body=body, idempotency_key=key
            ),
            Card,
        )

    def set_card_status(self, token: str, card_id: uuid.UUID, status: str) -> Card:
        body = CardUpdate(status=CardStatus(status))
        return self._call(
            lambda: update_card.sync_detailed(card_id, client=self._client(token), body=body), Card
        )

    def list_cards(self, token: str, account_id: uuid.UUID | None) -> CardList:
        return self._call(
            lambda: list_cards.sync_detailed(
                client=self._client(token), account_id=_unset_if_none(account_id), limit=PAGE_SIZE
            ),
            CardList,
        )


def _unset_if_none[V](value: V | None) -> V | Unset:
    return UNSET if value is None else value


# --------------------------------------------------------------------------------------------
# Plain-text tables


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """A boxed-less text table; columns whose index is in `right` are right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in rows] if rows else ["(none)"]
    return "\n".join(out)


def when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def accounts_table(accounts: Sequence[Account], numbered: bool = False) -> str:
    headers = ["#"] * numbered + ["account id", "type", "status", "balance"]
    rows = [
        [str(i)] * numbered
        + [str(a.id), a.type_.value, a.status.value, format_money(a.balance, a.currency.value)]
        for i, a in enumerate(accounts, start=1)
    ]
    return render_table(headers, rows, right={len(headers) - 1})


def transactions_table(rows: Sequence[Transaction]) -> str:
    def signed(t: Transaction) -> str:
        sign = "+" if t.type_.value in CREDIT_TYPES else "-"
        return sign + format_money(t.amount, t.currency.value)

    table = [
        [
            when(t.created_at),
            t.type_.value,
            signed(t),
            format_money(t.balance_after, t.currency.value),
            t.description or "",
        ]
        for t in rows
    ]
    return render_table(
        ["date (UTC)", "type", "amount", "balance after", "description"], table, right={2, 3}
    )


def statement_text(statement: Statement) -> str:
    currency = statement.account.currency.value
    money = [
        ("opening balance", statement.opening_balance),
        ("credits", statement.total_credits),
        ("debits", statement.total_debits),
        ("closing balance", statement.closing_balance),
        ("current balance", statement.current_balance),
    ]
    head = [
        f"Statement for account {statement.account.id} ({statement.account.type_.value}, "
        f"{statement.account.status.value})",
        f"Period: {when(statement.from_)} to {when(statement.to)} UTC",
    ]
    summary = render_table(["", "amount"], [[k, format_money(v, currency)] for k, v in money], {1})
    page = statement.pagination
    count = len(statement.transactions)
    shown = (
        f"Rows {page.offset + 1}-{page.offset + count} of {page.total}"
        if count
        else f"No rows on this page ({page.total} in the period)."
    )
    return "\n".join([*head, summary, "", transactions_table(statement.transactions), shown])


def cards_table(cards: Sequence[Card], numbered: bool = False) -> str:
    headers = ["#"] * numbered + ["card id", "account id", "type", "number", "expires", "status"]
    rows = [
        [str(i)] * numbered
        + [
            str(c.id),
            str(c.account_id),
            c.type_.value,
            f"{c.brand.value} **** {c.last4}",
            f"{c.exp_month:02d}/{c.exp_year}",
            c.status.value,
        ]
        for i, c in enumerate(cards, start=1)
    ]
    return render_table(headers, rows, right=set())


def transfer_text(t: Transfer) -> str:
    rows = [
        [
            str(t.id),
            str(t.from_account_id),
            str(t.to_account_id),
            format_money(t.amount, t.currency.value),
            t.description or "",
        ]
    ]
    return render_table(["transfer id", "from", "to", "amount", "description"], rows, {3})


def signup_text(s: SignupResponse) -> str:
    holder = s.account_holder
    return render_table(
        ["user id", "email", "account holder", "name"],
        [[str(s.user.id), s.user.email, str(holder.id), f"{holder.first_name} {holder.last_name}"]],
        set(),
    )


def me_text(me: Me) -> str:
    holder = me.account_holder
    name = "" if isinstance(holder, Unset) else f"{holder.first_name} {holder.last_name}"
    return render_table(
        ["user id", "email", "role", "name"],
        [[str(me.user.id), me.user.email, me.role.value, name]],
        set(),
    )


def describe_result(result: object) -> str:
    """The readable text for any result the flow or the menu gets."""
    renderers: list[tuple[type[Any], Callable[[Any], str]]] = [
        (Account, lambda a: accounts_table([a])),
        (Transaction, lambda t: transactions_table([t])),
        (Transfer, transfer_text),
        (Card, lambda c: cards_table([c])),
        (Statement, statement_text),
        (SignupResponse, signup_text),
        (Me, me_text),
        (TokenPair, lambda t: f"logged in; the access token expires in {t.expires_in} s"),
        (TransactionList, lambda page: transactions_table(page.data)),
        (CardList, lambda page: cards_table(page.data)),
    ]
    if isinstance(result, list):
        return accounts_table(cast(list[Account], result))
    for kind, render in renderers:
        if isinstance(result, kind):
            return render(result)
    return "ok"


def result_data(result: object) -> Any:
    """The JSON form of a result, which later flow steps reference."""
    if isinstance(result, list):
        return {"data": [item.to_dict() for item in result]}
    to_dict = getattr(result, "to_dict", None)
    return to_dict() if callable(to_dict) else {}


# --------------------------------------------------------------------------------------------
# Config-driven mode: validation


class FlowConfigError(Exception):
    """The flow file is wrong; the message names the step and the field."""


class FieldError(ValueError):
    """A field's value is wrong (raised by the field checkers, wrapped with the step's name)."""


Checker = Callable[[object], object]


def text(min_length: int = 1, max_length: int = 1024) -> Checker:
    def check(value: object) -> object:
        if not isinstance(value, str):
            raise FieldError("must be a string")
        if not min_length <= len(value) <= max_length:
            raise FieldError(f"must be {min_length}..{max_length} characters long")
        return value

    return check


def email_address(value: object) -> object:
    checked = text(3, 254)(value)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(checked)):
        raise FieldError(f"{checked!r} is not an email address")
    return checked


def choice(*options: str) -> Checker:
    def check(value: object) -> object:
        if value not in options:
            raise FieldError(f"must be one of {', '.join(options)} (got {value!r})")
        return value

    return check


def a_uuid(value: object) -> object:
    try:
        return uuid.UUID(str(text(36, 36)(value)))
    except (ValueError, FieldError):
        raise FieldError(f"must be a UUID (got {value!r})") from None


def a_date(value: object) -> object:
    try:
        return dt.date.fromisoformat(str(text(10, 10)(value)))
    except (ValueError, FieldError):
        raise FieldError(f"must be a date YYYY-MM-DD (got {value!r})") from None


def a_datetime(value: object) -> object:
    try:
        moment = dt.datetime.fromisoformat(str(text(10, 40)(value)))
    except (ValueError, FieldError):
        raise FieldError(f"must be an RFC 3339 date-time (got {value!r})") from None
    if moment.tzinfo is None:
        raise FieldError(f"must carry a time zone, e.g. 2026-11-01T00:00:00Z (got {value!r})")
    return moment


def an_amount(value: object) -> object:
    try:
        return parse_major_amount(value)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def integer(low: int, high: int) -> Checker:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise FieldError(f"must be an integer {low}..{high} (got {value!r})")
        return value

    return check


Runner = Callable[["FlowRun", str | None, dict[str, Any]], object]


@dataclass(frozen=True)
class Action:
    """One kind of step: its fields, whether it needs a login, and what it does."""

    run: Runner
    required: Mapping[str, Checker] = field(default_factory=dict)
    optional: Mapping[str, Checker] = field(default_factory=dict)
    auth: bool = True
    summary: str = ""


STEP_KEYS = frozenset({"id", "action", "as", "expect_error"})
REFERENCE = re.compile(r"\$\{([^}]*)\}")
STEP_REFERENCE = re.compile(r"steps\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)+)")
STEP_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


@dataclass
class Step:
    index: int
    id: str | None
    action: str
    fields: dict[str, object]
    session: str | None
    expect_error: str | None

    @property
    def label(self) -> str:
        name = f" '{self.id}'" if self.id else ""
        return f"step {self.index}{name} ({self.action})"


def _config_error(step: str, field_name: str | None, message: str) -> FlowConfigError:
    where = f"{step}: field '{field_name}'" if field_name else step
    return FlowConfigError(f"{where}: {message}")


def _check_references(label: str, name: str, value: object, known: set[str]) -> bool:
    """Whether `value` holds references (all checked against earlier step ids)."""
    if isinstance(value, list | dict):
        raise _config_error(label, name, "must be a single value, not a list or an object")
    if not isinstance(value, str):
        return False
    if "${" in value and value.count("${") != len(REFERENCE.findall(value)):
        raise _config_error(label, name, f"unterminated reference in {value!r}")
    found = REFERENCE.findall(value)
    for inner in found:
        if inner == "run":
            continue
        match = STEP_REFERENCE.fullmatch(inner)
        if match is None:
            raise _config_error(
                label, name, f"bad reference ${{{inner}}}: use ${{steps.ID.PATH}} or ${{run}}"
            )
        if match.group(1) not in known:
            raise _config_error(
                label, name, f"reference ${{{inner}}} names no earlier step '{match.group(1)}'"
            )
    return bool(found)


def _parse_step(index: int, raw: object, known: set[str], logins: list[str]) -> Step:
    label = f"step {index}"
    if not isinstance(raw, dict):
        raise _config_error(label, None, "must be an object")
    step_id = raw.get("id")
    if step_id is not None:
        if not isinstance(step_id, str) or not STEP_ID.fullmatch(step_id):
            raise _config_error(label, "id", "must be letters, digits, '_' or '-', 1..64 long")
        if step_id in known:
            raise _config_error(label, "id", f"duplicate step id '{step_id}'")
        label = f"step {index} '{step_id}'"
    action_name = raw.get("action")
    if not isinstance(action_name, str) or action_name not in ACTIONS:
        raise _config_error(
            label,
            "action",
            f"unknown action {action_name!r}; one of: " + ", ".join(sorted(ACTIONS)),
        )
    action = ACTIONS[action_name]
    label = f"{label} ({action_name})"
    fields = {k: v for k, v in raw.items() if k not in STEP_KEYS}
    _check_fields(label, action, fields, known)
    session = _check_session(label, action, raw.get("as"), logins)
    expect_error = raw.get("expect_error")
    if expect_error is not None and not (isinstance(expect_error, str) and expect_error):
        raise _config_error(label, "expect_error", "must be an error code, e.g. insufficient_funds")
    return Step(index, step_id, action_name, fields, session, expect_error)


def _check_fields(label: str, action: Action, fields: dict[str, object], known: set[str]) -> None:
    allowed = {**action.required, **action.optional}
    for name, value in fields.items():
        if name not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise _config_error(label, name, f"unknown field (allowed: {names})")
        if not _check_references(label, name, value, known):
            try:
                allowed[name](value)
            except FieldError as exc:
                raise _config_error(label, name, str(exc)) from None
    for name in action.required:
        if name not in fields:
            raise _config_error(label, name, "is required")


def _check_session(label: str, action: Action, session: object, logins: list[str]) -> str | None:
    if session is None:
        if action.auth and not logins:
            raise _config_error(label, "as", "needs a login: no earlier login step")
        return logins[-1] if action.auth else None
    if not action.auth:
        raise _config_error(label, "as", "this action does not use a login")
    if session not in logins:
        raise _config_error(label, "as", f"{session!r} is no earlier login step's id")
    return session


def parse_flow(document: object) -> tuple[str | None, list[Step]]:
    """Check a whole flow before anything runs; raises FlowConfigError."""
    if not isinstance(document, dict):
        raise FlowConfigError("the flow must be a JSON object with a 'steps' list")
    unknown = set(document) - {"base_url", "description", "steps"}
    if unknown:
        raise FlowConfigError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    base_url = document.get("base_url")
    if base_url is not None and not (isinstance(base_url, str) and _is_http_url(base_url)):
        raise FlowConfigError("field 'base_url': must be an http:// or https:// URL")
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise FlowConfigError("field 'steps': must be a non-empty list of steps")
    known: set[str] = set()
    logins: list[str] = []
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps, start=1):
        step = _parse_step(index, raw, known, logins)
        if step.id:
            known.add(step.id)
        if step.action == "login":
            if not step.id:
                raise _config_error(
                    step.label, "id", "a login step needs an id (steps use it with 'as')"
                )
            logins.append(step.id)
        steps.append(step)
    return base_url, steps


def load_flow(path: Path) -> tuple[str | None, list[Step]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowConfigError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise FlowConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except UnicodeDecodeError:
        raise FlowConfigError(f"{path} is not UTF-8 text") from None
    return parse_flow(document)


def _is_http_url(value: str) -> bool:
    return re.fullmatch(r"https?://[^\s/]+(/\S*)?", value) is not None


# --------------------------------------------------------------------------------------------
# Config-driven mode: running


@dataclass
class FlowRun:
    api: BankApi
    run_token: str = field(default_factory=lambda: secrets.token_hex(4))
    results: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def resolve(self, step: Step, name: str, value: object) -> object:
        if not isinstance(value, str):
            return value
        whole = REFERENCE.fullmatch(value)
        if whole:
            return self._lookup(step, name, whole.group(1))
        return REFERENCE.sub(lambda m: str(self._lookup(step, name, m.group(1))), value)

    def _lookup(self, step: Step, name: str, inner: str) -> object:
        if inner == "run":
            return self.run_token
        match = STEP_REFERENCE.fullmatch(inner)
        assert match is not None  # checked by parse_flow
        current: Any = self.results.get(match.group(1), {})
        for key in match.group(2).split(".")[1:]:
            if isinstance(current, list) and key.isdigit() and int(key) < len(current):
                current = current[int(key)]
            elif isinstance(current, dict) and key in current:
                current = current[key]
            else:
                raise _config_error(
                    step.label,
                    name,
                    f"reference ${{{inner}}}: the result of step '{match.group(1)}' has no '{key}'",
                )
        return current

    def arguments(self, step: Step) -> dict[str, Any]:
        action = ACTIONS[step.action]
        checkers = {**action.required, **action.optional}
        args: dict[str, Any] = {}
        for name, raw in step.fields.items():
            value = self.resolve(step, name, raw)
            try:
                args[name] = checkers[name](value)
            except FieldError as exc:
                raise _config_error(step.label, name, str(exc)) from None
        return args

    def currency_of(self, token: str | None, account_id: uuid.UUID, given: object) -> str:
        if isinstance(given, str):
            return given
        assert token is not None
        return self.api.get_account(token, account_id).currency.value


def _minor(
    run: FlowRun, token: str | None, args: dict[str, Any], account_key: str
) -> tuple[int, str]:
    currency = run.currency_of(token, args[account_key], args.get("currency"))
    return to_minor_units(args["amount"], currency), currency


def run_signup(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
    return run.api.signup(
        SignupRequest(
            email=a["email"],
            password=a["password"],
            first_name=a["first_name"],
            last_name=a["last_name"],
            dob=a["dob"],
        )
    )


def run_login(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
    return run.api.login(a["email"], a["password"])


def run_movement(kind: str) -> Runner:
    def run_it(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
        assert token is not None
        amount, currency = _minor(run, token, a, "account_id")
        return run.api.post_transaction(
            token,
            a["account_id"],
            kind,
            amount=amount,
            currency=currency,
            description=a.get("description"),
        )

    return run_it


def run_transfer(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
    assert token is not None
    amount, currency = _minor(run, token, a, "from_account_id")
    return run.api.transfer(
        token,
        a["from_account_id"],
        a["to_account_id"],
        amount=amount,
        currency=currency,
        description=a.get("description"),
    )


def run_account_status(status: str) -> Runner:
    def run_it(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
        assert token is not None
        return run.api.set_account_status(token, a["account_id"], status)

    return run_it


def run_card_status(status: str) -> Runner:
    def run_it(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
        assert token is not None
        return run.api.set_card_status(token, a["card_id"], status)

    return run_it


def run_statement(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
    assert token is not None
    return run.api.statement(
        token,
        a["account_id"],
        start=a.get("from"),
        end=a.get("to"),
        limit=a.get("limit", PAGE_SIZE),
        offset=a.get("offset", 0),
    )


def authed(call: Callable[[BankApi, str, dict[str, Any]], object]) -> Runner:
    def run_it(run: FlowRun, token: str | None, a: dict[str, Any]) -> object:
        assert token is not None
        return call(run.api, token, a)

    return run_it


PASSWORD = text(8, 72)
NAME = text(1, 100)
MONEY_FIELDS: dict[str, Checker] = {"currency": choice(*CURRENCIES), "description": text(0, 140)}

ACTIONS: dict[str, Action] = {
    "signup": Action(
        run_signup,
        {
            "email": email_address,
            "password": PASSWORD,
            "first_name": NAME,
            "last_name": NAME,
            "dob": a_date,
        },
        auth=False,
        summary="create a user and its account holder",
    ),
    "login": Action(
        run_login,
        {"email": text(1, 254), "password": text(1, 1024)},
        auth=False,
        summary="log in; later steps use its token (see 'as')",
    ),
    "logout": Action(authed(lambda api, t, a: api.logout(t)), summary="revoke the token"),
    "me": Action(authed(lambda api, t, a: api.me(t)), summary="who is logged in"),
    "create_account": Action(
        authed(
            lambda api, t, a: api.create_account(t, a["type"], a["currency"], a.get("holder_id"))
        ),
        {"type": choice("checking", "savings"), "currency": choice(*CURRENCIES)},
        {"holder_id": a_uuid},
        summary="open an account",
    ),
    "get_account": Action(
        authed(lambda api, t, a: api.get_account(t, a["account_id"])),
        {"account_id": a_uuid},
        summary="one account and its balance",
    ),
    "list_accounts": Action(
        authed(lambda api, t, a: api.list_accounts(t)), summary="the login's accounts and balances"
    ),
    "freeze_account": Action(run_account_status("frozen"), {"account_id": a_uuid}),
    "unfreeze_account": Action(run_account_status("active"), {"account_id": a_uuid}),
    "close_account": Action(
        run_account_status("closed"),
        {"account_id": a_uuid},
        summary="close an account (zero balance only)",
    ),
    "deposit": Action(
        run_movement("deposit"),
        {"account_id": a_uuid, "amount": an_amount},
        MONEY_FIELDS,
        summary='amount in major units, e.g. "100.00"',
    ),
    "withdraw": Action(
        run_movement("withdrawal"),
        {"account_id": a_uuid, "amount": an_amount},
        MONEY_FIELDS,
        summary="amount in major units",
    ),
    "transfer": Action(
        run_transfer,
        {"from_account_id": a_uuid, "to_account_id": a_uuid, "amount": an_amount},
        MONEY_FIELDS,
        summary="move money; the destination may be another customer's",
    ),
    "list_transactions": Action(
        authed(lambda api, t, a: api.list_transactions(t, a.get("account_id"))),
        {},
        {"account_id": a_uuid},
        summary="ledger rows (first 100)",
    ),
    "statement": Action(
        run_statement,
        {"account_id": a_uuid},
        {
            "from": a_datetime,
            "to": a_datetime,
            "limit": integer(1, 100),
            "offset": integer(0, 1_000_000_000),
        },
        summary="a statement; from/to are RFC 3339 date-times",
    ),
    "issue_card": Action(
        authed(lambda api, t, a: api.issue_card(t, a["account_id"], a.get("type", "virtual"))),
        {"account_id": a_uuid},
        {"type": choice("virtual", "physical")},
        summary="issue a card (type defaults to virtual)",
    ),
    "freeze_card": Action(run_card_status("frozen"), {"card_id": a_uuid}),
    "unfreeze_card": Action(run_card_status("active"), {"card_id": a_uuid}),
    "cancel_card": Action(run_card_status("canceled"), {"card_id": a_uuid}),
    "list_cards": Action(
        authed(lambda api, t, a: api.list_cards(t, a.get("account_id"))),
        {},
        {"account_id": a_uuid},
        summary="cards (first 100)",
    ),
}


def describe_actions() -> str:
    lines = []
    for name, action in sorted(ACTIONS.items()):
        required = ", ".join(action.required) or "-"
        optional = ", ".join(action.optional) or "-"
        login = "login" if action.auth else "no login"
        lines.append(
            f"{name:<18} required: {required}; optional: {optional}; {login}"
            + (f"; {action.summary}" if action.summary else "")
        )
    return "\n".join(lines)


def run_step(run: FlowRun, step: Step) -> object:
    if step.session is not None and step.session not in run.tokens:
        raise _config_error(step.label, "as", f"login step '{step.session}' did not log in")
    token = run.tokens[step.session] if step.session else None
    return ACTIONS[step.action].run(run, token, run.arguments(step))


def run_flow(
    steps: Sequence[Step], api: BankApi, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    run = FlowRun(api)
    for step in steps:
        out(f"==> [{step.index}/{len(steps)}] {step.label}")
        try:
            result = run_step(run, step)
        except ApiError as exc:
            if step.expect_error == exc.code:
                out(f"expected error: {exc.code}: {exc.message}")
                run.results[step.id or ""] = {"error": {"code": exc.code, "message": exc.message}}
                continue
            err(f"error: {step.label} failed: {exc.describe()}")
            return EXIT_STEP_FAILED
        if step.expect_error:
            err(f"error: {step.label} succeeded but was expected to fail with {step.expect_error}")
            return EXIT_STEP_FAILED
        if step.id:
            run.results[step.id] = result_data(result)
            if isinstance(result, TokenPair):
                run.tokens[step.id] = result.access_token
        out(describe_result(result))
    out(f"All {len(steps)} steps passed.")
    return EXIT_OK


def main_config(path: Path, base_url: str | None) -> int:
    try:
        flow_url, steps = load_flow(path)
    except FlowConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    api = BankApi(base_url or flow_url or DEFAULT_BASE_URL)
    try:
        return run_flow(steps, api, print, lambda line: print(line, file=sys.stderr))
    except FlowConfigError as exc:  # a reference that did not resolve
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    finally:
        api.close()


# --------------------------------------------------------------------------------------------
# Interactive mode


class EndOfInput(Exception):
    """Standard input ended."""


class Prompter:
    """Reads answers; `ask` repeats the question until the check accepts the answer."""

    def __init__(
        self,
        reader: Callable[[str], str] = input,
        secret: Callable[[str], str] | None = None,
        write: Callable[[str], None] = print,
        echo: bool = False,
    ) -> None:
        self._read = reader
        self._secret = secret or reader
        self._echo = echo  # piped input: show each answer, so the output reads as a transcript
        self.say = write

    def raw(self, question: str, hidden: bool = False) -> str:
        try:
            answer = (self._secret if hidden else self._read)(question).strip()
        except EOFError:
            raise EndOfInput from None
        if self._echo:
            self.say("********" if hidden else answer)
        return answer

    def ask(
        self,
        question: str,
        check: Callable[[str], T],
        default: str | None = None,
        hidden: bool = False,
    ) -> T:
        shown = f"{question} [{default}]: " if default else f"{question}: "
        while True:
            answer = self.raw(shown, hidden) or (default or "")
            try:
                return check(answer)
            except (ValueError, FieldError) as exc:
                self.say(f"  invalid: {exc}. Please try again.")


def non_empty(max_length: int) -> Callable[[str], str]:
    def check(answer: str) -> str:
        if not answer:
            raise ValueError("an answer is required")
        if len(answer) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return answer

    return check


def check_email(answer: str) -> str:
    return str(email_address(answer))


def check_password(answer: str) -> str:
    if len(answer) < 8 or len(answer.encode()) > 72:
        raise ValueError("8 characters at least, 72 bytes at most")
    return answer


def check_dob(answer: str) -> dt.date:
    born = cast(dt.date, a_date(answer))
    if born >= dt.datetime.now(dt.UTC).date():
        raise ValueError("the date of birth must be in the past")
    return born


def check_base_url(answer: str) -> str:
    if not _is_http_url(answer):
        raise ValueError("use a URL like http://127.0.0.1:8000")
    return answer.rstrip("/")


def check_optional_day(answer: str) -> dt.datetime | None:
    if not answer:
        return None
    day = cast(dt.date, a_date(answer))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def pick(options: Sequence[str]) -> Callable[[str], str]:
    def check(answer: str) -> str:
        if answer.lower() not in options:
            raise ValueError(f"choose one of {', '.join(options)}")
        return answer.lower()

    return check


@dataclass
class Interactive:
    io: Prompter
    api: BankApi | None = None
    token: str | None = None
    email: str | None = None

    MENU: tuple[tuple[str, str], ...] = (
        ("Sign up", "signup"),
        ("Log in", "login"),
        ("My accounts and balances", "accounts"),
        ("Open an account", "open_account"),
        ("Deposit", "deposit"),
        ("Withdraw", "withdraw"),
        ("Transfer", "transfer"),
        ("Statement", "statement"),
        ("Issue a card", "issue_card"),
        ("My cards (freeze / unfreeze)", "cards"),
        ("Log out", "logout"),
    )

    def connect(self, base_url: str | None) -> None:
        while True:
            url = base_url or self.io.ask("Bank API base URL", check_base_url, DEFAULT_BASE_URL)
            base_url = None
            api = BankApi(url)
            try:
                api.liveness()
            except ApiError as exc:
                api.close()
                self.io.say(f"  cannot use {url}: {exc.describe()}. Please try again.")
                continue
            self.api = api
            self.io.say(f"Connected to {url}.")
            return

    def loop(self) -> int:
        while True:
            self.io.say("")
            self.io.say(f"Logged in as {self.email}." if self.email else "Not logged in.")
            for number, (title, _) in enumerate(self.MENU, start=1):
                self.io.say(f"{number:>3}) {title}")
            self.io.say("  0) Quit")
            try:
                choice_ = self.io.ask(f"Choose 0-{len(self.MENU)}", self._menu_number)
            except EndOfInput:
                return EXIT_OK
            if choice_ == 0:
                self.io.say("Bye.")
                return EXIT_OK
            self._run(self.MENU[choice_ - 1][1])

    def _menu_number(self, answer: str) -> int:
        if not answer.isdigit() or int(answer) > len(self.MENU):
            raise ValueError(f"enter a number from 0 to {len(self.MENU)}")
        return int(answer)

    def _run(self, name: str) -> None:
        handler: Callable[[], None] = getattr(self, f"do_{name}")
        try:
            if name not in ("signup", "login") and self.token is None:
                self.io.say("Please log in first (2).")
                return
            handler()
        except ApiError as exc:
            self.io.say(f"error: {exc.describe()}")

    @property
    def bank(self) -> BankApi:
        assert self.api is not None
        return self.api

    @property
    def session(self) -> str:
        assert self.token is not None
        return self.token

    def do_signup(self) -> None:
        ask = self.io.ask
        email = ask("Email", check_email)
        password = ask("Password (8+ characters)", check_password, hidden=True)
        body = SignupRequest(
            email=email,
            password=password,
            first_name=ask("First name", non_empty(100)),
            last_name=ask("Last name", non_empty(100)),
            dob=ask("Date of birth (YYYY-MM-DD)", check_dob),
        )
        self.io.say(signup_text(self.bank.signup(body)))
        if ask("Log in now? (y/n)", pick(("y", "n")), "y") == "y":
            self._login(email, password)

    def do_login(self) -> None:
        email = self.io.ask("Email", check_email)
        self._login(email, self.io.ask("Password", non_empty(1024), hidden=True))

    def _login(self, email: str, password: str) -> None:
        tokens = self.bank.login(email, password)
        self.token, self.email = tokens.access_token, email
        self.io.say(f"Logged in as {email}.")

    def do_logout(self) -> None:
        self.bank.logout(self.session)
        self.io.say(f"Logged out {self.email}.")
        self.token = self.email = None

    def do_accounts(self) -> None:
        self.io.say(accounts_table(self.bank.list_accounts(self.session)))

    def do_open_account(self) -> None:
        kind = self.io.ask(
            "Account type (checking/savings)", pick(("checking", "savings")), "checking"
        )
        currency = self.io.ask(
            "Currency (USD/EUR/GBP)", lambda a: pick(CURRENCIES_LOWER)(a).upper(), "USD"
        )
        self.io.say(accounts_table([self.bank.create_account(self.session, kind, currency)]))

    def _choose_account(
        self, question: str, allow_other: bool = False
    ) -> Account | uuid.UUID | None:
        accounts = self.bank.list_accounts(self.session)
        if not accounts and not allow_other:
            self.io.say("You have no accounts yet: open one first (4).")
            return None
        self.io.say(accounts_table(accounts, numbered=True))
        hint = f"1-{len(accounts)}" if accounts else ""
        hint += (" or another account's id" if hint else "an account id") if allow_other else ""

        def check(answer: str) -> Account | uuid.UUID:
            if answer.isdigit() and 1 <= int(answer) <= len(accounts):
                return accounts[int(answer) - 1]
            if allow_other:
                return cast(uuid.UUID, a_uuid(answer))
            raise ValueError(f"enter a number from 1 to {len(accounts)}")

        return self.io.ask(f"{question} ({hint})", check)

    def _ask_amount(self, currency: str) -> int:
        def check(answer: str) -> int:
            return to_minor_units(parse_major_amount(answer), currency)

        return self.io.ask(f"Amount in {currency} (e.g. 125.50)", check)

    def _movement(self, kind: str) -> None:
        account = self._choose_account("Account")
        if not isinstance(account, Account):
            return
        currency = account.currency.value
        amount = self._ask_amount(currency)
        note = self.io.ask("Description (optional)", lambda a: a[:140]) or None
        posted = self.bank.post_transaction(
            self.session, account.id, kind, amount=amount, currency=currency, description=note
        )
        self.io.say(transactions_table([posted]))
        self.io.say(f"New balance: {format_money(posted.balance_after, currency)}")

    def do_deposit(self) -> None:
        self._movement("deposit")

    def do_withdraw(self) -> None:
        self._movement("withdrawal")

    def do_transfer(self) -> None:
        source = self._choose_account("From account")
        if not isinstance(source, Account):
            return
        target = self._choose_account("To account", allow_other=True)
        target_id = target.id if isinstance(target, Account) else target
        assert target_id is not None
        currency = source.currency.value
        amount = self._ask_amount(currency)
        note = self.io.ask("Description (optional)", lambda a: a[:140]) or None
        done = self.bank.transfer(
            self.session, source.id, target_id, amount=amount, currency=currency, description=note
        )
        self.io.say(transfer_text(done))

    def do_statement(self) -> None:
        account = self._choose_account("Account")
        if not isinstance(account, Account):
            return
        start = self.io.ask("From date (YYYY-MM-DD, empty: since opening)", check_optional_day)
        end = self.io.ask("To date, exclusive (YYYY-MM-DD, empty: now)", check_optional_day)
        self.io.say(
            statement_text(self.bank.statement(self.session, account.id, start=start, end=end))
        )

    def do_issue_card(self) -> None:
        account = self._choose_account("Account")
        if not isinstance(account, Account):
            return
        kind = self.io.ask("Card type (virtual/physical)", pick(("virtual", "physical")), "virtual")
        self.io.say(cards_table([self.bank.issue_card(self.session, account.id, kind)]))

    def do_cards(self) -> None:
        cards = [
            c for c in self.bank.list_cards(self.session, None).data if c.status.value != "canceled"
        ]
        self.io.say(cards_table(cards, numbered=True))
        if not cards:
            return

        def check(answer: str) -> Card | None:
            if not answer:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(cards):
                return cards[int(answer) - 1]
            raise ValueError(f"enter a number from 1 to {len(cards)}, or nothing")

        card = self.io.ask(f"Card to freeze/unfreeze (1-{len(cards)}, empty: none)", check, "")
        if card is not None:
            status = "active" if card.status.value == "frozen" else "frozen"
            self.io.say(cards_table([self.bank.set_card_status(self.session, card.id, status)]))


CURRENCIES_LOWER = tuple(c.lower() for c in CURRENCIES)


def main_interactive(base_url: str | None) -> int:
    tty = sys.stdin.isatty()
    session = Interactive(Prompter(secret=getpass.getpass if tty else input, echo=not tty))
    try:
        session.connect(base_url)
        return session.loop()
    except EndOfInput:
        print("\nInput ended.", file=sys.stderr)
        return EXIT_STEP_FAILED
    finally:
        if session.api is not None:
            session.api.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Demo client for the Bank API (interactive, or a JSON flow with --config)."
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FLOW.json",
        help="run the steps of a JSON flow instead of the interactive menu",
    )
    parser.add_argument(
        "--base-url",
        type=check_base_url,
        metavar="URL",
        help=f"the service's URL, without /v1 (default {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--list-actions",
        action="store_true",
        help="list the flow actions and their fields, then exit",
    )
    args = parser.parse_args(argv)
    if args.list_actions:
        print(describe_actions())
        return EXIT_OK
    try:
        if args.config is not None:
            return main_config(args.config, args.base_url)
        return main_interactive(args.base_url)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
