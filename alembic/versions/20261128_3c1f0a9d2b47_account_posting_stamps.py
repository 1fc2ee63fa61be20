"""account posting stamps

Each account remembers its newest ledger row's `created_at` as `last_posted_at` (its own
`created_at` before its first row), and a posting is stamped `max(now, last_posted_at)` in the
same conditional UPDATE that moves the money. Per account, rows' timestamps then never go
backwards, nor before the account was opened, even when the server's clock does, so a
statement's opening balance, its rows and its closing balance always agree.

Existing accounts are backfilled from their newest row, or their opening.

Revision ID: 3c1f0a9d2b47
Revises: e780f2b71574
Create Date: 2026-11-28 13:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1f0a9d2b47"
down_revision: str | None = "e780f2b71574"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
UPDATE accounts SET last_posted_at = COALESCE(
    (SELECT MAX(t.created_at) FROM transactions t WHERE t.account_id = accounts.id),
    accounts.created_at
)
"""


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_posted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_BACKFILL)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "last_posted_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("last_posted_at")
