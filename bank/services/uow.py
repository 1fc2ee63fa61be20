"""The UnitOfWork protocol the services are written against."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import Any, Protocol, Self

from bank.db import repositories as r


class UnitOfWork(Protocol):
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

    @property
    def dialect(self) -> str: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def write(self) -> AbstractContextManager[Self]: ...

    @property
    def writes_at_once(self) -> bool: ...

    async def post_at_once(self, call: r.AtOnceCall) -> str | None: ...

    async def read_at_once(self, call: r.ReadCall) -> tuple[Any, ...] | None: ...

    def snapshot_reads(self) -> AbstractAsyncContextManager[r.SnapshotReads]: ...

    def independent_reads(self) -> AbstractContextManager[Self]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
