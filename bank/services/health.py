"""Readiness and ledger verification (operations' use cases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bank.db.uow import RetryableConflict
from bank.domain import errors
from bank.services.uow import UnitOfWork


def database_ready(uow: UnitOfWork) -> bool:
    try:
        with uow:
            uow.ledger_audit.ping()
    except (errors.ServiceUnavailable, RetryableConflict):
        return False
    return True


@dataclass(frozen=True, slots=True)
class LedgerReport:
    totals: dict[str, int]
    violations: dict[str, list[tuple[Any, ...]]]

    @property
    def ok(self) -> bool:
        return not self.violations


def verify_ledger(uow: UnitOfWork) -> LedgerReport:
    with uow:
        return LedgerReport(uow.ledger_audit.totals(), uow.ledger_audit.violations())
