"""What a request sends to the database and how: statements recorded on the synchronous driver
(psycopg's cursor) and on the asynchronous connections (bank/db/async_pool.py), and write
transactions taken on SQLite."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from bank.db.async_pool import _Wire
from bank.db.engine import WriteLock
from bank.services import idempotency


def record_statements(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """(synchronous, asynchronous): the SQL of every statement sent from now on."""
    synchronous: list[str] = []
    asynchronous: list[str] = []
    execute, run_async = psycopg.Cursor.execute, _Wire.run

    def counting_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        synchronous.append(str(query))
        return execute(self, query, *args, **kw)

    async def counting_run_async(self: _Wire, query: str, params: Any) -> Any:
        asynchronous.append(query)
        return await run_async(self, query, params)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting_execute)
    monkeypatch.setattr(_Wire, "run", counting_run_async)
    return synchronous, asynchronous


def record_write_locks_without_the_general_path(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """SQLite: one entry per write transaction taken from now on; the general path of a keyed
    write fails the request if it runs."""
    locks: list[int] = []
    held = WriteLock.held

    def counting_held(self: WriteLock) -> Any:
        locks.append(1)
        return held(self)

    def general_path(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the write took the general path")

    monkeypatch.setattr(WriteLock, "held", counting_held)
    monkeypatch.setattr(idempotency, "run", general_path)
    return locks
