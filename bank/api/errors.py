"""Exception -> status and envelope, once, for our errors and for Connexion's and Starlette's."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import structlog
from connexion.exceptions import (
    ExtraParameterProblem,
    NonConformingResponse,
    OAuthProblem,
    ProblemException,
    ResolverProblem,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from bank.api.validation import MalformedBody
from bank.domain.errors import BankError, TooManyRequests
from bank.domain.serialize import COMPACT

log = structlog.get_logger("bank.errors")

JSON = "application/json"
_STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}
_MESSAGES = {
    401: "Authentication is required.",
    403: "You may not take this action.",
    404: "The resource was not found.",
    405: "This method is not allowed on this path.",
    413: "The request body is too large.",
    415: "The request body must be application/json.",
    500: "An unexpected error occurred.",
    501: "This operation is not implemented yet.",
    503: "The service is temporarily unavailable.",
}
_ENVELOPE = json.JSONEncoder(separators=COMPACT, default=str)  # built once (see serialize)
_REFUSED_TOKEN = frozenset({"invalid_token", "token_expired", "token_revoked"})
_REQUIRED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is a required property")
_UNEXPECTED = re.compile(r"\('([A-Za-z_][A-Za-z0-9_]*)' (?:was|were) unexpected\)")
_PARAMETER = re.compile(r"(?:query|path|header) parameter '?([A-Za-z_][A-Za-z0-9_-]*)'?")
_TRAILING = re.compile(r" - '([A-Za-z_][A-Za-z0-9_.-]*)'$")
_PROPERTY_PATH = re.compile(r"\['properties'\]\['([^']+)'\]")


def request_id() -> str:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else ""


def envelope(code: str, message: str, details: Mapping[str, Any] | None = None) -> bytes:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": dict(details or {}),
            "request_id": request_id(),
        }
    }
    return _ENVELOPE.encode(body).encode()


def response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype=JSON,
        content_type=JSON,
        body=envelope(code, message, details),
        headers=dict(headers or {}),
    )


async def bank_error(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, BankError)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        # RFC 6750 3.1: a token was sent and refused (expired, revoked, malformed, forged).
        refused = exc.code in _REFUSED_TOKEN
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if refused else "Bearer"
    if exc.replayed:
        headers["Idempotent-Replayed"] = "true"
    if exc.status >= 500:
        log.warning("request_failed", code=exc.code, status=exc.status)
    return response(exc.status, exc.code, exc.message, exc.details, headers)


def _problem_message(exc: ProblemException) -> tuple[str, dict[str, Any]]:
    """Connexion's detail text: keep the first paragraph, name the field when we can."""
    detail = str(exc.detail or exc.title or "")
    first = detail.split("\n\n", 1)[0].strip()
    details: dict[str, Any] = {}
    if isinstance(exc, ExtraParameterProblem):
        extra = re.search(r"parameter\(s\) (.*) not in spec", first)
        details["extra_parameters"] = extra.group(1).split(",") if extra else []
        if details["extra_parameters"]:
            details["field"] = details["extra_parameters"][0]
        return first[:500], details
    field = _field(first, detail)
    if field:
        details["field"] = field
    return first[:500] or _MESSAGES.get(exc.status, "The request is invalid."), details


def _field(first: str, detail: str) -> str | None:
    for pattern in (_REQUIRED, _UNEXPECTED, _TRAILING, _PARAMETER):
        match = pattern.search(first)
        if match:
            return match.group(1)
    properties = _PROPERTY_PATH.findall(detail)
    return properties[-1] if properties else None


async def problem_error(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = exc.status
    if isinstance(exc, OAuthProblem):
        return response(401, "unauthorized", _MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return response(415, "unsupported_media_type", _MESSAGES[415])
    if isinstance(exc, ResolverProblem):
        return response(501, "not_implemented", _MESSAGES[501])
    if isinstance(exc, NonConformingResponse) or status >= 500:
        log.error("response_not_conforming", detail=str(exc.detail)[:2000])
        return response(500, "internal_error", _MESSAGES[500])
    if isinstance(exc, MalformedBody):
        return response(400, "malformed_body", "The request body is not valid JSON.")
    message, details = _problem_message(exc)
    code = "validation_error" if status == 400 else _STATUS_CODES.get(status, "error")
    return response(status, code, message, details)


async def http_error(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _STATUS_CODES.get(status, "error")
    message = _MESSAGES.get(status) or str(exc.detail or "The request failed.")
    headers = dict(exc.headers or {})
    return response(status, code, message, headers=headers)


async def malformed_body(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return response(400, "malformed_body", "The request body is not valid UTF-8 JSON.")


async def pydantic_error(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ValidationError)
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    return response(
        400, "validation_error", f"{field}: {first.get('msg', 'invalid')}", {"field": field}
    )


async def unexpected_error(_: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled_exception", exc_info=exc)
    return response(500, "internal_error", _MESSAGES[500])


def http_code(status: int) -> str:
    return _STATUS_CODES.get(status, "error")


def http_message(status: int) -> str:
    return _MESSAGES.get(status, "The request failed.")
