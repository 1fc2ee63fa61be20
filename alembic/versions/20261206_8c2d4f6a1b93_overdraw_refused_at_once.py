"""an over-draw refused in one statement (PostgreSQL)

`bank_post_movement` answered NULL, having written nothing, whenever its UPDATE refused a rule,
and the service then ran the general path: a write transaction that claims the key again and
explains the refusal, and a second one that stores it (~9 synchronous round trips, and about
twice a transfer's work on both sides). A withdrawal over the balance is the one refusal a
client makes on purpose and often, so the function now answers it itself: when the UPDATE
matched nothing and every earlier rule holds (the account is the caller's, active, and in the
request's currency, the general path's order), it stores the 409 under the key in the same
statement and returns it. The body is the service's, split around the balance
(`p_refusal_head`, `p_refusal_tail`), as the general path stores it. Any other refusal still
answers NULL, and the general path decides and explains as before.

Only the function's arguments and its refused branch change; the rest is the body of
e10ed7590e8a, taken from that revision.

Revision ID: 8c2d4f6a1b93
Revises: 5b1e7c9d0a42
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "8c2d4f6a1b93"
down_revision: str | None = "5b1e7c9d0a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _first_version() -> ModuleType:
    path = Path(__file__).with_name("20261203_e10ed7590e8a_money_movements_in_one_statement.py")
    spec = importlib.util.spec_from_file_location("bank_migration_e10ed7590e8a", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_REFUSED = """
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
"""

_REFUSED_OR_OVER_DRAWN = """
    IF NOT FOUND THEN
        -- An over-draw, answered here only where every earlier rule holds (as the general
        -- path orders them: the caller's account, active, in this currency).
        IF p_type = 'withdrawal' AND p_refusal_head IS NOT NULL THEN
            SELECT balance INTO v_balance FROM accounts
            WHERE id = p_account AND holder_id = p_holder AND status = 'active'
              AND currency = p_currency AND balance < p_amount;
            IF FOUND THEN
                v_body := p_refusal_head || v_balance::text || p_refusal_tail;
                IF p_key IS NOT NULL THEN
                    INSERT INTO idempotency_keys (id, user_id, operation, key, fingerprint,
                                                  status_code, response_body, created_at,
                                                  expires_at)
                    VALUES (gen_random_uuid(), p_user, p_operation, p_key, p_fingerprint, 409,
                            v_body, p_now, p_expires_at);
                    IF p_purge THEN
                        DELETE FROM idempotency_keys WHERE expires_at < p_now;
                    END IF;
                END IF;
                RETURN v_body;
            END IF;
        END IF;
        RETURN NULL;
    END IF;
"""

_NEW_ARGUMENTS = ", p_refusal_head text, p_refusal_tail text)"


def _signature(first: ModuleType, *, refusal: bool) -> str:
    movement: str = first._MOVEMENT
    assert movement.endswith(")")
    return movement[:-1] + _NEW_ARGUMENTS if refusal else movement


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    first = _first_version()
    body: str = first._MOVEMENT_BODY
    assert body.count(_REFUSED) == 1
    op.execute("DROP FUNCTION " + _signature(first, refusal=False))
    op.execute(
        "CREATE FUNCTION "
        + _signature(first, refusal=True)
        + body.replace(_REFUSED, _REFUSED_OR_OVER_DRAWN)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    first = _first_version()
    op.execute("DROP FUNCTION " + _signature(first, refusal=True))
    op.execute("CREATE FUNCTION " + _signature(first, refusal=False) + first._MOVEMENT_BODY)
