"""A write transaction's append-only INSERTs (ledger rows, transfers, audit events, stored
idempotent responses) may be held back and sent together (PostgreSQL: one statement before the
next statement or COMMIT). Whatever the transport, the transaction behaves as if each INSERT ran
when it was called: its own reads see the rows, COMMIT keeps all or none, a rollback keeps none,
and a bad row is refused at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, bindparam, func, insert, select, text

from bank.db import models as m
from bank.db import prepared
from bank.db.engine import make_engine
from bank.db.prepared import Prepared
from bank.db.uow import DuplicateKey, SqlAlchemyUnitOfWork
from bank.domain.errors import ServiceUnavailable
from tests.integration.test_pool import _terminate

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
_a = m.audit_events.c
AUDIT_IDS = Prepared(select(_a.id).where(_a.action == bindparam("p_action")))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url, pool_size=1)  # one connection: every uow reuses it
    yield engine
    engine.dispose()


def _audit(uow: SqlAlchemyUnitOfWork, action: str, **details: Any) -> None:
    uow.audit.record(action=action, outcome="success", now=NOW, details=details or None)


def _store(uow: SqlAlchemyUnitOfWork, user_id: uuid.UUID, key: str) -> None:
    uow.idempotency.store(
        user_id=user_id,
        operation="create_transfer",
        key=key,
        fingerprint="f" * 64,
        status=201,
        body='{"ok":true}',
        now=NOW,
        expires_at=NOW + timedelta(hours=24),
    )


def _audit_count(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(m.audit_events).where(_a.action == action)
            ).scalar_one()
        )


def test_the_transaction_reads_its_own_inserts_and_commits_them_all(engine: Engine) -> None:
    action = f"held-{uuid.uuid4().hex[:8]}"
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        _audit(uow, action, n=1)
        _audit(uow, action, n=2)
        assert len(AUDIT_IDS.rows(uow.ledger.conn, {"p_action": action})) == 2  # prepared read
        _audit(uow, action, n=3)
        core_count = uow.ledger.conn.execute(  # a Core statement sees them too
            select(func.count()).select_from(m.audit_events).where(_a.action == action)
        ).scalar_one()
        assert core_count == 3
        _audit(uow, action, n=4)
        uow.ledger.add_transactions([])  # nothing to add is not an empty INSERT
        _store(uow, uuid.uuid4(), f"key-{action}")
        uow.commit()
    assert _audit_count(engine, action) == 4


def test_a_transaction_that_does_not_commit_leaves_none_of_its_inserts(engine: Engine) -> None:
    action = f"dropped-{uuid.uuid4().hex[:8]}"
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(RuntimeError), uow.write():
        _audit(uow, action, n=1)
        _audit(uow, action, n=2)
        raise RuntimeError("the use case failed after its inserts")
    # Later transactions on the same pooled connection do not carry them along.
    with uow:
        assert AUDIT_IDS.rows(uow.ledger.conn, {"p_action": action}) == []
    with uow.write():
        _audit(uow, action, n=3)
        uow.commit()
    with engine.connect() as conn:
        ((only,),) = conn.execute(select(_a.details).where(_a.action == action)).all()
    assert only == {"n": 3}


def test_a_failing_insert_fails_the_commit_and_keeps_nothing(engine: Engine) -> None:
    action = f"clash-{uuid.uuid4().hex[:8]}"
    user_id, key = uuid.uuid4(), f"key-{action}"
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        _store(uow, user_id, key)
        uow.commit()
    with pytest.raises(DuplicateKey), uow.write():
        _audit(uow, action)
        _store(uow, user_id, key)  # the same (user, operation, key): a unique violation
        uow.commit()
    assert _audit_count(engine, action) == 0
    with uow.write():  # the connection is usable again
        _audit(uow, action)
        uow.commit()
    assert _audit_count(engine, action) == 1


def test_a_row_without_a_value_for_every_column_is_refused_when_added(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        with pytest.raises(KeyError, match="seq"):
            uow.ledger.add_transactions([{"id": uuid.uuid4(), "account_id": uuid.uuid4()}])
        uow.rollback()


def test_only_plain_inserts_can_be_held(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        conn = uow.ledger.conn
        with pytest.raises(ValueError, match="INSERT without RETURNING"):
            AUDIT_IDS.insert_later(conn, [{"p_action": "a select"}])
        returning = Prepared(insert(m.revoked_tokens).returning(m.revoked_tokens.c.jti))
        with pytest.raises(ValueError, match="INSERT without RETURNING"):
            returning.insert_later(conn, [{"jti": "j", "expires_at": NOW}])
        if engine.dialect.name == "postgresql":  # held: refused when added, not when sent
            copy = Prepared(
                insert(m.revoked_tokens).from_select(
                    ["jti", "expires_at"],
                    select(m.revoked_tokens.c.jti, m.revoked_tokens.c.expires_at),
                )
            )
            with pytest.raises(ValueError, match=r"INSERT \.\.\. VALUES"):
                copy.insert_later(conn, [{}])
        uow.rollback()


def test_batches_of_any_shape_go_in_and_the_shape_cache_stays_bounded(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepared, "_COMBINED_MAX", len(prepared._COMBINED) + 2)
    action = f"shapes-{uuid.uuid4().hex[:8]}"
    uow = SqlAlchemyUnitOfWork(engine)
    for count in range(1, 7):  # six shapes: audit rows x count, then a stored response
        with uow.write():
            for n in range(count):
                _audit(uow, action, n=n)
            _store(uow, uuid.uuid4(), f"key-{action}-{count}")
            uow.commit()
    assert _audit_count(engine, action) == 21
    assert len(prepared._COMBINED) <= prepared._COMBINED_MAX


def test_a_connection_lost_with_rows_held_fails_cleanly_and_the_pool_recovers(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect: PostgreSQL")
    action = f"lost-{uuid.uuid4().hex[:8]}"
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(ServiceUnavailable), uow.write():
        backend = uow.ledger.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _audit(uow, action, n=1)
        _terminate(backend)
        uow.commit()
    with uow.write():
        _audit(uow, action, n=2)
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(select(_a.details).where(_a.action == action)).scalars().all() == [
            {"n": 2}
        ]


def test_postgres_sends_a_transactions_inserts_as_one_statement(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no round trips to save: each INSERT runs when it is called")
    _audit_count(engine, "connect first")  # the dialect's first-connect queries
    sent: list[str] = []
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def counting_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kw)

    def counting_many(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> None:
        sent.append(str(query))
        executemany(self, query, *args, **kw)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting_execute)
    monkeypatch.setattr(psycopg.Cursor, "executemany", counting_many)
    action = f"batched-{uuid.uuid4().hex[:8]}"
    uow = SqlAlchemyUnitOfWork(engine)
    with uow.write():
        for n in range(3):
            _audit(uow, action, n=n)
        _store(uow, uuid.uuid4(), f"key-{action}")
        assert sent == []  # held until the transaction's next statement or COMMIT
        uow.commit()
    assert len(sent) == 1
    assert sent[0].count("INSERT INTO audit_events") == 1  # one multi-row INSERT ...
    assert sent[0].count("INSERT INTO idempotency_keys") == 1  # ... chained with the other
    assert _audit_count(engine, action) == 3
