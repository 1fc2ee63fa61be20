"""The schema itself refuses a value outside an enumerated column's set, on both databases,
whatever writes it: the service's checks are not the only guard (on SQLite a CHECK constraint,
on PostgreSQL a domain, see bank.db.models.enumerated)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from bank.app import BankApp
from bank.db import models
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


def _set(app: BankApp, table: str, column: str, value: str, row_id: str) -> int:
    rows = models.Base.metadata.tables[table]
    with app.engine.begin() as conn:
        changed = update(rows).where(rows.c.id == uuid.UUID(row_id)).values({column: value})
        return conn.execute(changed).rowcount


@pytest.mark.parametrize(("table", "column", "unknown", "known"), ENUMERATED)
def test_an_unknown_enumerated_value_is_refused_by_the_schema(
    app: BankApp, rows: dict[str, str], table: str, column: str, unknown: str, known: str
) -> None:
    with pytest.raises(IntegrityError):
        _set(app, table, column, unknown, rows[table])
    # A value in the set is taken, so the refusal above was the set's, not the statement's.
    assert _set(app, table, column, known, rows[table]) == 1


def test_an_unknown_transaction_type_cannot_be_inserted(app: BankApp, rows: dict[str, str]) -> None:
    ledger = models.transactions
    with app.engine.connect() as conn:
        row = conn.execute(
            select(ledger).where(ledger.c.id == uuid.UUID(rows["transactions"]))
        ).one()
    copy = {**row._mapping, "id": uuid.uuid4(), "seq": row.seq + 1000, "type": "refund"}
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(insert(ledger).values(copy))
    # The same row with a type in the set is taken (and rolled back: the ledger stays whole).
    with app.engine.connect() as conn, conn.begin() as taken:
        conn.execute(insert(ledger).values({**copy, "type": "withdrawal"}))
        found = select(ledger.c.type).where(ledger.c.id == copy["id"])
        assert conn.execute(found).scalar_one() == "withdrawal"
        taken.rollback()
