"""running credit totals

Each account keeps `credited_total` (everything ever credited) and each transaction row the
account's `credited_total_after` it, beside `balance_after`. A statement's credits, debits and
row count then come from the last row before each end of the period instead of a sum over the
period, so their cost does not grow with the account's history.

Existing rows are backfilled from the ledger itself (a running sum in `seq` order).

Revision ID: e780f2b71574
Revises: 7e5325f6f977
Create Date: 2026-11-28 09:16:01.109057
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e780f2b71574"
down_revision: str | None = "7e5325f6f977"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_ROWS = """
UPDATE transactions SET credited_total_after = running.total
FROM (
    SELECT id, SUM(CASE WHEN type IN ('deposit', 'transfer_in') THEN amount ELSE 0 END)
               OVER (PARTITION BY account_id ORDER BY seq) AS total
    FROM transactions
) AS running
WHERE running.id = transactions.id
"""
_BACKFILL_ACCOUNTS = """
UPDATE accounts SET credited_total = COALESCE((
    SELECT t.credited_total_after FROM transactions t
    WHERE t.account_id = accounts.id AND t.seq = accounts.entry_count
), 0)
"""


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credited_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credited_total_after", sa.BigInteger(), server_default=sa.text("0"), nullable=False
            )
        )
    op.execute(_BACKFILL_ROWS)
    op.execute(_BACKFILL_ACCOUNTS)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_accounts_credited_total_covers_balance"), "credited_total >= balance"
        )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_transactions_credited_total_after_covers_balance"),
            "credited_total_after >= balance_after",
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_transactions_credited_total_after_covers_balance"), type_="check"
        )
        batch_op.drop_column("credited_total_after")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_credited_total_covers_balance"), type_="check")
        batch_op.drop_column("credited_total")
