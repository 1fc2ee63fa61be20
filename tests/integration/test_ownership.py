"""Issue 3: every operation of the contract that takes an id treats another customer's object
exactly like a missing one (404), and lists never include it.

The operations are derived from openapi/bank.yaml: a new id-taking operation is covered
automatically, and a new kind of id fails this test until it is given an owner's object below.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from bank.app import load_spec
from tests import factories as f

SPEC = load_spec()
ID_PATTERN = re.compile(r"(^|_)id$")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    return schema


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    components = SPEC["components"]["parameters"]
    return [
        components[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
        for p in operation.get("parameters", [])
    ]


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _resolve(content["application/json"]["schema"])


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    id_params: tuple[str, ...]
    id_fields: tuple[str, ...]
    body_example: dict[str, Any] | None


def id_taking_operations() -> list[Operation]:
    found = []
    for template, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            params = tuple(
                p["name"]
                for p in _parameters(operation)
                if p["in"] in ("path", "query") and ID_PATTERN.search(p["name"])
            )
            body = _body_schema(operation)
            fields = tuple(
                name for name in (body or {}).get("properties", {}) if ID_PATTERN.search(name)
            )
            if params or fields:
                example = copy.deepcopy(body.get("example")) if body else None
                found.append(
                    Operation(
                        method.upper(),
                        "/v1" + template,
                        operation["operationId"],
                        params,
                        fields,
                        example,
                    )
                )
    return found


OPERATIONS = id_taking_operations()


@dataclass
class World:
    owner: f.Customer
    intruder: f.Customer
    objects: dict[str, str]  # id name -> the owner's object
    intruder_account: str


@pytest.fixture(scope="module")
def world(client: TestClient) -> World:
    owner, intruder = f.customer(client), f.customer(client)
    source = f.funded_account(client, owner, 10_000)
    second = f.account(client, owner)
    moved = f.transfer(client, owner, source["id"], second["id"], 100).json()
    rows = client.get(f"/v1/transactions?account_id={source['id']}", headers=owner.headers)
    card = client.post(
        "/v1/cards", json={"account_id": source["id"], "type": "virtual"}, headers=owner.headers
    ).json()
    intruder_account = f.funded_account(client, intruder, 5_000)
    objects = {
        "holder_id": owner.holder_id,
        "account_id": source["id"],
        "from_account_id": source["id"],
        "transaction_id": rows.json()["data"][0]["id"],
        "transfer_id": moved["id"],
        "card_id": card["id"],
    }
    return World(owner, intruder, objects, intruder_account["id"])


def _request(world: World, op: Operation) -> tuple[str, dict[str, str], dict[str, Any] | None]:
    path, query = op.template, {}
    for name in op.id_params:
        assert name in world.objects, f"{op.operation_id}: no owner's object for id '{name}'"
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", world.objects[name])
        else:
            query[name] = world.objects[name]
    body = None
    if op.body_example is not None:
        body = dict(op.body_example)
        for name in op.id_fields:
            if name == "to_account_id":  # paying someone else is allowed: aim at our own
                body[name] = world.intruder_account
            else:
                assert name in world.objects, f"{op.operation_id}: no object for field '{name}'"
                body[name] = world.objects[name]
    return path, query, body


def test_the_contract_has_id_taking_operations() -> None:
    ids = {op.operation_id for op in OPERATIONS}

    assert {
        "get_account",
        "update_account",
        "get_card",
        "update_card",
        "get_statement",
        "create_transfer",
        "create_transaction",
        "create_card",
        "get_transaction",
        "get_transfer",
        "get_account_holder",
        "list_transactions",
    } <= ids


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_foreign_object_answers_like_a_missing_one(
    client: TestClient, world: World, op: Operation
) -> None:
    path, query, body = _request(world, op)
    headers = {**world.intruder.headers, "Idempotency-Key": str(uuid.uuid4())}

    response = client.request(op.method, path, params=query, json=body, headers=headers)

    assert response.status_code == 404, (op.operation_id, response.text)
    assert f.error_code(response) == "not_found"


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_foreign_answer_equals_missing_answer(
    client: TestClient, world: World, op: Operation
) -> None:
    path, query, body = _request(world, op)
    missing = World(
        world.owner,
        world.intruder,
        {k: str(uuid.uuid4()) for k in world.objects},
        world.intruder_account,
    )
    m_path, m_query, m_body = _request(missing, op)
    headers = world.intruder.headers

    foreign = client.request(op.method, path, params=query, json=body, headers=headers)
    absent = client.request(op.method, m_path, params=m_query, json=m_body, headers=headers)

    assert foreign.status_code == absent.status_code == 404
    assert foreign.json()["error"]["message"] == absent.json()["error"]["message"]


def test_intruder_changed_nothing(client: TestClient, world: World) -> None:
    account = client.get(
        f"/v1/accounts/{world.objects['account_id']}", headers=world.owner.headers
    ).json()
    card = client.get(f"/v1/cards/{world.objects['card_id']}", headers=world.owner.headers).json()

    assert account["balance"] == 9_900 and account["status"] == "active"
    assert card["status"] == "active"


@pytest.mark.parametrize(
    "path",
    ["/v1/accounts", "/v1/transactions", "/v1/transfers", "/v1/cards", "/v1/account-holders"],
)
def test_lists_never_include_foreign_objects(client: TestClient, world: World, path: str) -> None:
    response = client.get(path, params={"limit": 100}, headers=world.intruder.headers)

    assert response.status_code == 200
    text = response.text
    for name, value in world.objects.items():
        if name != "holder_id" or path == "/v1/account-holders":
            assert value not in text, (path, name)


def test_customer_holder_list_is_their_own(client: TestClient, world: World) -> None:
    response = client.get("/v1/account-holders", headers=world.intruder.headers)

    assert [h["id"] for h in response.json()["data"]] == [world.intruder.holder_id]
    assert response.json()["pagination"]["total"] == 1
