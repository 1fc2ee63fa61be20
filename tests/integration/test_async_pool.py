"""PostgreSQL: the money path's one statement runs on an asynchronous connection, so the
worker's event loop serves other requests while the database works on it."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Text,
    Uuid,
    bindparam,
    create_engine,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DataError, DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from bank.db.async_pool import AsyncAutocommitPool, _Wire
from bank.db.engine import async_pool, dispose, make_engine
from bank.db.prepared import Prepared
from bank.db.repositories import AtOnceCall
from bank.db.uow import DuplicateKey, RetryableConflict, SqlAlchemyUnitOfWork
from bank.domain import errors
from tests import factories as f
from tests.conftest import PG_ADMIN_URL, PostgresDatabases
from tests.integration.conftest import AppFactory

PID = Prepared(select(func.pg_backend_pid().cast(Text)))
DIVIDES_BY_ZERO = Prepared(select(text("(1 / 0)::text")))
# Waits for an advisory lock that the test holds on another session.
WAITS_FOR_LOCK = Prepared(select(text("'locked' FROM pg_advisory_xact_lock(4242)")))


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait for a condition the test cannot be told about (bounded, polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _backend_alive(pid: int) -> bool:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
    finally:
        admin.dispose()
    return bool(found)


def _terminate(pid: int) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
    _until(lambda: not _backend_alive(pid), f"backend {pid} to exit")


@pytest.fixture
def engine(pg_databases: PostgresDatabases) -> Iterator[Engine]:
    made = make_engine(pg_databases.create(), pool_size=2, pool_timeout=0.2)
    yield made
    dispose(made)


def _pool(engine: Engine) -> AsyncAutocommitPool:
    pool = async_pool(engine)
    assert pool is not None
    return pool


async def _pid(pool: AsyncAutocommitPool) -> int:
    row = await pool.first(PID, {})
    assert row is not None
    return int(row[0])


def test_other_requests_are_served_while_a_money_statement_waits_on_the_database(
    make_client: AppFactory, backend: str, db_url: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite writes run in process, under one lock")
    # One event loop serves every request.
    client = make_client(db_lock_timeout_ms=10_000, metrics_token="m" * 32)
    alice = f.customer(client)
    source = f.funded_account(client, alice, 1_000)
    target = f.account(client, alice)
    outcome: dict[str, httpx.Response] = {}
    mover = threading.Thread(
        target=lambda: outcome.update(
            moved=f.transfer(client, alice, source["id"], target["id"], 10, key="waits-on-row")
        )
    )
    holder = create_engine(db_url).connect()
    try:
        holder.execute(
            text("SELECT 1 FROM accounts WHERE id = :id FOR UPDATE"), {"id": source["id"]}
        )
        mover.start()
        _until(lambda: _transfer_waits_on_a_lock(db_url), "the transfer to wait on the row lock")

        live = client.get("/v1/health/live")
        balance = f.balance(client, alice, source["id"])
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"}).text
        still_waiting = mover.is_alive()
    finally:
        holder.rollback()
        holder.close()
        mover.join()

    assert live.status_code == 200
    assert balance == 1_000  # the read saw the committed state, not the pending transfer
    assert 'bank_db_pool_connections_in_use{pool="async"} 1.0' in metrics  # the transfer
    assert 'bank_db_pool_size{pool="async"} 8.0' in metrics
    assert 'bank_db_pool_size{pool="transactional"} 8.0' in metrics
    assert 'bank_db_pool_size{pool="autocommit"}' in metrics
    assert still_waiting
    assert outcome["moved"].status_code == 201
    assert f.balance(client, alice, source["id"]) == 990


def _transfer_waits_on_a_lock(db_url: str) -> bool:
    # Its own session: within a transaction, pg_stat_activity is a snapshot.
    probe = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with probe.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE '%bank_post_transfer%'"
                )
            ).scalar_one()
    finally:
        probe.dispose()
    return bool(waiting)


def test_one_connection_serves_statement_after_statement_even_after_an_error(
    engine: Engine,
) -> None:
    pool = _pool(engine)

    async def scenario() -> tuple[int, int, int]:
        first = await _pid(pool)
        second = await _pid(pool)
        with pytest.raises(DataError) as failed:
            await pool.first(DIVIDES_BY_ZERO, {})
        assert getattr(failed.value.orig, "sqlstate", None) == "22012"
        return first, second, await _pid(pool)

    first, second, after_error = asyncio.run(scenario())

    assert first == second == after_error
    assert pool.idle_count == 1


def test_asynchronous_connections_bound_lock_waits_as_the_pooled_ones_do(
    pg_databases: PostgresDatabases,
) -> None:
    engine = make_engine(pg_databases.create(), lock_timeout_ms=1234)
    setting = Prepared(select(text("current_setting('lock_timeout')")))

    try:
        found = asyncio.run(_pool(engine).first(setting, {}))
    finally:
        dispose(engine)

    assert found == ("1234ms",)


@pytest.mark.parametrize(
    ("ping_after_idle", "next_use_fails"), [(3600.0, True), (0.0, False)], ids=["lost", "pinged"]
)
def test_a_connection_killed_while_the_loop_is_busy_is_replaced_after_a_503_or_when_pinged(
    pg_databases: PostgresDatabases, ping_after_idle: float, next_use_fails: bool
) -> None:
    engine = make_engine(pg_databases.create(), pool_size=1, ping_after_idle=ping_after_idle)
    pool = _pool(engine)
    uow = SqlAlchemyUnitOfWork(engine)

    async def scenario() -> tuple[int, bool, int]:
        first = await _pid(pool)
        _terminate(first)  # blocks the loop: the pool cannot see the close before its next use
        try:
            await uow.post_at_once(AtOnceCall(PID, {}))
        except errors.ServiceUnavailable:
            return first, True, await _pid(pool)
        return first, False, await _pid(pool)

    try:
        first, failed, second = asyncio.run(scenario())
    finally:
        dispose(engine)

    assert failed is next_use_fails
    assert second != first


def test_a_connection_the_server_closes_while_idle_is_dropped_and_replaced_without_a_503(
    engine: Engine,
) -> None:
    pool = _pool(engine)
    uow = SqlAlchemyUnitOfWork(engine)

    async def scenario() -> tuple[int, str | None, int]:
        first = await _pid(pool)
        await asyncio.to_thread(_terminate, first)  # the loop runs meanwhile
        await _until_async(lambda: pool.idle_count == 0, "the pool to drop the closed one")
        answer = await uow.post_at_once(AtOnceCall(PID, {}))
        return first, answer, await _pid(pool)

    try:
        first, answer, second = asyncio.run(scenario())
    finally:
        dispose(engine)

    assert answer is not None and int(answer) != first
    assert second != first


async def _until_async(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """As `_until`, letting the event loop run between the checks."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def test_waiting_for_a_connection_is_bounded_by_the_pool_timeout(
    pg_databases: PostgresDatabases,
) -> None:
    engine = make_engine(pg_databases.create(), pool_size=1, pool_timeout=0.2)
    pool = _pool(engine)
    admin = engine.connect()  # advisory locks are per database: this one's
    admin.execute(text("SELECT pg_advisory_lock(4242)"))  # session lock: held until unlocked

    async def scenario() -> tuple[Any, type[BaseException] | None]:
        holding = asyncio.create_task(pool.first(WAITS_FOR_LOCK, {}))
        await asyncio.sleep(0)  # it takes the only slot on its first step
        refused: type[BaseException] | None = None
        try:
            await pool.first(PID, {})
        except errors.ServiceUnavailable as exc:
            refused = type(exc)
        await asyncio.to_thread(_unlock, admin)
        return await holding, refused

    try:
        held, refused = asyncio.run(scenario())
    finally:
        admin.close()
        dispose(engine)

    assert refused is errors.ServiceUnavailable
    assert held == ("locked",)  # the statement that held the slot finished normally


def test_a_statement_cancelled_midway_closes_its_connection(
    pg_databases: PostgresDatabases,
) -> None:
    async def waits(pool: AsyncAutocommitPool) -> None:
        await pool.first(WAITS_FOR_LOCK, {})

    cancelled, after = _cancelled_midway(pg_databases, waits)

    assert after != cancelled


def _cancelled_midway(
    pg_databases: PostgresDatabases, waits: Callable[[AsyncAutocommitPool], Awaitable[None]]
) -> tuple[int, int]:
    """Cancel `waits` while its statement waits for a lock the test holds: (the connection it
    used, the one the next statement gets)."""
    engine = make_engine(pg_databases.create(), pool_size=1)
    pool = _pool(engine)
    admin = engine.connect()
    admin.execute(text("SELECT pg_advisory_lock(4242)"))

    async def scenario() -> tuple[int, int]:
        used = await _pid(pool)
        waiting = asyncio.create_task(waits(pool))
        await asyncio.to_thread(_until, lambda: _waits_for_advisory_lock(engine), "the wait")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert pool.idle_count == 0  # not handed back: its state was unknown
        await asyncio.to_thread(_unlock, admin)
        await asyncio.to_thread(_until, lambda: not _backend_alive(used), "the close")
        assert waiting.cancelled()
        return used, await _pid(pool)

    try:
        return asyncio.run(scenario())
    finally:
        admin.close()
        dispose(engine)


def _waits_for_advisory_lock(engine: Engine) -> bool:
    probe = create_engine(engine.url, poolclass=NullPool)  # the engine's own pool is in use
    try:
        with probe.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND NOT granted AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                    )
                ).scalar_one()
            )
    finally:
        probe.dispose()


def test_a_ping_cancelled_midway_closes_its_connection(
    pg_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_databases.create(), pool_size=1, ping_after_idle=0.0)
    pool = _pool(engine)

    async def cancelled_ping(self: Any) -> None:
        raise asyncio.CancelledError

    async def scenario() -> tuple[int, int]:
        pinged = await _pid(pool)
        with monkeypatch.context() as patched:
            patched.setattr(_Wire, "ping", cancelled_ping)
            with pytest.raises(asyncio.CancelledError) as cancelled:
                await _pid(pool)
        # Closed at once, not when the traceback that still holds it is collected.
        await asyncio.to_thread(_until, lambda: not _backend_alive(pinged), "the close")
        assert cancelled.value is not None and pool.idle_count == 0
        return pinged, await _pid(pool)

    try:
        pinged, after = asyncio.run(scenario())
    finally:
        dispose(engine)

    assert after != pinged


def test_an_unreachable_database_answers_503(pg_databases: PostgresDatabases) -> None:
    missing = pg_databases.create().rsplit("/", 1)[0] + "/bank_no_such_database"
    engine = make_engine(missing)

    try:
        with pytest.raises(errors.ServiceUnavailable):
            asyncio.run(SqlAlchemyUnitOfWork(engine).post_at_once(AtOnceCall(PID, {})))
    finally:
        dispose(engine)


def _unlock(conn: Any) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(4242)"))
    conn.commit()


def test_a_new_event_loop_closes_the_connections_of_the_last(engine: Engine) -> None:
    pool = _pool(engine)

    first = asyncio.run(_pid(pool))
    second = asyncio.run(_pid(pool))

    assert second != first
    _until(lambda: not _backend_alive(first), "the old loop's connection to close")
    assert pool.idle_count == 1


def test_dispose_closes_the_idle_asynchronous_connections(engine: Engine) -> None:
    pid = asyncio.run(_pid(_pool(engine)))

    dispose(engine)

    _until(lambda: not _backend_alive(pid), "the idle connection to close")
    assert _pool(engine).idle_count == 0


ECHO = Prepared(
    select(
        bindparam("u", type_=Uuid()),
        bindparam("t", type_=DateTime(timezone=True)),
        bindparam("n", type_=BigInteger()),
        bindparam("s", type_=Text()),
        bindparam("b", type_=Boolean()),
        bindparam("missing", type_=Text()),
        bindparam("n", type_=BigInteger()) + 1,  # one parameter used twice
        literal_column("'100%'"),
    )
)


def test_parameters_and_rows_cross_the_asynchronous_connection_as_on_the_pooled_ones(
    engine: Engine,
) -> None:
    values = {
        "u": uuid.uuid4(),
        "t": datetime(2026, 12, 6, 5, 4, 3, 210987, tzinfo=UTC),
        "n": -(2**63),
        "s": "Zoë's 100% «text»",
        "b": False,
        "missing": None,
    }

    found = asyncio.run(_pool(engine).first(ECHO, values))

    with engine.connect() as conn:
        assert found == ECHO.first(conn, values)
    assert found == (*values.values(), -(2**63) + 1, "100%")


def test_a_statement_larger_than_the_socket_buffer_is_sent_whole(engine: Engine) -> None:
    big = "x" * (8 * 1024 * 1024)
    length = Prepared(select(func.length(bindparam("s", type_=Text()))))

    found = asyncio.run(_pool(engine).first(length, {"s": big}))

    assert found == (len(big),)


def test_a_statement_the_server_cannot_prepare_fails_and_the_connection_serves_on(
    engine: Engine,
) -> None:
    pool = _pool(engine)
    broken = Prepared(select(text("no_such_column")))

    async def scenario() -> tuple[int, int]:
        first = await _pid(pool)
        with pytest.raises(ProgrammingError):
            await pool.first(broken, {})
        return first, await _pid(pool)

    before, after = asyncio.run(scenario())

    assert before == after


def test_a_statement_whose_result_changed_shape_closes_its_connection_once(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE shape (a int)"))
        conn.execute(text("INSERT INTO shape VALUES (1)"))
    every_column = Prepared(select(text("*, pg_backend_pid() FROM shape")))
    pool = _pool(engine)

    async def scenario() -> tuple[Any, Any, Any]:
        before = await pool.first(every_column, {})
        await asyncio.to_thread(_add_column_to_shape, engine)
        with pytest.raises(DBAPIError) as stale:
            await pool.first(every_column, {})
        return before, stale.value, await pool.first(every_column, {})

    before, stale, after = asyncio.run(scenario())

    assert getattr(stale.orig, "sqlstate", None) == "0A000"  # cached plan changed its result
    assert after is not None and before is not None
    assert after[:2] == (1, None) and after[2] != before[1]  # a fresh connection


def _add_column_to_shape(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE shape ADD COLUMN b int"))


@pytest.fixture(params=["async-pool", "plain-engine"])
def either_engine(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Engine]:
    """make_engine's engine (the statement is awaited on its asynchronous pool) or a plain one
    on the same database (it runs synchronously): both answer the same."""
    if request.param == "async-pool":
        yield engine
        return
    plain = create_engine(engine.url)
    yield plain
    plain.dispose()


@pytest.mark.parametrize(
    ("sqlstate", "raised"),
    [
        ("23505", DuplicateKey),
        ("40001", RetryableConflict),
        ("40P01", RetryableConflict),
        ("55P03", errors.ServiceUnavailable),
        ("22012", DBAPIError),
    ],
)
def test_errors_of_a_statement_run_at_once_are_translated_as_in_a_transaction(
    either_engine: Engine, sqlstate: str, raised: type[Exception]
) -> None:
    _create_raiser(either_engine)
    uow = SqlAlchemyUnitOfWork(either_engine)

    with pytest.raises(raised):
        asyncio.run(uow.post_at_once(AtOnceCall(RAISES, {"state": sqlstate})))


def test_a_refused_rule_in_a_statement_run_at_once_answers_none(
    either_engine: Engine,
) -> None:
    _create_raiser(either_engine)
    uow = SqlAlchemyUnitOfWork(either_engine)

    assert asyncio.run(uow.post_at_once(AtOnceCall(RAISES, {"state": "BK001"}))) is None


RAISES = Prepared(select(func.test_raise(bindparam("state", type_=Text()))))


def _create_raiser(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION test_raise(state text) RETURNS text"
                " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = state;"
                " END $$"
            )
        )


# ------------------------------------------------------------------ snapshots

ISOLATION = Prepared(select(text("current_setting('transaction_isolation')")))
READ_ONLY = Prepared(select(text("current_setting('transaction_read_only')")))
NOW = Prepared(select(func.now().cast(Text)))


def test_a_snapshot_is_one_read_only_repeatable_read_transaction_on_one_connection(
    engine: Engine,
) -> None:
    pool = _pool(engine)

    async def scenario() -> tuple[list[Any], int]:
        async with pool.snapshot() as reads:
            seen = [
                await reads.first(ISOLATION, {}),
                await reads.first(READ_ONLY, {}),
                await reads.first(NOW, {}),
                await reads.first(NOW, {}),
                await reads.first(PID, {}),
            ]
        return seen, await _pid(pool)

    seen, after = asyncio.run(scenario())

    isolation, read_only, now, again, pid = (row[0] if row else None for row in seen)
    assert (isolation, read_only) == ("repeatable read", "on")
    assert now == again  # one transaction: now() is its start
    assert int(str(pid)) == after  # committed and handed back, not closed
    assert pool.idle_count == 1


def test_a_snapshot_whose_block_raises_is_rolled_back_and_its_connection_kept(
    engine: Engine,
) -> None:
    pool = _pool(engine)

    async def scenario() -> tuple[int, int, str]:
        with pytest.raises(errors.NotFound):
            async with pool.snapshot() as reads:
                row = await reads.first(PID, {})
                raise errors.NotFound()
        assert row is not None
        async with pool.snapshot() as reads:  # no "already in a transaction" warning state
            isolation = await reads.first(ISOLATION, {})
        assert isolation is not None
        return int(row[0]), await _pid(pool), str(isolation[0])

    inside, after, isolation = asyncio.run(scenario())

    assert inside == after
    assert isolation == "repeatable read"
    assert pool.idle_count == 1


def test_a_driver_error_in_a_snapshot_is_translated_and_closes_its_connection(
    engine: Engine,
) -> None:
    pool = _pool(engine)

    async def scenario() -> tuple[int, int]:
        used = await _pid(pool)
        with pytest.raises(DataError) as failed:
            async with pool.snapshot() as reads:
                await reads.first(DIVIDES_BY_ZERO, {})
        assert getattr(failed.value.orig, "sqlstate", None) == "22012"
        assert pool.idle_count == 0
        return used, await _pid(pool)

    used, after = asyncio.run(scenario())

    assert after != used


def test_a_snapshot_cancelled_midway_closes_its_connection(
    pg_databases: PostgresDatabases,
) -> None:
    async def waits(pool: AsyncAutocommitPool) -> None:
        async with pool.snapshot() as reads:
            await reads.first(WAITS_FOR_LOCK, {})

    cancelled, after = _cancelled_midway(pg_databases, waits)

    assert after != cancelled
