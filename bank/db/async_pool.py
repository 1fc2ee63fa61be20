"""Asynchronous autocommit connections for the money path's one statement (PostgreSQL).

A money movement on PostgreSQL is one statement (`bank_post_transfer`, `bank_post_movement`)
that takes ~1.8 ms of wall time, of which the worker's own CPU is ~0.6 ms: the rest is the
server's work and the commit's WAL flush. Run on a synchronous connection, the worker's event
loop waits through all of it and serves nobody. Here the statement is sent on a psycopg
`AsyncConnection`, so the loop serves other requests meanwhile.

The connections are the sync engine's in every respect that matters: the same connect
arguments (`Dialect.create_connect_args`, with SQLAlchemy's adapters map and our
`connect_timeout` and `lock_timeout`), the same SQL and bind processing (`Prepared`), driver
errors raised as SQLAlchemy's `DBAPIError` (so the unit of work translates them as it does the
sync path's), a ping before reuse after `ping_after_idle` seconds idle, and at most `size`
open at once, waiting at most `timeout` seconds for one (then 503).

Connections belong to the event loop that opened them. A worker has one loop for its life; a
test client may start one per request, so on a new loop the idle connections of the old one
are closed, and those still out are closed when they come back. A connection that failed
with a lost connection, or whose statement was cancelled midway, is closed, not reused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bank.db.prepared import Prepared
from bank.domain import errors


@dataclass(slots=True)
class _LoopConnections:
    loop: asyncio.AbstractEventLoop
    slots: asyncio.Semaphore
    idle: list[tuple[psycopg.AsyncConnection[Any], float]] = field(default_factory=list)


class AsyncAutocommitPool:
    """At most `size` autocommit `AsyncConnection`s per event loop; see the module docstring."""

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
        if owner.slots.locked():  # all in use: wait, boundedly (a free slot needs no timer)
            try:
                async with asyncio.timeout(self._timeout):
                    await owner.slots.acquire()
            except TimeoutError:
                raise errors.ServiceUnavailable() from None
        else:
            await owner.slots.acquire()
        self.in_use += 1
        try:
            conn = await self._checkout(owner)
            try:
                cursor = await conn.execute(sql, params)
                rows = await cursor.fetchall() if cursor.description is not None else []
            except psycopg.Error as exc:
                lost = conn.closed  # the dialect's is_disconnect (a broken one is closed too)
                self._checkin(owner, conn)  # which closes it for good if lost
                raise self._wrapped(sql, params, exc, lost) from exc
            except BaseException:  # cancelled midway: the connection's state is unknown
                conn.pgconn.finish()
                raise
            self._checkin(owner, conn)
        finally:
            self.in_use -= 1
            owner.slots.release()
        processed = prepared.processed(self.dialect, rows)
        return processed[0] if processed else None

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

    async def _checkout(self, owner: _LoopConnections) -> psycopg.AsyncConnection[Any]:
        while owner.idle:
            conn, idle_since = owner.idle.pop()
            if time.monotonic() - idle_since < self._ping_after_idle:
                return conn
            try:  # idle long enough for the server to have gone away meanwhile
                await conn.execute("SELECT 1")
            except BaseException as exc:  # dead, or cancelled midway: not reusable either way
                conn.pgconn.finish()
                if isinstance(exc, psycopg.Error):
                    continue
                raise
            return conn
        try:
            return await psycopg.AsyncConnection.connect(**self._params)
        except psycopg.Error as exc:
            raise errors.ServiceUnavailable() from exc

    def _checkin(self, owner: _LoopConnections, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.closed or owner is not self._current:
            conn.pgconn.finish()
        else:
            owner.idle.append((conn, time.monotonic()))

    def _wrapped(self, sql: str, params: Any, exc: psycopg.Error, lost: bool) -> DBAPIError:
        # Classed as the sync engine would (IntegrityError, OperationalError, ...), with the
        # driver's error as `orig`; a lost connection is marked invalidated, as there.
        wrapped = DBAPIError.instance(
            sql, params, exc, psycopg.Error, connection_invalidated=lost, dialect=self.dialect
        )
        return cast(DBAPIError, wrapped)  # a StatementError only for a non-driver error


def _close_all(owner: _LoopConnections) -> None:
    for conn, _ in owner.idle:
        conn.pgconn.finish()
    owner.idle.clear()
