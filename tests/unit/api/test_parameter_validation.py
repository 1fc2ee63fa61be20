"""The parameter validator's scope-only path (a request without a query string, to an
operation with header and optional query parameters only) must answer exactly as Connexion's
stock path, which builds a request object to read the same values."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.exceptions import BadRequestProblem, ExtraParameterProblem
from connexion.uri_parsing import OpenAPIURIParser
from connexion.validators import ParameterValidator

from bank.api.validation import NamingParameterValidator

KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z0-9-]+$"},
}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}
TRACE = {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}}


def _validator(parameters: list[dict[str, Any]]) -> NamingParameterValidator:
    return NamingParameterValidator(
        parameters, uri_parser=OpenAPIURIParser(parameters, {}), strict_validation=True
    )


def _outcome(validate: Any, scope: dict[str, Any]) -> tuple[str, str] | None:
    try:
        validate(scope)
    except (BadRequestProblem, ExtraParameterProblem) as exc:
        return type(exc).__name__, str(exc.detail)
    return None


def _scope(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/transfers",
        "query_string": query,
        "headers": headers,
        "path_params": {},
    }


@pytest.mark.parametrize("parameters", [[KEY], [KEY, LIMIT], [KEY, TRACE], []])
@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ([], b""),
        ([(b"idempotency-key", b"abc-1")], b""),
        ([(b"idempotency-key", b"")], b""),
        ([(b"idempotency-key", b"TOO-LONG-KEY")], b""),
        ([(b"idempotency-key", b"ok"), (b"idempotency-key", b"BAD!")], b""),
        ([(b"idempotency-key", b"BAD!"), (b"idempotency-key", b"ok")], b""),
        ([(b"x-trace", b"t"), (b"idempotency-key", b"caf\xc3\xa9")], b""),
        ([(b"idempotency-key", b"abc")], b"limit=5"),
        ([(b"idempotency-key", b"abc")], b"other=1"),
    ],
)
def test_the_scope_only_path_answers_as_the_stock_path(
    parameters: list[dict[str, Any]], headers: list[tuple[bytes, bytes]], query: bytes
) -> None:
    validator = _validator(parameters)
    scope = _scope(headers, query)

    ours = _outcome(validator.validate, scope)
    stock = _outcome(lambda s: ParameterValidator.validate(validator, s), scope)

    assert ours == stock
