"""The compiled body check says "valid" only where the Draft 4 request validator does."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator, resolve_refs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from bank.api import formats
from bank.api.schema_check import compile_check
from bank.app import load_spec

formats.register()
FORMATS = Draft4Validator.FORMAT_CHECKER


def _request_schemas() -> dict[str, dict[str, Any]]:
    spec = resolve_refs(load_spec())
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body:
                found[f"{method} {path}"] = body["content"]["application/json"]["schema"]
    return found


SCHEMAS = _request_schemas()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
    | st.sampled_from(["USD", "EUR", "deposit", "withdrawal", "frozen", "active", "virtual"])
    | st.uuids().map(str)
    | st.sampled_from(["1990-01-01", "1990-02-30", "a@b.example.com", "x" * 141, "a\x00b"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=20), children, max_size=3)
    ),
    max_leaves=8,
)


def _accepted(schema: dict[str, Any], document: Any) -> bool:
    validator = Draft4RequestValidator(schema, format_checker=FORMATS)
    return not any(True for _ in validator.iter_errors(document))


def edges(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values at and just past each of a property's limits, of the right type and not."""
    values: list[Any] = [None, True, 0, 1.5, "", "x", [], {}]
    for key in ("minimum", "maximum"):
        if key in schema:
            values += [schema[key] - 1, schema[key], schema[key] + 1, float(schema[key])]
    for key in ("minLength", "maxLength"):
        if key in schema:
            values += ["a" * max(0, schema[key] + delta) for delta in (-1, 0, 1)]
            values += ["é" * schema[key], "\x00" * max(1, schema[key])]
    values += list(schema.get("enum", [])) + [
        str(value).lower() for value in schema.get("enum", [])
    ]
    example = schema.get("example")
    if isinstance(example, str):
        values += [example, example + "\x00", " " + example, example.upper(), example[:-1]]
    return st.sampled_from(values) | json_values


@st.composite
def near_examples(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """The schema's example with members replaced by edge values, removed or added."""
    document = dict(schema.get("example") or {})
    properties = schema.get("properties", {})
    names = sorted(set(properties) | set(document) | {"extra"})
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(names))
        if draw(st.integers(0, 3)):
            document[name] = draw(edges(properties.get(name, {})))
        else:
            document.pop(name, None)
    return document


def test_every_request_body_schema_of_the_contract_compiles_and_accepts_its_example() -> None:
    assert SCHEMAS
    for name, schema in SCHEMAS.items():
        check = compile_check(schema, FORMATS)
        assert check is not None, name
        if "example" in schema:
            assert check(schema["example"]), name
            assert _accepted(schema, schema["example"]), name


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_check_accepts_the_validator_accepts(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    check = compile_check(schema, FORMATS)
    assert check is not None
    document = data.draw(near_examples(schema) | json_values)
    # "Not sure" (False) is always safe: the validator then decides. "Valid" must be right.
    assert not check(document) or _accepted(schema, document), document


@pytest.mark.parametrize(
    ("schema", "document", "expected"),
    [
        ({"type": "integer"}, True, False),  # a boolean is not an integer
        ({"type": "integer"}, 5.0, False),  # nor, in Draft 4, an integral float
        ({"type": "number"}, False, False),
        ({"type": "string", "nullable": True}, None, True),
        ({"type": "string"}, None, False),
        ({"enum": ["a", "b"]}, "a", True),
        ({"enum": ["a", "b"]}, "c", False),
        ({"enum": ["a"], "nullable": True}, None, True),
        ({"minimum": 1, "exclusiveMinimum": True}, 1, False),
        ({"minimum": 1}, 1, True),
        ({"maximum": 10, "exclusiveMaximum": True}, 10, False),
        ({"maximum": 10}, "not a number", True),  # bounds apply to numbers only
        ({"maxLength": 2}, "ab", True),
        ({"maxLength": 2}, "abc", False),
        ({"minLength": 2}, "a", False),
        ({"pattern": "^[a-z]+$"}, "abc", True),
        ({"pattern": "^[a-z]+$"}, "ab1", False),
        ({"format": "uuid"}, "not-a-uuid", False),
        ({"format": "date"}, "2024-02-30", False),
        ({"required": ["a"]}, {"b": 1}, False),
        ({"required": ["a"]}, [], True),  # required applies to objects only
        ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"b": 1}, False),
        ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"b": 1}, True),
        ({"type": "object", "components": {"x": 1}, "description": "ignored"}, {}, True),
    ],
)
def test_each_keyword_means_what_draft_4_says(
    schema: dict[str, Any], document: Any, expected: bool
) -> None:
    check = compile_check(schema, FORMATS)
    assert check is not None
    assert check(document) is expected
    assert _accepted(schema, document) is expected


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/components/schemas/Money"},
        {"oneOf": [{"type": "string"}]},
        {"items": {"type": "string"}},
        {"patternProperties": {"^x": {}}},
        {"enum": [1, 2]},  # only string enums are compiled
        {"type": "decimal"},
        {"properties": {"a": {"allOf": []}}},
        {"additionalProperties": False},  # without properties
    ],
)
def test_a_keyword_it_does_not_cover_leaves_the_schema_to_the_validator(
    schema: dict[str, Any],
) -> None:
    assert compile_check(schema, FORMATS) is None


def _parameter_schemas() -> dict[str, dict[str, Any]]:
    spec = resolve_refs(load_spec())
    found = {}
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                for param in operation.get("parameters", []):
                    found[f"{param['in']} {param['name']}"] = param["schema"]
    return found


PARAMETERS = _parameter_schemas()


@pytest.mark.parametrize("name", sorted(PARAMETERS))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_parameters_too_what_the_check_accepts_plain_draft_4_accepts(
    name: str, data: st.DataObject
) -> None:
    schema = PARAMETERS[name]
    check = compile_check(schema, FORMATS, nullable=False)
    assert check is not None
    value = data.draw(edges(schema) | st.text(max_size=300) | st.uuids().map(str))
    validator = Draft4Validator(schema, format_checker=FORMATS)
    assert not check(value) or validator.is_valid(value), value
    if "example" in schema:
        assert check(schema["example"])


def test_without_nullable_null_is_only_what_the_type_says() -> None:
    schema = {"type": "string", "nullable": True}
    check = compile_check(schema, FORMATS, nullable=False)
    assert check is not None
    assert check(None) is False
    assert Draft4Validator(schema).is_valid(None) is False
