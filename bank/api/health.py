"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from bank import __version__
from bank.api import deps, errors
from bank.services import health


async def get_liveness() -> tuple[dict[str, Any], int]:
    return {"status": "ok"}, 200


def get_health() -> tuple[dict[str, Any], int]:
    if health.database_ready(deps.uow()):
        return {"status": "ok", "checks": {"database": "ok"}, "version": __version__}, 200
    return {
        "status": "unavailable",
        "checks": {"database": "unavailable"},
        "error": {
            "code": "service_unavailable",
            "message": "The database is unreachable.",
            "details": {},
            "request_id": errors.request_id(),
        },
    }, 503
