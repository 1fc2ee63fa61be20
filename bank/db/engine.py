"""Engine construction: SQLite pragmas and BEGIN IMMEDIATE, PostgreSQL pool sizing."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool

from bank.core.logging import get_logger
from bank.db.async_pool import AsyncAutocommitPool
from bank.db.prepared import run_driver_sql, send_held
from bank.domain import errors

WRITE_OPTION = "bank_write"
PING_AFTER_IDLE_SECONDS = 1.0
# SQLite: a worker wakes its checkpointer after this many write transactions; commits themselves
# checkpoint only past the safety-net WAL size (pages), if the checkpointer cannot keep up.
CHECKPOINT_EVERY_WRITES = 25
WAL_AUTOCHECKPOINT_PAGES = 10_000

log = get_logger("bank.db")


class Checkpointer:
    """Copies SQLite's WAL back into the database on a background thread, outside the write lock.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses `wal_autocheckpoint`
    pages, that is inside the cross-process write lock: measured on a transfer, 3% of commits
    took 2-12 ms and were half of all commit time, while every other writer waited. Here the
    pooled connections keep only a far threshold as a safety net, and every
    `CHECKPOINT_EVERY_WRITES` write transactions a worker wakes this thread, which runs a
    PASSIVE checkpoint on its own connection: it blocks no writer (they append to the WAL
    meanwhile), and sqlite3 releases the GIL while it copies pages, so the event loop keeps
    serving. The thread exits when idle and is started again on demand (also after a fork).
    """

    IDLE_EXIT_SECONDS = 10.0

    def __init__(self, path: Path, every: int = CHECKPOINT_EVERY_WRITES) -> None:
        self._path = path
        self._every = every
        self._writes = 0
        self._wake = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()  # set after each checkpoint (tests wait on it)

    def wrote(self) -> None:
        """A write transaction ended (called outside the write lock)."""
        self._writes += 1
        if self._writes < self._every:
            return
        self._writes = 0
        self._wake.set()
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpointer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, timeout=30)
        except sqlite3.Error:
            log.warning("sqlite_checkpointer_failed_to_open", exc_info=True)
            return
        try:
            while self._wake.wait(self.IDLE_EXIT_SECONDS):
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the safety net in every commit still bounds the WAL
                    log.warning("sqlite_checkpoint_failed", exc_info=True)
                self.finished.set()
        finally:
            conn.close()


class WriteLock:
    """Serialises SQLite writers: a thread lock plus an flock shared by all worker processes.

    SQLite's busy handler sleeps in millisecond steps, which wrecks tail latency when two
    processes contend for the write lock; queueing on a file lock does not.
    """

    def __init__(self, path: Path | None, checkpointer: Checkpointer | None = None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self.checkpointer = checkpointer
        self._fd: int | None = None
        self._pid = -1

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # reopen after fork
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:  # the database directory is gone or unwritable
                raise errors.ServiceUnavailable() from exc
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        if self.checkpointer is not None:
            self.checkpointer.wrote()


class NullLock:
    @contextmanager
    def held(self) -> Iterator[None]:
        yield


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, WriteLock] = weakref.WeakKeyDictionary()
_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_ASYNC: weakref.WeakKeyDictionary[Engine, AsyncAutocommitPool] = weakref.WeakKeyDictionary()
_NULL_LOCK = NullLock()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(
    url: str,
    *,
    pool_size: int = 8,
    pool_timeout: float = 10.0,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    lock_timeout_ms: int | None = None,
    sqlite_synchronous: str = "NORMAL",
) -> Engine:
    if is_sqlite(url):
        return _sqlite_engine(url, pool_size, pool_timeout, sqlite_synchronous)
    engine = _postgres_engine(
        url, ping_after_idle, lock_timeout_ms, pool_size=pool_size, pool_timeout=pool_timeout
    )
    # A Core statement in a transaction that holds INSERTs must see them: send them first.
    event.listen(engine, "before_execute", _send_held_first)
    _AUTOCOMMIT[engine] = _autocommit_engine(
        url, pool_size, pool_timeout, ping_after_idle, lock_timeout_ms
    )
    _ASYNC[engine] = AsyncAutocommitPool(
        engine,
        _postgres_connect_args(lock_timeout_ms),
        size=pool_size,
        timeout=pool_timeout,
        ping_after_idle=ping_after_idle,
    )
    return engine


def _autocommit_engine(
    url: str,
    pool_size: int,
    pool_timeout: float,
    ping_after_idle: float,
    lock_timeout_ms: int | None,
) -> Engine:
    """Connections that stay in autocommit mode, for synchronous statements that are a whole
    unit of work (`SqlAlchemyUnitOfWork.independent_reads`). The money path's statement, the
    account read and a statement page's snapshot run on the asynchronous pool beside it
    (`async_pool`).

    Switching a pooled connection to autocommit and back for each of them (SQLAlchemy's
    `isolation_level` execution option, reset at checkin, and the rollback on return) cost ~11%
    of a transfer's Python. These are set once, when each connects. A worker's event loop runs
    one such statement at a time, so one connection is kept; threads may open up to
    `pool_size` more for the moment they need them.
    """
    return _postgres_engine(
        url,
        ping_after_idle,
        lock_timeout_ms,
        isolation_level="AUTOCOMMIT",
        pool_size=1,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_reset_on_return=None,  # nothing to roll back: no statement leaves a transaction
    )


def _postgres_engine(
    url: str, ping_after_idle: float, lock_timeout_ms: int | None, **pool: Any
) -> Engine:
    """A PostgreSQL engine with what every one of ours has: connections recycled after 30
    minutes, bounded lock waits, idle connections pinged; `pool` sizes it (no overflow unless
    given)."""
    engine = create_engine(
        url,
        **{"max_overflow": 0, **pool},
        pool_recycle=1800,
        connect_args=_postgres_connect_args(lock_timeout_ms),
    )
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def autocommit_engine(engine: Engine) -> Engine | None:
    """The autocommit sibling `make_engine` made for a PostgreSQL engine, if any."""
    return _AUTOCOMMIT.get(engine)


def async_pool(engine: Engine) -> AsyncAutocommitPool | None:
    """The asynchronous autocommit pool `make_engine` made for a PostgreSQL engine, if any."""
    return _ASYNC.get(engine)


def dispose(engine: Engine) -> None:
    """Close the pooled connections of `engine` and of its autocommit siblings."""
    engine.dispose()
    sibling = _AUTOCOMMIT.get(engine)
    if sibling is not None:
        sibling.dispose()
    pool = _ASYNC.get(engine)
    if pool is not None:
        pool.close()


def _send_held_first(conn: Connection, *_: Any) -> None:
    send_held(conn)


def _postgres_connect_args(lock_timeout_ms: int | None) -> dict[str, Any]:
    """A request's transaction runs on its worker's event loop, so a row lock held elsewhere
    (an operator's session, a stuck client) must not stall the worker: after `lock_timeout_ms`
    the statement fails with SQLSTATE 55P03, which the unit of work turns into a 503."""
    args: dict[str, Any] = {"connect_timeout": 5}
    if lock_timeout_ms is not None:
        args["options"] = f"-c lock_timeout={int(lock_timeout_ms)}"
    return args


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Pre-ping, but only connections that sat idle in the pool for `idle_seconds`.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one more round trip per request on
    the hot path. A connection handed back milliseconds ago is as good as a ping; one that sat
    idle may have been closed by a restarted server, so it is pinged and, if dead, replaced
    (SQLAlchemy's pessimistic-disconnect recipe: raising DisconnectionError in `checkout`
    makes the pool retry with a fresh connection). A connection that dies while in use fails
    its request with a 503, and SQLAlchemy then invalidates the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc


def _sqlite_engine(url: str, pool_size: int, pool_timeout: float, synchronous: str) -> Engine:
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"unsupported SQLite synchronous mode: {synchronous!r}")
    path = _sqlite_file(url)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if path is None:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout)
    engine = create_engine(url, **kwargs)
    _WRITE_LOCKS[engine] = (
        WriteLock(path.with_name(path.name + ".lock.flock"), Checkpointer(path))
        if path is not None
        else WriteLock(None)
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (the pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        run_driver_sql(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def write_lock(engine: Engine) -> WriteLock | NullLock:
    return _WRITE_LOCKS.get(engine) or _NULL_LOCK


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
