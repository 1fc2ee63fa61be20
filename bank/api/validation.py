"""Request validation that names the failing field, parses JSON strictly, and builds each
validator once.

Connexion's stock ParameterValidator deep-copies the parameter's schema and builds a new Draft 4
validator for every parameter of every request, and its messages do not say which parameter
failed. This subclass keeps one validator per parameter and appends " - 'name'" to the message,
which bank.api.errors turns into `details.field`.

Connexion's JSON body parser turns only `JSONDecodeError` into a 400: a body nested thousands
deep (RecursionError) or an integer past Python's 4,300-digit limit (ValueError) escaped as a
500. Ours refuses every unparseable body as `MalformedBody`, and refuses what `json.loads`
would quietly accept: `NaN`/`Infinity` (not JSON) and a repeated key (`{"amount": 1, "amount":
900}` must not mean whichever came last).
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator, Callable
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator, format_error_with_path
from connexion.utils import is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from bank.api.schema_check import compile_check

PARSED_BODY = "bank.parsed_body"  # scope["extensions"] key: the body as parsed and validated

# Built once per schema object and builder. Connexion keeps the operation's schemas for the
# app's lifetime; the identity check guards against a reused id() after a schema was freed.
_BUILT: dict[tuple[int, Callable[..., Any]], tuple[dict[str, Any], Any]] = {}


def _once(schema: dict[str, Any], build: Callable[[dict[str, Any]], Any]) -> Any:
    key = (id(schema), build)
    cached = _BUILT.get(key)
    if cached is None or cached[0] is not schema:
        cached = (schema, build(schema))
        _BUILT[key] = cached
    return cached[1]


def _parameter_validator(param: dict[str, Any]) -> Draft4Validator:
    return Draft4Validator(
        param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
    )


def _body_validator(schema: dict[str, Any]) -> Any:
    return Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _parameter_check(param: dict[str, Any]) -> Any:
    return compile_check(param.get("schema", param), Draft4Validator.FORMAT_CHECKER, nullable=False)


def _body_check(schema: dict[str, Any]) -> Any:
    return compile_check(schema, Draft4Validator.FORMAT_CHECKER)


def scope_header_values(scope: Any, name: bytes) -> list[str]:
    """The values of header `name` (lower-case) in an ASGI scope, as Starlette's
    `Headers.getlist` reads them, without building a request object."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


class NamingParameterValidator(ParameterValidator):  # type: ignore[misc]  # untyped base
    def validate(self, scope: Any) -> None:
        """As the stock `validate`; but a request without a query string, to an operation whose
        parameters are headers and optional query parameters (the money writes), has only its
        headers to check, and they are read from the scope as `Headers.get` reads them: no
        request object is built for it."""
        if scope.get("query_string") or not self._headers_only:
            super().validate(scope)
            return
        for param in self.parameters.get("header", []):
            values = scope_header_values(scope, param["name"].lower().encode("latin-1"))
            error = self.validate_parameter("header", values[0] if values else None, param)
            if error:
                raise BadRequestProblem(detail=error)

    @functools.cached_property
    def _headers_only(self) -> bool:
        parameters = self.parameters
        return (
            not parameters.get("path")
            and not parameters.get("cookie")
            and not any(param.get("required") for param in parameters.get("query", []))
        )

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'"
            return None
        if is_nullable(param) and value in ("null", "None"):
            return None
        accepts = _once(param, _parameter_check)
        if accepts is not None and accepts(value):
            return None  # as the validator would say (bank.api.schema_check)
        try:
            _once(param, _parameter_validator).validate(value)
        except ValidationError as exc:
            return f"{exc.message} - '{param['name']}'"
        return None


class MalformedBody(BadRequestProblem):  # type: ignore[misc]  # untyped base
    """The body is not one well-formed JSON document (400 `malformed_body`)."""

    def __init__(self) -> None:
        super().__init__(detail="The request body is not valid JSON.")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """`json.loads`, strictly (see the module docstring); MalformedBody for anything else."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise MalformedBody() from None


class CachedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]  # untyped base
    """Connexion's JSON body validator, but strict about what it parses, naming the field of
    every schema error (`body` for the document itself), and with the Draft 4 validator built
    once per operation schema (the stock one builds a new one for every request)."""

    @property
    def _validator(self) -> Any:
        return _once(self._schema, _body_validator)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Any) -> Any:
        body = b"".join([message async for message in stream]).decode(self._encoding)
        parsed = parse_json(body) if body else None
        # The handler's arguments take this document rather than parsing the bytes again
        # (bank.api.connexion_once); a body that fails validation never reaches a handler.
        extensions = scope.get("extensions")
        if extensions is not None:
            extensions[PARSED_BODY] = parsed
        return parsed

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if not self._nullable and body is None:
            raise BadRequestProblem(detail="The request body must not be empty - 'body'")
        accepts = _once(self._schema, _body_check)
        if accepts is not None and accepts(body):
            return None  # what the validator would say, ~10x sooner (bank.api.schema_check)
        try:
            result: dict[str, Any] | None = self._validator.validate(body)
        except ValidationError as exc:
            path = format_error_with_path(exception=exc)
            if not path and exc.validator not in ("required", "additionalProperties"):
                path = " - 'body'"  # the document itself (not an object, ...)
            raise BadRequestProblem(detail=f"{exc.message}{path}") from None
        return result


def validator_map() -> dict[str, Any]:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = CachedJSONBodyValidator
    return {"parameter": NamingParameterValidator, "body": body}
