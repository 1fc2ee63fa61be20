"""PostgreSQL connections: idle ones are pinged and replaced if dead; lock waits are bounded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import anyio
import psycopg
import pytest
from sqlalchemy import Text, cast, create_engine, func, literal, select, text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from bank.app import create_app
from bank.db.engine import dispose, make_engine
from bank.db.migrations import upgrade
from bank.db.prepared import Prepared
from bank.db.repositories import AtOnceCall
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain import errors
from tests import factories as f
from tests.conftest import PG_ADMIN_URL, PostgresDatabases, make_settings
from tests.integration.conftest import AppFactory


def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = False
        for _ in range(500):  # wait until the backend has really exited (bounded)
            alive = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            if not alive:
                gone = True
                break
        assert gone, "the backend did not exit"
    admin.dispose()


@pytest.mark.parametrize(("ping_after_idle", "survives"), [(0.0, True), (3600.0, False)])
def test_a_connection_killed_while_idle_is_replaced_only_when_pinged(
    pg_databases: PostgresDatabases, ping_after_idle: float, survives: bool
) -> None:
    engine = make_engine(pg_databases.create(), pool_size=1, ping_after_idle=ping_after_idle)
    with engine.connect() as conn:
        first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(first_pid)

    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    except OperationalError:
        pid = None
    finally:
        engine.dispose()

    if survives:
        assert pid is not None and pid != first_pid
    else:  # a connection in use is not pinged: the failure surfaces (the API answers 503)
        assert pid is None


def test_a_row_locked_elsewhere_fails_fast_with_503_and_no_effect(
    pg_databases: PostgresDatabases,
) -> None:
    url = pg_databases.create()
    upgrade(url)
    app = create_app(make_settings(url, db_lock_timeout_ms=200))
    holder = create_engine(url)
    try:
        with app.test_client() as client:
            owner = f.customer(client)
            source = f.funded_account(client, owner, 1_000)
            target = f.account(client, owner)
            with holder.connect() as other:  # an operator's session holding the source row
                other.execute(
                    text("SELECT 1 FROM accounts WHERE id = :id FOR UPDATE"),
                    {"id": uuid.UUID(source["id"])},
                )
                blocked = f.transfer(client, owner, source["id"], target["id"], 100, key="k-1")
                other.rollback()
            retried = f.transfer(client, owner, source["id"], target["id"], 100, key="k-1")

            assert blocked.status_code == 503
            assert f.error_code(blocked) == "service_unavailable"
            assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
            assert f.balance(client, owner, source["id"]) == 900
            assert f.balance(client, owner, target["id"]) == 100
    finally:
        holder.dispose()
        app.engine.dispose()


def test_reads_see_one_snapshot_and_writes_stay_read_committed(db_url: str, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has one isolation level")
    engine = make_engine(db_url, pool_size=1)  # every unit of work gets the same connection
    try:
        level = text("SHOW transaction_isolation")
        for _ in range(2):
            uow = SqlAlchemyUnitOfWork(engine)
            with uow:
                assert uow.accounts.conn.execute(level).scalar_one() == "repeatable read"
            with uow.write():
                assert uow.accounts.conn.execute(level).scalar_one() == "read committed"
    finally:
        dispose(engine)


_SELECT_TWO = AtOnceCall(Prepared(select(literal("2"))), {})
# Each call's own transaction id: a statement run alone commits, so the next call gets another.
_ITS_TRANSACTION = AtOnceCall(Prepared(select(cast(func.txid_current(), Text))), {})


@pytest.mark.parametrize("sibling", [True, False], ids=["autocommit-pool", "switched-per-use"])
def test_autocommit_units_of_work_hand_the_pool_back_a_transactional_connection(
    db_url: str, backend: str, sibling: bool
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite reads and writes always run in a transaction")
    # make_engine's engine has an autocommit pool beside it; a plain one's connections are
    # switched to autocommit for the moment and back. One connection: every unit of work
    # that uses the transactional pool gets the same one.
    engine = (
        make_engine(db_url, pool_size=1)
        if sibling
        else create_engine(db_url, pool_size=1, max_overflow=0)
    )
    # now() is when the transaction started; statement_timestamp() when the statement did.
    alone_in_its_transaction = text("SELECT statement_timestamp() = now()")
    action = f"autocommit-{uuid.uuid4().hex[:8]}"
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        for alone in ("independent_reads", "post_at_once"):
            if alone == "independent_reads":
                with uow.independent_reads():
                    uow.accounts.conn.execute(text("SELECT 1"))
                    alone_now = uow.accounts.conn.execute(alone_in_its_transaction).scalar_one()
            else:  # on the asynchronous pool (make_engine) or a switched connection (plain)
                # (Bind and Execute stamp a prepared statement apart: now() cannot tell here.)
                ids = [asyncio.run(uow.post_at_once(_ITS_TRANSACTION)) for _ in range(2)]
                alone_now = ids[0] != ids[1]
            assert alone_now is True
            with pytest.raises(RuntimeError), uow.write():
                uow.audit.record(action=action, outcome="success", now=datetime.now(UTC))
                uow.accounts.conn.execute(text("SELECT 1"))  # the held row goes first
                raise RuntimeError("roll back")
            with uow:
                level = uow.accounts.conn.execute(text("SHOW transaction_isolation"))
                assert level.scalar_one() == "repeatable read"
                assert uow.accounts.conn.execute(alone_in_its_transaction).scalar_one() is False
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
            )
            assert left.scalar_one() == 0  # both write transactions rolled back
    finally:
        engine.dispose()


def test_single_statement_units_of_work_do_not_wait_for_the_transactional_pool(
    db_url: str, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no autocommit units of work")
    engine = make_engine(db_url, pool_size=1, pool_timeout=0.2)
    try:
        holding, alone = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
        with holding:  # the transactional pool's only connection, in a transaction
            for _ in range(3):
                with alone.independent_reads():
                    assert alone.accounts.conn.execute(text("SELECT 1")).scalar_one() == 1
                assert asyncio.run(alone.post_at_once(_SELECT_TWO)) == "2"
            with pytest.raises(errors.ServiceUnavailable), alone:  # the pool is indeed empty
                pass
    finally:
        dispose(engine)


def test_postgres_reads_one_row_in_two_statements_and_no_transaction_block(
    client: TestClient, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger row (an account read is one statement: test_one_statement_reads.py)."""
    if backend != "postgres":
        pytest.skip("SQLite runs in process: no round trips to save")
    owner = f.customer(client)
    account = f.account(client, owner)
    row = f.deposit(client, owner, account["id"], 5).json()
    client.get(f"/v1/transactions/{row['id']}", headers=owner.headers)  # warm: token, pool
    seen: list[tuple[str, psycopg.pq.TransactionStatus]] = []
    execute = psycopg.Cursor.execute

    def recording(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        result = execute(self, query, *args, **kw)
        seen.append((str(query), self.connection.info.transaction_status))
        return result

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)

    response = client.get(f"/v1/transactions/{row['id']}", headers=owner.headers)

    assert response.status_code == 200
    assert len(seen) == 2, seen  # the revocation check and the row
    assert "revoked_tokens" in seen[0][0] and "FROM transactions" in seen[1][0]
    assert {status for _, status in seen} == {psycopg.pq.TransactionStatus.IDLE}


def test_handler_threads_leave_the_event_loop_a_connection(make_client: AppFactory) -> None:
    client = make_client(db_pool_size=3)

    assert client.portal is not None
    threads = client.portal.call(anyio.to_thread.current_default_thread_limiter)

    assert threads.total_tokens == 2
