"""Asynchronous connections for the money path's one statement, the one-statement account
read and a statement page's snapshot (PostgreSQL).

A money movement on PostgreSQL is one statement (`bank_post_transfer`, `bank_post_movement`)
that takes ~1.8 ms of wall time, of which the worker's own CPU is ~0.6 ms: the rest is the
server's work and the commit's WAL flush. Run on a synchronous connection, the worker's event
loop waits through all of it and serves nobody. Here the statement is sent on an asynchronous
connection, so the loop serves other requests meanwhile. The same holds for the account read
(`first`, one statement in autocommit mode) and a statement page (`snapshot`: a read-only
REPEATABLE READ transaction on one connection, its statements each awaited).

The connections are the sync engine's in every respect that matters: the same connect
arguments (`Dialect.create_connect_args`, with SQLAlchemy's adapters map and our
`connect_timeout` and `lock_timeout`), the same SQL and bind processing (`Prepared`), driver
errors raised as SQLAlchemy's `DBAPIError` (so the unit of work translates them as it does the
sync path's), a ping before reuse after `ping_after_idle` seconds idle, and at most `size`
open at once, waiting at most `timeout` seconds for one (then 503).

psycopg opens each connection (`AsyncConnection.connect`: authentication, TLS, settings). A
statement then goes through `_Wire`, which drives the connection's libpq handle
(`psycopg.pq`, psycopg's documented libpq wrapper) itself: psycopg's `execute` cost ~10% of a
worker's CPU under the mixed load (a cursor, its prepared-statement bookkeeping, and on every
wait a reader added to and removed from the loop, a timer and a `select()`: two `epoll_ctl`
and a `poll` system call). A `_Wire` keeps its socket's reader registered for the life of the
connection, prepares each statement on the server once per set of parameter types, and lets
psycopg's own adapters dump the parameters (text, with the types they give) and load the row.
10% fewer instructions per transfer or deposit, and a fifth less of the worker's CPU per mixed
request under load.

The reader also sees a connection the server closes while it is idle (a restart, an
administrator's `pg_terminate_backend`): it is dropped at once, so the next statement gets a
fresh connection instead of a 503.

Connections belong to the event loop that opened them. A worker has one loop for its life; a
test client may start one per request, so on a new loop the idle connections of the old one
are closed, and those still out are closed when they come back. A connection that failed
with a lost connection, or whose statement was cancelled midway, is closed, not reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bank.db.prepared import Prepared
from bank.domain import errors

_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s|%%")
_ANSWERED = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
# A server-side statement that no longer exists (26000) or whose plan no longer fits its result
# (0A000, after a migration changed a function): the connection is closed, not reused with it.
_STALE_STATEMENT = ("26000", "0A000")


@dataclass(frozen=True, slots=True)
class _Numbered:
    """A statement in psycopg's `%(name)s` style rewritten with `$1`, `$2`, ... for libpq."""

    sql: bytes
    names: tuple[str, ...]  # the parameter each `$n` takes, in order
    formats: tuple[PyFormat, ...]  # text, for each


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> _Numbered:
    names: dict[str, int] = {}

    def number(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "%"  # psycopg's escaped percent sign
        return f"${names.setdefault(name, len(names) + 1)}"

    numbered = _NAMED_PARAMETER.sub(number, sql).encode()
    return _Numbered(numbered, tuple(names), (PyFormat.TEXT,) * len(names))


class _Wire:
    """One autocommit connection driven through libpq, its socket's reader registered once.

    `run` sends a statement and awaits its result; the reader consumes what the server sends
    and wakes the one waiting statement when the result is complete. A connection the server
    closes, or that fails, is `lost`: its reader is removed and `on_lost` told."""

    __slots__ = (
        "_adapt",
        "_fd",
        "_loop",
        "_results",
        "_statements",
        "_waiter",
        "conn",
        "lost",
        "on_lost",
        "pg",
    )

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        loop: asyncio.AbstractEventLoop,
        on_lost: Callable[[_Wire], None],
    ) -> None:
        self.conn = conn
        self.pg = conn.pgconn
        self._loop = loop
        # (SQL, parameter types) -> the name of its statement prepared on the server.
        self._statements: dict[tuple[str, tuple[int, ...]], bytes] = {}
        self._adapt = Transformer.from_context(conn)  # one statement at a time per connection
        self._waiter: asyncio.Future[None] | None = None
        self._results: list[pq.abc.PGresult] = []
        self.lost = False
        self.on_lost = on_lost
        self._fd = self.pg.socket  # kept: libpq forgets it once the connection is lost
        self.pg.nonblocking = 1
        loop.add_reader(self._fd, self._readable)

    async def run(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement: its rows, loaded by psycopg's loaders as a psycopg cursor would.
        Parameters are dumped by psycopg's dumpers, with the types they give, and a statement
        is prepared on the server once per set of those types (an int may be int2, int4 or
        int8), as psycopg does. Errors raise psycopg's exceptions."""
        numbered = _numbered(sql)
        values = [params[name] for name in numbered.names]
        dumped = self._adapt.dump_sequence(values, numbered.formats)
        key = (sql, self._adapt.types or ())
        name = self._statements.get(key)
        if name is None:
            name = f"bank_{len(self._statements)}".encode()
            self.pg.send_prepare(name, numbered.sql, param_types=key[1])
            await self._answer()
            self._statements[key] = name
        self.pg.send_query_prepared(name, dumped)
        result = await self._answer()
        if result.status != pq.ExecStatus.TUPLES_OK:
            return []
        self._adapt.set_pgresult(result)
        rows: list[tuple[Any, ...]] = self._adapt.load_rows(0, result.ntuples, tuple)
        return rows

    async def ping(self) -> None:
        self.pg.send_query(b"SELECT 1")
        await self._answer()

    async def _answer(self) -> pq.abc.PGresult:
        """Flush what was sent, await the statement's result; raise the error it carries."""
        try:
            while self.pg.flush():  # the socket's buffer was full: wait until it drains
                await self._writable()
        except psycopg.OperationalError as exc:
            self._lose(exc)
            raise
        self._results = []
        waiter = self._waiter = self._loop.create_future()
        try:
            self._collect(waiter)  # what the reader already consumed, if anything
            await waiter
        finally:
            self._waiter = None
        results = self._results
        for result in results:
            if result.status not in _ANSWERED:
                raise psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
        return results[-1]

    async def _writable(self) -> None:
        ready = self._loop.create_future()
        self._loop.add_writer(self._fd, ready.set_result, None)
        try:
            await ready
        finally:
            self._loop.remove_writer(self._fd)

    def _readable(self) -> None:
        try:
            self.pg.consume_input()
        except psycopg.OperationalError as exc:  # closed by the server, or broken
            self._lose(exc)
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._collect(waiter)

    def _collect(self, waiter: asyncio.Future[None]) -> None:
        while not self.pg.is_busy():
            result = self.pg.get_result()
            if result is None:  # the statement's results are complete
                waiter.set_result(None)
                return
            self._results.append(result)

    def _lose(self, exc: BaseException) -> None:
        if self.lost:
            return
        self.lost = True
        self._loop.remove_reader(self._fd)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.on_lost(self)

    def close(self) -> None:
        """Close the connection for good (its reader first: its descriptor may be reused)."""
        if not self.lost:
            self.lost = True
            if not self._loop.is_closed():
                self._loop.remove_reader(self._fd)
        self.pg.finish()


@dataclass(slots=True)
class _LoopConnections:
    loop: asyncio.AbstractEventLoop
    slots: asyncio.Semaphore
    idle: list[tuple[_Wire, float]] = field(default_factory=list)

    def lost(self, wire: _Wire) -> None:
        """A connection was lost: if it was idle, out of the idle list, and closed (one in use
        is closed when it comes back)."""
        kept = [(w, since) for w, since in self.idle if w is not wire]
        if len(kept) < len(self.idle):
            self.idle[:] = kept
            wire.close()


class AsyncAutocommitPool:
    """At most `size` autocommit connections per event loop; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        connect_args: Mapping[str, Any],
        *,
        size: int,
        timeout: float,
        ping_after_idle: float,
    ) -> None:
        self.dialect = engine.dialect
        _, params = engine.dialect.create_connect_args(engine.url)
        self._params: dict[str, Any] = {**params, **connect_args, "autocommit": True}
        self.size = size
        self._timeout = timeout
        self._ping_after_idle = ping_after_idle
        self._current: _LoopConnections | None = None
        self.in_use = 0  # statements holding a slot now (metrics)

    async def first(self, prepared: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run `prepared` on a pooled connection: its first row, processed as `Prepared.first`
        would. Driver errors raise `DBAPIError`; no connection to be had raises 503."""
        sql, params = prepared.driver_call(self.dialect, values)
        owner = self._for_this_loop()
        await self._slot(owner)
        self.in_use += 1
        try:
            wire = await self._checkout(owner)
            try:
                rows = await wire.run(sql, params)
            except psycopg.Error as exc:
                lost = wire.lost or _ends_connection(wire, exc)
                if lost or exc.sqlstate in _STALE_STATEMENT:
                    wire.close()
                else:
                    self._checkin(owner, wire)
                raise self._wrapped(sql, params, exc, lost) from exc
            except BaseException:  # cancelled midway: the connection's state is unknown
                wire.close()
                raise
            self._checkin(owner, wire)
        finally:
            self.in_use -= 1
            owner.slots.release()
        processed = prepared.processed(self.dialect, rows)
        return processed[0] if processed else None

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        """Reads that must agree with each other, in one read-only REPEATABLE READ transaction
        on one pooled connection: `Snapshot.first` and `Snapshot.rows` inside, then COMMIT.
        If the block raises, the transaction is rolled back and the connection kept; a driver
        error or a cancellation midway closes it instead (its state is unknown)."""
        owner = self._for_this_loop()
        await self._slot(owner)
        self.in_use += 1
        try:
            wire = await self._checkout(owner)
            snapshot = Snapshot(self, wire)
            try:
                await snapshot.execute(_BEGIN_SNAPSHOT)
                yield snapshot
                await snapshot.execute(_COMMIT)
            except BaseException as exc:
                # The block refused something (a 404, say): end the transaction and keep the
                # connection. After a driver error or a cancellation its state is unknown.
                refused = isinstance(exc, Exception) and not snapshot.failed and not wire.lost
                if refused and await _rolled_back(wire):
                    self._checkin(owner, wire)
                else:
                    wire.close()
                raise
            self._checkin(owner, wire)
        finally:
            self.in_use -= 1
            owner.slots.release()

    def close(self) -> None:
        """Close the idle connections (those still out are closed when they come back)."""
        current, self._current = self._current, None
        if current is not None:
            _close_all(current)

    @property
    def idle_count(self) -> int:
        return 0 if self._current is None else len(self._current.idle)

    def _for_this_loop(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        current = self._current
        if current is None or current.loop is not loop:
            if current is not None:
                _close_all(current)
            current = self._current = _LoopConnections(loop, asyncio.Semaphore(self.size))
        return current

    async def _slot(self, owner: _LoopConnections) -> None:
        if owner.slots.locked():  # all in use: wait, boundedly (a free slot needs no timer)
            try:
                async with asyncio.timeout(self._timeout):
                    await owner.slots.acquire()
            except TimeoutError:
                raise errors.ServiceUnavailable() from None
        else:
            await owner.slots.acquire()

    async def _checkout(self, owner: _LoopConnections) -> _Wire:
        while owner.idle:
            wire, idle_since = owner.idle.pop()
            if time.monotonic() - idle_since < self._ping_after_idle:
                return wire
            try:  # idle long enough for the server to have gone away without a word
                await wire.ping()
            except BaseException as exc:  # dead, or cancelled midway: not reusable either way
                wire.close()
                if isinstance(exc, psycopg.Error):
                    continue
                raise
            return wire
        try:
            conn = await psycopg.AsyncConnection.connect(**self._params)
        except psycopg.Error as exc:
            raise errors.ServiceUnavailable() from exc
        return _Wire(conn, owner.loop, owner.lost)

    def _checkin(self, owner: _LoopConnections, wire: _Wire) -> None:
        if wire.lost or owner is not self._current:
            wire.close()
        else:
            owner.idle.append((wire, time.monotonic()))

    def _wrapped(self, sql: str, params: Any, exc: psycopg.Error, lost: bool) -> DBAPIError:
        # Classed as the sync engine would (IntegrityError, OperationalError, ...), with the
        # driver's error as `orig`; a lost connection is marked invalidated, as there.
        wrapped = DBAPIError.instance(
            sql, params, exc, psycopg.Error, connection_invalidated=lost, dialect=self.dialect
        )
        return cast(DBAPIError, wrapped)  # a StatementError only for a non-driver error


_BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_COMMIT = "COMMIT"
_ROLLBACK = "ROLLBACK"


class Snapshot:
    """The statements of one `AsyncAutocommitPool.snapshot` transaction."""

    __slots__ = ("_pool", "_wire", "failed")

    def __init__(self, pool: AsyncAutocommitPool, wire: _Wire) -> None:
        self._pool = pool
        self._wire = wire
        self.failed = False  # a driver error ended this connection's use

    async def rows(self, prepared: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run `prepared`: its rows, processed as `Prepared.rows` would."""
        sql, params = prepared.driver_call(self._pool.dialect, values)
        return prepared.processed(self._pool.dialect, await self._run(sql, params))

    async def first(self, prepared: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = await self.rows(prepared, values)
        return found[0] if found else None

    async def execute(self, sql: str) -> None:
        await self._run(sql, {})

    async def _run(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        wire = self._wire
        try:
            return await wire.run(sql, params)
        except psycopg.Error as exc:
            self.failed = True
            lost = wire.lost or _ends_connection(wire, exc)
            raise self._pool._wrapped(sql, params, exc, lost) from exc


async def _rolled_back(wire: _Wire) -> bool:
    """Roll back the connection's transaction: False if the server refused (the caller closes
    it); a cancellation midway closes it here and propagates."""
    try:
        await wire.run(_ROLLBACK, {})
    except psycopg.Error:
        return False
    except BaseException:
        wire.close()
        raise
    return True


def _close_all(owner: _LoopConnections) -> None:
    for wire, _ in owner.idle:
        wire.close()
    owner.idle.clear()


def _ends_connection(wire: _Wire, exc: psycopg.Error) -> bool:
    """Whether a statement's error means its connection is gone: libpq says so, or the error
    is the client's own (no SQLSTATE), a connection failure (08) or the server shutting the
    session down (57P01 and its kin) before it closes the socket."""
    if wire.pg.status != pq.ConnStatus.OK:
        return True
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))
