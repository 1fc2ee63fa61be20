"""The schema itself refuses a value outside an enumerated column's set, on both databases,
whatever writes it: the service's checks are not the only guard (on SQLite a CHECK constraint,
on PostgreSQL a domain, see bank.db.models.enumerated)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from bank.app import BankApp
from tests import factories as f

# (table, column, a value the contract does not have, one it has)
ENUMERATED = [
    ("users", "role", "superuser", "admin"),
    ("accounts", "type", "brokerage", "savings"),
    ("accounts", "status", "dormant", "frozen"),
    ("transactions", "type", "refund", "withdrawal"),
    ("cards", "type", "metal", "physical"),
    ("cards", "status", "lost", "frozen"),
]


@pytest.fixture(scope="module")
def rows(client: TestClient) -> dict[str, str]:
    """One row of each table, made through the API."""
    owner = f.customer(client)
    account = f.account(client, owner)
    deposited = f.deposit(client, owner, account["id"], 500)
    assert deposited.status_code == 201, deposited.text
    card = client.post(
        "/v1/cards", json={"account_id": account["id"], "type": "virtual"}, headers=owner.headers
    )
    assert card.status_code == 201, card.text
    return {
        "users": owner.user_id,
        "accounts": account["id"],
        "transactions": deposited.json()["id"],
        "cards": card.json()["id"],
    }


def _set(app: BankApp, table: str, column: str, value: str, row_id: str) -> Any:
    with app.engine.begin() as conn:
        done = conn.execute(
            text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # fixed names
            {"value": value, "id": _id(app, row_id)},
        )
        return done.rowcount


def _id(app: BankApp, row_id: str) -> str:
    # SQLite stores a UUID as its 32 hex digits, PostgreSQL as a uuid.
    return row_id.replace("-", "") if app.engine.dialect.name == "sqlite" else row_id


@pytest.mark.parametrize(("table", "column", "unknown", "known"), ENUMERATED)
def test_an_unknown_enumerated_value_is_refused_by_the_schema(
    app: BankApp, rows: dict[str, str], table: str, column: str, unknown: str, known: str
) -> None:
    with pytest.raises(IntegrityError):
        _set(app, table, column, unknown, rows[table])
    # A value in the set is taken, so the refusal above was the set's, not the statement's.
    assert _set(app, table, column, known, rows[table]) == 1


def test_an_unknown_transaction_type_cannot_be_inserted(app: BankApp, rows: dict[str, str]) -> None:
    copy = (
        "INSERT INTO transactions (id, account_id, seq, type, amount, currency, balance_after,"
        " credited_total_after, transfer_id, description, created_at)"
        " SELECT :new, account_id, seq + 1000, :type, amount, currency, balance_after,"
        " credited_total_after, transfer_id, description, created_at"
        " FROM transactions WHERE id = :id"
    )
    new = _id(app, str(uuid.uuid4()))
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(
            text(copy), {"new": new, "type": "refund", "id": _id(app, rows["transactions"])}
        )
