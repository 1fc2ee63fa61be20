"""A request body or parameter schema compiled into a Python check that can only say "valid".

jsonschema interprets a schema on every call: for a transfer body it costs ~11% of the request's
Python (callgrind), most of it dispatch, for a document that is almost always valid. `compile_check`
turns a schema into nested closures for the keywords our request schemas use, with the meaning
the Draft 4 request validator gives them (Connexion's, with `nullable`; plain Draft 4 for
parameters, `nullable=False`). The check is one-sided
on purpose: True means the validator would accept the document; False means "not sure", and the
caller runs the validator, which then finds the error and words it exactly as before. So a
keyword the check does not cover makes the whole schema uncompiled (None), never "assumed fine".

What is covered, as Draft 4 defines it (jsonschema 4, `_keywords` and `_legacy_keywords`):
`type` (one or a list; `integer` excludes booleans and floats, `number` excludes booleans),
`nullable`/`x-nullable` (null passes `type` and `enum`), `enum` of strings, `minimum`/`maximum`
with the Draft 4 boolean `exclusiveMinimum`/`exclusiveMaximum`, `minLength`/`maxLength`
(code points), `pattern` (`re.search`), `format` (the same format checker the validator uses),
`properties`, `required`, `additionalProperties` (true, false or a schema). A key the validator
has no rule for (`description`, `example`, the `components` Connexion adds, ...) is ignored, as
the validator ignores it. Every keyword but `type`, `enum` and `format` applies only to instances
of its own type, as in jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connexion.json_schema import Draft4RequestValidator
from jsonschema import FormatChecker

Check = Callable[[Any], bool]

# The keywords the validator has a rule for; it ignores every other key, and so does the check.
_RULES = frozenset(Draft4RequestValidator.VALIDATORS)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # Stricter than jsonschema's numbers.Number, which only means "not sure" more often.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}


def compile_check(schema: Any, formats: FormatChecker, *, nullable: bool = True) -> Check | None:
    """A check that is True only for documents `schema` accepts; None if it cannot say.
    `nullable=False` for plain Draft 4 (Connexion's parameter validator), where `nullable` means
    nothing."""
    if not isinstance(schema, dict):
        return None
    null_allowed = nullable and (schema.get("nullable") is True or schema.get("x-nullable") is True)
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword not in _RULES:  # includes nullable and the Draft 4 exclusive bounds, which
            continue  # `type`, `enum`, `minimum` and `maximum` read
        if keyword == "properties" and isinstance(value, dict):
            compiled = _properties(
                value, schema.get("additionalProperties", True), formats, nullable
            )
        elif keyword == "additionalProperties":
            compiled = _TRUE if "properties" in schema else None  # only beside properties
        else:
            compiled = _keyword(keyword, value, schema, null_allowed, formats)
        if compiled is None:
            return None
        checks.append(compiled)
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _TRUE(_: Any) -> bool:
    return True


def _keyword(
    keyword: str, value: Any, schema: dict[str, Any], nullable: bool, formats: FormatChecker
) -> Check | None:
    if keyword == "type":
        return _type(value, nullable)
    if keyword == "enum":
        return _enum(value, nullable)
    if keyword in ("minimum", "maximum"):
        return _bound(keyword, value, schema)
    if keyword in ("minLength", "maxLength") and _is_integer(value):
        limit: int = value
        if keyword == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= limit
        return lambda v: not isinstance(v, str) or len(v) <= limit
    if keyword == "pattern" and isinstance(value, str):
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword == "format" and isinstance(value, str):
        return lambda v: formats.conforms(v, value)
    if keyword == "required" and isinstance(value, list):
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(name in v for name in names)
    return None


def _type(value: Any, nullable: bool) -> Check | None:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name in _TYPES for name in names):
        return None
    predicates = [_TYPES[name] for name in names]
    if nullable:
        predicates.append(_TYPES["null"])
    if len(predicates) == 1:
        return predicates[0]
    return lambda v: any(predicate(v) for predicate in predicates)


def _enum(value: Any, nullable: bool) -> Check | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    allowed = frozenset(value)
    return lambda v: (v is None and nullable) or (isinstance(v, str) and v in allowed)


def _bound(keyword: str, value: Any, schema: dict[str, Any]) -> Check | None:
    if not _is_number(value):
        return None
    limit: float = value
    if keyword == "minimum":
        if schema.get("exclusiveMinimum", False):
            return lambda v: not _is_number(v) or v > limit
        return lambda v: not _is_number(v) or v >= limit
    if schema.get("exclusiveMaximum", False):
        return lambda v: not _is_number(v) or v < limit
    return lambda v: not _is_number(v) or v <= limit


def _properties(
    properties: dict[str, Any], additional: Any, formats: FormatChecker, nullable: bool
) -> Check | None:
    compiled: dict[str, Check] = {}
    for name, subschema in properties.items():
        check = compile_check(subschema, formats, nullable=nullable)
        if check is None:
            return None
        compiled[name] = check
    if additional is True:
        return _members(compiled, None)
    extra = _FALSE if additional is False else compile_check(additional, formats, nullable=nullable)
    return None if extra is None else _members(compiled, extra)


def _members(compiled: dict[str, Check], extra: Check | None) -> Check:
    """Each member by its property's check; others by `extra` (None: anything goes)."""

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # `properties` applies to objects only
        for name, item in value.items():
            known = compiled.get(name, extra)
            if known is not None and not known(item):
                return False
        return True

    return check


def _FALSE(_: Any) -> bool:
    return False
