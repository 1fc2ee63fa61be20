"""The outermost ASGI layer: request id, access log, security headers, body limit, metrics,
the 405 `Allow` fix, and the static frontend beside the API on one origin."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from bank.api import deps, errors
from bank.api.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
API_PREFIX = "/v1"
DOCS_PREFIX = "/v1/docs"
FRONTEND_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_API_HEADERS = [
    *_COMMON,
    (b"cache-control", b"no-store"),
    (b"content-security-policy", API_CSP.encode()),
]
_DOCS_HEADERS = [*_COMMON, (b"content-security-policy", DOCS_CSP.encode())]
_FRONTEND_HEADERS = [
    *_COMMON,
    (b"cache-control", b"no-cache"),
    (b"content-security-policy", FRONTEND_CSP.encode()),
]

access_log = structlog.get_logger("bank.access")


class Gateway:
    def __init__(
        self,
        api: ASGIApp,
        wiring: deps.Wiring,
        routes: dict[str, str],
        allowed: list[tuple[re.Pattern[str], str]],
        metrics: Metrics | None,
    ) -> None:
        self.api = api
        self.access_log = AccessLog.for_settings(wiring.settings)
        self.wiring = wiring
        self.routes = routes
        self.allowed = allowed
        self.metrics = metrics
        self.max_body = wiring.settings.max_body_bytes
        frontend = wiring.settings.frontend_dir
        self.static: ASGIApp | None = (
            StaticFiles(directory=frontend, html=True)
            if wiring.settings.serve_frontend and frontend.is_dir()
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        deps.WIRING.set(self.wiring)
        request_state: dict[str, str] = {}
        deps.REQUEST_STATE.set(request_state)
        request_id = _request_id(scope)
        client = scope.get("client")
        client_ip = client[0] if client else None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, client_ip=client_ip)
        # Connexion copies the scope shallowly; a shared `extensions` dict carries its routing
        # result (the operationId) back to us for the access log.
        scope.setdefault("extensions", {})
        started = time.perf_counter()
        state = {"status": 500}
        path: str = scope["path"]
        headers = _headers_for(path)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                raw = message.setdefault("headers", [])
                raw.append((b"x-request-id", request_id.encode()))
                raw.extend(headers)
                if message["status"] == 405:
                    self._fix_allow(path, raw)
            await send(message)

        try:
            await self._dispatch(scope, receive, send_wrapper, path)
        finally:
            self._log(scope, state["status"], started, request_state)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if path == "/metrics" and self.metrics is not None:
            await self.metrics.serve(scope, send, self.wiring.settings)
            return
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            if path.endswith("/") and not path.startswith(DOCS_PREFIX):
                # Not a redirect: Starlette's would name whatever host the caller sent.
                await _send_error(send, 404, "not_found", errors.http_message(404))
                return
            length = _content_length(scope)
            if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
                # No Content-Length (chunked): read up to the limit before the app sees it.
                buffered = await _buffer(receive, self.max_body)
                if buffered is None:
                    length = self.max_body + 1
                else:
                    receive, length = buffered
            if length is not None and length > self.max_body:
                await _send_error(send, 413, "payload_too_large", "The request body is too large.")
                return
            if (
                length != 0
                and scope["method"] in ("POST", "PUT", "PATCH")
                and not _media_type_lowered(scope)
            ):
                await _send_error(
                    send,
                    415,
                    "unsupported_media_type",
                    "The request body must be application/json.",
                )
                return
            await self.api(scope, receive, send)
            return
        await self._static(scope, receive, send)

    async def _static(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.static is None or scope["method"] not in ("GET", "HEAD"):
            status = 404 if self.static is None else 405
            await _send_error(send, status, errors.http_code(status), errors.http_message(status))
            return
        try:
            await self.static(scope, receive, send)
        except HTTPException as exc:
            code = exc.status_code
            await _send_error(send, code, errors.http_code(code), errors.http_message(code))

    def _fix_allow(self, path: str, raw: list[tuple[bytes, bytes]]) -> None:
        for pattern, methods in self.allowed:
            if pattern.match(path):
                raw[:] = [(k, v) for k, v in raw if k.lower() != b"allow"]
                raw.append((b"allow", methods.encode()))
                return

    def _log(
        self, scope: Scope, status: int, started: float, request_state: dict[str, str]
    ) -> None:
        elapsed = time.perf_counter() - started
        extensions = scope.get("extensions") or {}
        operation = (extensions.get("connexion_routing") or {}).get("operation_id")
        route = self.routes.get(operation, "unmatched") if operation else _static_route(scope)
        if self.metrics is not None:
            self.metrics.observe(
                scope["method"], route, status, elapsed, request_state.get("movement")
            )
        self.access_log.write(
            route=route,
            method=scope["method"],
            status=status,
            user_id=request_state.get("user_id"),
            duration_ms=round(elapsed * 1000, 3),
        )


class AccessLog:
    """One JSON line per request. In JSON mode at INFO it is rendered directly (the structlog +
    stdlib chain costs ~0.1 ms a line); every field is ours, so nothing needs redacting."""

    def __init__(self, fast: bool, enabled: bool) -> None:
        self.fast = fast
        self.enabled = enabled

    @classmethod
    def for_settings(cls, settings: Any) -> AccessLog:
        enabled = logging.getLevelName(settings.log_level) <= logging.INFO
        return cls(fast=settings.log_format == "json", enabled=enabled)

    def write(
        self, *, route: str, method: str, status: int, user_id: str | None, duration_ms: float
    ) -> None:
        level = "error" if status >= 500 else "info"
        if not self.enabled and level == "info":
            return
        if not self.fast:
            getattr(access_log, level)(
                "request",
                route=route,
                method=method,
                status_code=status,
                user_id=user_id,
                duration_ms=duration_ms,
            )
            return
        bound = structlog.contextvars.get_contextvars()
        line = {
            "route": route,
            "method": method,
            "status_code": status,
            "user_id": user_id,
            "duration_ms": duration_ms,
            "event": "request",
            "request_id": bound.get("request_id"),
            "client_ip": bound.get("client_ip"),
            "level": level,
            "logger": "bank.access",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        sys.stdout.write(json.dumps(line) + "\n")


def _static_route(scope: Scope) -> str:
    path: str = scope["path"]
    if path == "/metrics":
        return "/metrics"
    return "static" if not path.startswith(API_PREFIX) else "unmatched"


def _headers_for(path: str) -> list[tuple[bytes, bytes]]:
    if path.startswith(DOCS_PREFIX):
        return _DOCS_HEADERS
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return _API_HEADERS
    return _FRONTEND_HEADERS


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text: str = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


def _media_type_lowered(scope: Scope) -> bool:
    """Whether the request has a Content-Type; its media type is made lower case in `scope`
    (media types are case-insensitive, RFC 9110 8.3.1, but Connexion matches them exactly, so
    `Application/JSON` would reach the handler unparsed)."""
    headers = scope.get("headers", ())
    for index, (key, value) in enumerate(headers):
        if key == b"content-type":
            media_type, sep, parameters = value.partition(b";")
            if media_type != media_type.lower():
                headers = list(headers)
                headers[index] = (key, media_type.lower() + sep + parameters)
                scope["headers"] = headers
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _buffer(receive: Receive, limit: int) -> tuple[Receive, int] | None:
    """Read the whole body if it fits in `limit` bytes: a replaying receive and the body's size;
    None if it does not fit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

    async def replayed() -> Message:
        return replay.pop() if replay else await receive()

    return replayed, size


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = errors.envelope(code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
