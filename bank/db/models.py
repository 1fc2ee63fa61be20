"""SQLAlchemy 2.0 typed models: the schema. The hot path uses their tables through Core."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Timestamp = UTCDateTime()


# The values of each enumerated column (the contract's enums).
ROLES = ("customer", "admin")
ACCOUNT_TYPES = ("checking", "savings")
ACCOUNT_STATUSES = ("active", "frozen", "closed")
TRANSACTION_TYPES = ("deposit", "withdrawal", "transfer_in", "transfer_out")
CARD_TYPES = ("virtual", "physical")
CARD_STATUSES = ("active", "frozen", "canceled")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def enumerated(domain: str, values: tuple[str, ...]) -> String:
    """An enumerated column's type: VARCHAR(16), on PostgreSQL as the domain `domain`.

    PostgreSQL re-reads and re-plans a table's CHECK constraints for every statement that
    writes the table, even when the statement leaves the checked column alone; an `IN` list's
    stored form (a cast array) is the dearest of them. A domain's check is planned once per
    connection and runs only where a value is assigned to the column. Each account's UPDATE in
    a money movement no longer pays for its type and status (migration 5b1e7c9d0a42).
    SQLite keeps a CHECK (`enumerated_check`). The migrations create the domains.
    """
    check = f"VALUE IN ({_listed(values)})"
    on_postgres = DOMAIN(domain, String(16), check=check, create_type=False)
    return String(16).with_variant(on_postgres, "postgresql")


def enumerated_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """The CHECK an enumerated column has where it is not a domain (SQLite)."""
    return CheckConstraint(f"{column} IN ({_listed(values)})", name=column).ddl_if(dialect="sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(enumerated("user_role", ROLES))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (enumerated_check("role", ROLES),)


class AccountHolderRow(Base):
    __tablename__ = "account_holders"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (Index("ix_account_holders_created_at_id", "created_at", "id"),)


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account_holders.id"))
    type: Mapped[str] = mapped_column(enumerated("account_type", ACCOUNT_TYPES))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(enumerated("account_status", ACCOUNT_STATUSES))
    # Number of ledger rows posted to this account; the newest row carries this value in `seq`.
    entry_count: Mapped[int] = mapped_column(BigInteger)
    # Everything ever credited (deposits, transfers in). Debits to date = credited_total - balance,
    # so a statement's totals come from two rows, not from summing the period.
    credited_total: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # The newest row's created_at (the account's own created_at before its first row). A
    # posting is stamped max(now, this), so per account the rows' created_at never goes
    # backwards, nor before the account was opened, even when the clock does (statements
    # rely on it).
    last_posted_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_nonnegative"),
        CheckConstraint("credited_total >= balance", name="credited_total_covers_balance"),
        enumerated_check("type", ACCOUNT_TYPES),
        enumerated_check("status", ACCOUNT_STATUSES),
        Index("ix_accounts_holder_id_created_at", "holder_id", "created_at", "id"),
        Index("ix_accounts_created_at_id", "created_at", "id"),
    )


class TransferRow(Base):
    __tablename__ = "transfers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    from_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(140))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        Index("ix_transfers_from_account_id_created_at", "from_account_id", "created_at", "id"),
        Index("ix_transfers_to_account_id_created_at", "to_account_id", "created_at", "id"),
        Index("ix_transfers_created_at_id", "created_at", "id"),
    )


class TransactionRow(Base):
    __tablename__ = "transactions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(enumerated("transaction_type", TRANSACTION_TYPES))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # The account's credited_total after this row (see AccountRow.credited_total).
    credited_total_after: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("transfers.id"))
    description: Mapped[str | None] = mapped_column(String(140))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("balance_after >= 0", name="balance_after_nonnegative"),
        CheckConstraint(
            "credited_total_after >= balance_after", name="credited_total_after_covers_balance"
        ),
        enumerated_check("type", TRANSACTION_TYPES),
        UniqueConstraint("account_id", "seq"),
        Index("ix_transactions_account_id_created_at", "account_id", "created_at", "seq"),
        Index("ix_transactions_created_at_id", "created_at", "id"),
        Index("ix_transactions_transfer_id", "transfer_id"),
    )


class CardRow(Base):
    __tablename__ = "cards"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(enumerated("card_type", CARD_TYPES))
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    # HMAC-SHA256 of the number under a server key: uniqueness without storing the number.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(enumerated("card_status", CARD_STATUSES))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        enumerated_check("status", CARD_STATUSES),
        enumerated_check("type", CARD_TYPES),
        Index("ix_cards_account_id_created_at", "account_id", "created_at", "id"),
        Index("ix_cards_created_at_id", "created_at", "id"),
    )


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_jti: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class RevokedTokenRow(Base):
    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class LoginFailureRow(Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    __table_args__ = (
        Index("ix_login_failures_scope_subject_created_at", "scope", "subject", "created_at"),
    )


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    token_jti: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_user_id_created_at", "user_id", "created_at"),
    )


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    operation: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    __table_args__ = (UniqueConstraint("user_id", "operation", "key"),)


accounts: Table = cast(Table, AccountRow.__table__)
users: Table = cast(Table, UserRow.__table__)
account_holders: Table = cast(Table, AccountHolderRow.__table__)
transactions: Table = cast(Table, TransactionRow.__table__)
transfers: Table = cast(Table, TransferRow.__table__)
cards: Table = cast(Table, CardRow.__table__)
refresh_tokens: Table = cast(Table, RefreshTokenRow.__table__)
revoked_tokens: Table = cast(Table, RevokedTokenRow.__table__)
login_failures: Table = cast(Table, LoginFailureRow.__table__)
audit_events: Table = cast(Table, AuditEventRow.__table__)
idempotency_keys: Table = cast(Table, IdempotencyKeyRow.__table__)
