"""enumerated columns as domains (PostgreSQL)

PostgreSQL re-reads a table's CHECK constraints from their stored form and plans them again
for every statement that writes the table, whether or not the statement touches the checked
column. An `IN` list on a VARCHAR column is stored as a cast array, the dearest form to read
back: on each money movement the two account UPDATEs paid for the account's type and status
lists, and the ledger INSERT for the transaction type list, ~230k of the ~1.37M instructions
PostgreSQL spent on a transfer (tests/perf/instructions.py --server).

Each enumerated column becomes a domain over VARCHAR(16) with the same check instead: its
expression is planned once per connection and runs only where a value is assigned to the
column. The same values are refused as before (tests/integration/test_schema_rules.py), with
the same SQLSTATE (23514, check_violation).

SQLite keeps its CHECK constraints: nothing changes there.

Revision ID: 5b1e7c9d0a42
Revises: e10ed7590e8a
Create Date: 2026-12-06 13:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5b1e7c9d0a42"
down_revision: str | None = "e10ed7590e8a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, domain, values); the constraint each replaces is ck_<table>_<column>.
_ENUMERATED = (
    ("users", "role", "user_role", ("customer", "admin")),
    ("accounts", "type", "account_type", ("checking", "savings")),
    ("accounts", "status", "account_status", ("active", "frozen", "closed")),
    ("transactions", "type", "transaction_type", ("deposit", "withdrawal", "transfer_in", "transfer_out")),
    ("cards", "type", "card_type", ("virtual", "physical")),
    ("cards", "status", "card_status", ("active", "frozen", "canceled")),
)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, domain, values in _ENUMERATED:
        op.execute(
            f"CREATE DOMAIN {domain} AS VARCHAR(16) "
            f"CONSTRAINT {domain}_check CHECK (VALUE IN ({_listed(values)}))"
        )
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_{column}, "
            f"ALTER COLUMN {column} TYPE {domain}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, domain, values in reversed(_ENUMERATED):
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR(16), "
            f"ADD CONSTRAINT ck_{table}_{column} CHECK ({column} IN ({_listed(values)}))"
        )
        op.execute(f"DROP DOMAIN {domain}")
