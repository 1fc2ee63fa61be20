"""Parameter validation that names the parameter in its error and builds each validator once.

Connexion's stock ParameterValidator deep-copies the parameter's schema and builds a new Draft 4
validator for every parameter of every request, and its messages do not say which parameter
failed. This subclass keeps one validator per parameter and appends " - 'name'" to the message,
which bank.api.errors turns into `details.field`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.utils import is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

# Built once per schema object. Connexion keeps the operation's schemas for the app's lifetime;
# the identity check guards against a reused id() after a schema was freed.
_BUILT: dict[int, tuple[dict[str, Any], Any]] = {}


def _once(schema: dict[str, Any], build: Callable[[dict[str, Any]], Any]) -> Any:
    cached = _BUILT.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, build(schema))
        _BUILT[id(schema)] = cached
    return cached[1]


def _parameter_validator(param: dict[str, Any]) -> Draft4Validator:
    return Draft4Validator(
        param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
    )


def _body_validator(schema: dict[str, Any]) -> Any:
    return Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


class NamingParameterValidator(ParameterValidator):  # type: ignore[misc]
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
        try:
            _once(param, _parameter_validator).validate(value)
        except ValidationError as exc:
            return f"{exc.message} - '{param['name']}'"
        return None


class CachedJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """Connexion's JSON body validator, but the Draft 4 validator is built once per operation
    schema (the stock one builds a new one for every request)."""

    @property
    def _validator(self) -> Any:
        return _once(self._schema, _body_validator)


def validator_map() -> dict[str, Any]:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = CachedJSONBodyValidator
    return {"parameter": NamingParameterValidator, "body": body}
