"""Prometheus metrics: requests by route and status, latency, money movements, DB pool use.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR so every worker's samples are aggregated.
`/metrics` answers only to loopback clients, or to `Authorization: Bearer $METRICS_TOKEN`.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from bank.api import errors
from bank.core.config import Settings

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
MOVEMENT_ROUTES = {
    "POST /v1/transfers": "transfer",
    "POST /v1/transactions": "transaction",
}


class Metrics:
    def __init__(self, pool_status: Callable[[], dict[str, tuple[int, int]]] | None = None) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry() if not self.multiprocess else None
        registry = self.registry
        self.requests = Counter(
            "bank_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "bank_http_request_duration_seconds",
            "Request latency by route",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.movements = Counter(
            "bank_money_movements_total",
            "Money movements by type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        # pool: "transactional", and on PostgreSQL "autocommit" (single-row reads) and "async"
        # (money statements in flight).
        self.pool_in_use = Gauge(
            "bank_db_pool_connections_in_use",
            "Database connections checked out, by pool",
            ["pool"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "bank_db_pool_size",
            "Database pool size, by pool",
            ["pool"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._pool_status = pool_status

    def observe(
        self, method: str, route: str, status: int, seconds: float, movement: str | None = None
    ) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        kind = movement or MOVEMENT_ROUTES.get(f"{method} {route}")
        if kind is not None:
            outcome = "posted" if status < 300 else ("rejected" if status < 500 else "failed")
            self.movements.labels(kind, outcome).inc()

    def render(self) -> bytes:
        if self._pool_status is not None:
            for pool, (in_use, size) in self._pool_status().items():
                self.pool_in_use.labels(pool).set(in_use)
                self.pool_size.labels(pool).set(size)
        if self.registry is not None:
            return bytes(generate_latest(self.registry))
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped
        return bytes(generate_latest(registry))

    async def serve(self, scope: MutableMapping[str, Any], send: Send, settings: Settings) -> None:
        if not _allowed(scope, settings):  # as if there were no such route
            await _reply(
                send,
                404,
                b"application/json",
                errors.envelope("not_found", errors.http_message(404)),
            )
            return
        if scope["method"] not in ("GET", "HEAD"):
            body = errors.envelope("method_not_allowed", errors.http_message(405))
            await _reply(send, 405, b"application/json", body, [(b"allow", b"GET, HEAD")])
            return
        await _reply(send, 200, CONTENT_TYPE_LATEST.encode(), self.render())


def _allowed(scope: MutableMapping[str, Any], settings: Settings) -> bool:
    from bank.api.gateway import is_loopback

    if not settings.metrics_enabled:
        return False
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if token:
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                # The scheme is case-insensitive (RFC 9110 11.1), as on the API.
                return scheme.lower() == "bearer" and hmac.compare_digest(
                    credentials.strip(), token
                )
        return False
    client = scope.get("client")
    return is_loopback(client[0] if client else None)


async def _reply(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
