"""money movements in one statement (PostgreSQL)

`bank_post_transfer(...)` and `bank_post_movement(...)` (a deposit or a withdrawal) do a
successful money movement's whole write transaction on the server, each called as one
statement in autocommit mode: check the token is not revoked, take the idempotency key's
advisory lock and check the key is free, move the money with the same conditional UPDATEs as
the general path (a transfer's two in ascending id order), and insert the transfer, the ledger
rows, the audit event and the stored response. One round trip instead of six for a transfer
(BEGIN, claim, two UPDATEs, the held INSERTs, COMMIT) and five for a deposit or withdrawal.

They are only the fast path of a success: they answer NULL, having written nothing, whenever
anything else must be decided (a revoked token, a key in flight or already stored, a rule the
first UPDATE refuses), and a transfer whose second UPDATE refuses a rule raises SQLSTATE BK001,
which rolls the first one back. The service then runs the general path
(bank/services/idempotency.py), which decides and explains exactly as before.

The response body comes from the service as JSON split around the values only the database
knows (head, middle and tail, bank.domain.serialize.template): the posting's `balance_after` and the
`created_at` stamp, rendered as bank.domain.serialize.timestamp renders them. It is returned
and stored as one text, so a replay answers exactly what the first response did.

SQLite has no round trips to save and keeps the general path only.

Revision ID: e10ed7590e8a
Revises: 3c1f0a9d2b47
Create Date: 2026-12-03 15:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e10ed7590e8a"
down_revision: str | None = "3c1f0a9d2b47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The token and key checks both functions start with: NULL (write nothing) if either fails.
_CLAIM = """
    IF EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = p_jti) THEN
        RETURN NULL;
    END IF;
    IF p_key IS NOT NULL THEN
        IF NOT pg_try_advisory_xact_lock(p_lock) OR EXISTS (
            SELECT 1 FROM idempotency_keys
            WHERE user_id = p_user AND operation = p_operation AND key = p_key
        ) THEN
            RETURN NULL;
        END IF;
    END IF;
"""

# Stores the response under the key (if any), purges expired keys when asked, returns it.
_STORE = """
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (id, user_id, operation, key, fingerprint, status_code,
                                      response_body, created_at, expires_at)
        VALUES (gen_random_uuid(), p_user, p_operation, p_key, p_fingerprint, 201, v_body,
                p_now, p_expires_at);
        IF p_purge THEN
            DELETE FROM idempotency_keys WHERE expires_at < p_now;
        END IF;
    END IF;
    RETURN v_body;
"""

# bank.domain.serialize.timestamp, in SQL: RFC 3339 in UTC with microseconds.
_STAMP = """(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || 'Z')"""

_COMMON = """p_user uuid, p_operation text, p_key text, p_lock bigint, p_jti text,
    p_fingerprint text, p_amount bigint, p_currency text, p_description text, p_holder uuid,
    p_now timestamptz, p_max_balance bigint, p_max_credited bigint, p_request_id text,
    p_client_ip text, p_audit_details text, p_body_head text, p_body_tail text,
    p_expires_at timestamptz, p_purge boolean"""

_TRANSFER = f"bank_post_transfer({_COMMON}, p_transfer_id uuid, p_from uuid, p_to uuid)"

_TRANSFER_BODY = (
    """ RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    -- After each side's UPDATE: its balance, entry count (the row's seq), credited total, stamp.
    d_balance bigint; d_seq bigint; d_credited bigint; d_at timestamptz;
    c_balance bigint; c_seq bigint; c_credited bigint; c_at timestamptz;
    v_body text;
BEGIN"""
    + _CLAIM
    + """
    -- Rows are locked in ascending id order, as on the general path.
    FOR step IN 1..2 LOOP
        IF (step = 1) = (p_from < p_to) THEN
            UPDATE accounts SET balance = balance - p_amount, entry_count = entry_count + 1,
                   last_posted_at = greatest(last_posted_at, p_now)
            WHERE id = p_from AND holder_id = p_holder AND status = 'active'
              AND currency = p_currency AND balance >= p_amount
            RETURNING balance, entry_count, credited_total, last_posted_at
            INTO d_balance, d_seq, d_credited, d_at;
        ELSE
            UPDATE accounts SET balance = balance + p_amount, entry_count = entry_count + 1,
                   credited_total = credited_total + p_amount,
                   last_posted_at = greatest(last_posted_at, p_now)
            WHERE id = p_to AND status = 'active' AND currency = p_currency
              AND balance <= p_max_balance - p_amount
              AND credited_total <= p_max_credited - p_amount
            RETURNING balance, entry_count, credited_total, last_posted_at
            INTO c_balance, c_seq, c_credited, c_at;
        END IF;
        IF NOT FOUND THEN
            IF step = 1 THEN
                RETURN NULL;
            END IF;
            RAISE EXCEPTION 'a transfer rule failed on the second account'
                USING ERRCODE = 'BK001';
        END IF;
    END LOOP;
    INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, description,
                           created_at)
    VALUES (p_transfer_id, p_from, p_to, p_amount, p_currency, p_description,
            greatest(d_at, c_at));
    INSERT INTO transactions (id, account_id, seq, type, amount, currency, balance_after,
                              transfer_id, description, created_at, credited_total_after)
    VALUES (gen_random_uuid(), p_from, d_seq, 'transfer_out', p_amount, p_currency, d_balance,
            p_transfer_id, p_description, d_at, d_credited),
           (gen_random_uuid(), p_to, c_seq, 'transfer_in', p_amount, p_currency, c_balance,
            p_transfer_id, p_description, c_at, c_credited);
    INSERT INTO audit_events (id, created_at, action, outcome, user_id, token_jti, request_id,
                              client_ip, target_type, target_id, details)
    VALUES (gen_random_uuid(), p_now, 'transfer_posted', 'success', p_user, p_jti,
            p_request_id, p_client_ip, 'transfer', p_transfer_id::text, p_audit_details::json);
    -- The response: its JSON split around created_at.
    v_body := p_body_head || '"' || """
    + _STAMP.format("greatest(d_at, c_at)")
    + """ || '"' || p_body_tail;"""
    + _STORE
    + """END
$$"""
)

_MOVEMENT = f"""bank_post_movement({_COMMON}, p_transaction_id uuid, p_account uuid,
    p_type text, p_body_middle text)"""

_MOVEMENT_BODY = (
    """ RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_balance bigint; v_seq bigint; v_credited bigint; v_at timestamptz;
    v_body text;
BEGIN"""
    + _CLAIM
    + """
    IF p_type = 'deposit' THEN
        UPDATE accounts SET balance = balance + p_amount, entry_count = entry_count + 1,
               credited_total = credited_total + p_amount,
               last_posted_at = greatest(last_posted_at, p_now)
        WHERE id = p_account AND holder_id = p_holder AND status = 'active'
          AND currency = p_currency AND balance <= p_max_balance - p_amount
          AND credited_total <= p_max_credited - p_amount
        RETURNING balance, entry_count, credited_total, last_posted_at
        INTO v_balance, v_seq, v_credited, v_at;
    ELSIF p_type = 'withdrawal' THEN
        UPDATE accounts SET balance = balance - p_amount, entry_count = entry_count + 1,
               last_posted_at = greatest(last_posted_at, p_now)
        WHERE id = p_account AND holder_id = p_holder AND status = 'active'
          AND currency = p_currency AND balance >= p_amount
        RETURNING balance, entry_count, credited_total, last_posted_at
        INTO v_balance, v_seq, v_credited, v_at;
    ELSE
        RAISE EXCEPTION 'unknown movement type %', p_type;
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO transactions (id, account_id, seq, type, amount, currency, balance_after,
                              transfer_id, description, created_at, credited_total_after)
    VALUES (p_transaction_id, p_account, v_seq, p_type, p_amount, p_currency, v_balance,
            NULL, p_description, v_at, v_credited);
    INSERT INTO audit_events (id, created_at, action, outcome, user_id, token_jti, request_id,
                              client_ip, target_type, target_id, details)
    VALUES (gen_random_uuid(), p_now, p_type || '_posted', 'success', p_user, p_jti,
            p_request_id, p_client_ip, 'transaction', p_transaction_id::text,
            p_audit_details::json);
    -- The response: its JSON split around balance_after and created_at.
    v_body := p_body_head || v_balance::text || p_body_middle || '"' || """
    + _STAMP.format("v_at")
    + """ || '"' || p_body_tail;"""
    + _STORE
    + """END
$$"""
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION " + _TRANSFER + _TRANSFER_BODY)
        op.execute("CREATE FUNCTION " + _MOVEMENT + _MOVEMENT_BODY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION " + _MOVEMENT)
        op.execute("DROP FUNCTION " + _TRANSFER)
