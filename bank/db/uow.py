"""SqlAlchemyUnitOfWork: one connection, one transaction, the repositories over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, NoReturn, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bank.db import repositories as r
from bank.db.engine import WRITE_OPTION, async_pool, autocommit_engine, write_lock
from bank.db.prepared import Prepared, drop_held, hold_inserts, run_driver_sql, send_held
from bank.domain import errors

# SQLSTATEs worth retrying: serialization failure, deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# A lock wait that outlived lock_timeout: another session holds the row. Waiting again would
# stall the worker again, so the request fails fast with a 503 and the client retries.
LOCK_TIMEOUT_SQLSTATE = "55P03"


class RetryableConflict(Exception):
    """The database aborted the transaction for a transient reason; run it again."""


class DuplicateKey(Exception):
    """A unique constraint rejected a row (a race another transaction won)."""


class SqlAlchemyUnitOfWork:
    """`with uow:` reads; `with uow.write():` takes the write lock up front and may commit."""

    users: r.Users
    holders: r.Holders
    accounts: r.Accounts
    ledger: r.Ledger
    cards: r.Cards
    tokens: r.Tokens
    throttle: r.Throttle
    audit: r.Audit
    idempotency: r.Idempotency
    ledger_audit: r.LedgerAudit

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stack: ExitStack | None = None
        self._conn: Connection | None = None
        self._committed = False

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def __enter__(self) -> Self:
        return self._open(write=False)

    def write(self) -> AbstractContextManager[Self]:
        return self._writing()

    @contextmanager
    def _writing(self) -> Iterator[Self]:
        # The write lock (SQLite: one writer across all workers) covers BEGIN IMMEDIATE to
        # COMMIT/ROLLBACK only; checking the connection out of the pool and handing it back
        # happen outside it, so the other writers wait as little as possible.
        conn = self._connect()
        try:
            with write_lock(self._engine).held():
                self._begin(conn, write=True)
                try:
                    yield self
                except BaseException as exc:
                    self._end(exc)
                    raise
                else:
                    self._end(None)
        finally:
            conn.close()

    @property
    def writes_at_once(self) -> bool:
        """Whether `post_at_once` is available: on PostgreSQL and SQLite, the databases the
        service runs on."""
        return self._engine.dialect.name in ("postgresql", "sqlite")

    def independent_reads(self) -> AbstractContextManager[Self]:
        """Reads whose statements need not agree with each other (a token check and one row).
        On PostgreSQL each statement runs alone in autocommit mode: no BEGIN and ROLLBACK round
        trips, no isolation level to set and reset. On SQLite, as `with uow:`."""
        if self._engine.dialect.name == "postgresql":
            return self._autocommitting()
        return self._reading()

    @contextmanager
    def _reading(self) -> Iterator[Self]:
        with self:
            yield self

    async def post_at_once(self, call: r.AtOnceCall) -> str | None:
        """Run a statement that is a whole unit of work on the server (`writes_at_once`), in
        autocommit mode: its stored response, or None when it wrote nothing (see
        `repositories.transfer_at_once`). Errors are translated as in a transaction.

        On PostgreSQL, on an engine from `make_engine`, the statement goes out on an
        asynchronous connection (bank/db/async_pool.py) and the event loop serves other
        requests while the server works and flushes the commit; on any other engine it runs
        here, synchronously. On SQLite the function's steps run in process, in one write
        transaction (`repositories.in_process`).
        """
        if self._engine.dialect.name == "sqlite":
            return self._post_in_process(call)
        pool = async_pool(self._engine)
        try:
            if pool is None:
                with self._autocommitting() as tx:
                    row = call.statement.first(tx.ledger.conn, call.values)
            else:
                row = await pool.first(call.statement, call.values)
        except DBAPIError as exc:
            if not r.at_once_refused(exc):
                _reraise(exc)
            return None
        return r.at_once_answer(row)

    async def read_at_once(self, call: r.ReadCall) -> tuple[Any, ...] | None:
        """Run a read that needs no transaction (one statement: one snapshot): its first row.
        On PostgreSQL, on an engine from `make_engine`, on an asynchronous connection, so the
        event loop serves other requests meanwhile; elsewhere here, as `independent_reads`."""
        pool = async_pool(self._engine) if self._engine.dialect.name == "postgresql" else None
        if pool is None:
            with self.independent_reads() as tx:
                return call.statement.first(tx.accounts.conn, call.values)
        try:
            return await pool.first(call.statement, call.values)
        except DBAPIError as exc:
            _reraise(exc)

    @asynccontextmanager
    async def snapshot_reads(self) -> AsyncIterator[r.SnapshotReads]:
        """Reads that must agree with each other, in one snapshot. On PostgreSQL, on an engine
        from `make_engine`, a read-only REPEATABLE READ transaction on an asynchronous
        connection, so the event loop serves other requests while each statement runs;
        elsewhere here, as `with uow:`."""
        pool = async_pool(self._engine) if self._engine.dialect.name == "postgresql" else None
        if pool is None:
            with self as tx:
                yield r.SnapshotReads(_ConnectionReads(tx.ledger.conn))
            return
        try:
            async with pool.snapshot() as snapshot:
                yield r.SnapshotReads(snapshot)
        except DBAPIError as exc:
            _reraise(exc)

    def _post_in_process(self, call: r.AtOnceCall) -> str | None:
        """SQLite: `call`'s steps in one write transaction, begun and ended on the driver (the
        call needs no repositories and no SQLAlchemy transaction: less work inside the lock)."""
        run = r.in_process(call, self._engine.dialect)  # converted before the write lock
        conn = self._connect()
        try:
            with write_lock(self._engine).held():
                run_driver_sql(conn, "BEGIN IMMEDIATE")
                try:
                    body = run(conn)
                    run_driver_sql(conn, "COMMIT" if body is not None else "ROLLBACK")
                except BaseException:
                    _roll_back(conn)
                    raise
            return body
        except DBAPIError as exc:
            _reraise(exc)
        finally:
            conn.close()

    @contextmanager
    def _autocommitting(self) -> Iterator[Self]:
        sibling = autocommit_engine(self._engine)
        conn = self._connect(sibling)
        try:
            if sibling is None:
                # Set for this checkout only; the pool restores the default level at checkin.
                conn.execution_options(isolation_level="AUTOCOMMIT")
            self._bind(conn)
            try:
                yield self
            except DBAPIError as exc:
                _reraise(exc)
            finally:
                self._conn = None
        finally:
            conn.close()

    def _open(self, *, write: bool) -> Self:
        conn = self._connect()
        try:
            return self._begin(conn, write=write)
        except BaseException:
            conn.close()
            raise

    def _connect(self, engine: Engine | None = None) -> Connection:
        try:
            return (engine or self._engine).connect()
        except (DBAPIError, PoolTimeout) as exc:
            raise errors.ServiceUnavailable() from exc

    def _begin(self, conn: Connection, *, write: bool) -> Self:
        if write:
            conn.execution_options(**{WRITE_OPTION: True})
        elif conn.dialect.name == "postgresql":
            # A read sees one snapshot, as on SQLite: a statement's balances and rows, a page
            # and its total, agree even while money moves. (Writes stay READ COMMITTED: their
            # conditional UPDATEs re-check the latest row version instead of failing.)
            conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            conn.begin()
        except DBAPIError as exc:
            _reraise(exc)
        if write and conn.dialect.name == "postgresql":
            # Append-only rows go to the server together (bank/db/prepared.py, held INSERTs).
            hold_inserts(conn)
        return self._bind(conn)

    def _bind(self, conn: Connection) -> Self:
        self._conn = conn
        self._committed = False
        self.users = r.Users(conn)
        self.holders = r.Holders(conn)
        self.accounts = r.Accounts(conn)
        self.ledger = r.Ledger(conn)
        self.cards = r.Cards(conn)
        self.tokens = r.Tokens(conn)
        self.throttle = r.Throttle(conn)
        self.audit = r.Audit(conn)
        self.idempotency = r.Idempotency(conn)
        self.ledger_audit = r.LedgerAudit(conn)
        return self

    def commit(self) -> None:
        assert self._conn is not None
        try:
            send_held(self._conn)
            self._conn.commit()
        except DBAPIError as exc:
            _reraise(exc)
        self._committed = True

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close(exc)

    def _close(self, exc: BaseException | None) -> None:
        conn = self._conn
        try:
            self._end(exc)
        finally:
            if conn is not None:
                conn.close()

    def _end(self, exc: BaseException | None) -> None:
        """End the transaction (roll back what was not committed); the connection stays open."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        drop_held(conn)  # rows still held belong to a transaction that did not commit
        try:
            if conn.in_transaction():
                conn.rollback()
        except DBAPIError:
            conn.invalidate()
        if isinstance(exc, DBAPIError):
            _reraise(exc)


class _ConnectionReads:
    """`repositories.Reads` on a transaction's connection (its statements share a snapshot)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def first(self, prepared: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        return prepared.first(self._conn, values)

    async def rows(self, prepared: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return prepared.rows(self._conn, values)


def _roll_back(conn: Connection) -> None:
    """End a transaction begun on the driver, if it is still open (a failed COMMIT may leave
    it so); a connection that cannot is invalidated (the pool replaces it)."""
    if conn.invalidated:
        return
    try:
        if conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            run_driver_sql(conn, "ROLLBACK")
    except DBAPIError:
        conn.invalidate()


def _reraise(exc: DBAPIError) -> NoReturn:
    translated = _translate(exc)
    if translated is exc:  # nothing to translate: not its own cause
        raise exc
    raise translated from exc


def _translate(exc: DBAPIError) -> Exception:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return RetryableConflict(str(sqlstate))
    if sqlstate == LOCK_TIMEOUT_SQLSTATE:
        return errors.ServiceUnavailable("The database is busy; retry shortly.")
    if isinstance(exc, IntegrityError):
        if r.is_unique_violation(exc):
            return DuplicateKey(type(exc.orig).__name__)
        return exc
    if exc.connection_invalidated or sqlstate is None or sqlstate.startswith("08"):
        message = str(exc.orig).lower()
        if "locked" in message or "busy" in message:
            return RetryableConflict("sqlite_busy")
        if exc.connection_invalidated or sqlstate is not None or _is_connection_error(message):
            return errors.ServiceUnavailable()
    return exc


def _is_connection_error(message: str) -> bool:
    needles = ("connection", "server closed", "could not connect", "terminating", "unable to open")
    return any(needle in message for needle in needles)
