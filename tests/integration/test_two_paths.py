"""The money rules live twice: in the general path's Core statements (on SQLite also in the
in-process form of the one-statement functions, which runs those same UPDATEs; on PostgreSQL
for anything but a success) and in PostgreSQL's one-statement functions. Random sequences of money
movements, status changes and reused keys, run against both databases, must get the same answers
and leave the same ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bank.app import create_app
from bank.db.migrations import upgrade
from bank.domain.model import MAX_AMOUNT
from tests import factories as f
from tests.conftest import PostgresDatabases, database_url, make_settings

pytestmark = pytest.mark.postgres

# Alice owns three accounts (one in EUR), Bob one; "gone" is an id no one owns.
LABELS = ("a1", "a2", "a3", "b1", "gone")
MISSING = "00000000-0000-4000-8000-000000000000"
AMOUNTS = st.sampled_from([1, 7, 250, 999, 5_000, 100_000, MAX_AMOUNT])
KEYS = st.sampled_from([None, None, "k1", "k2", "k3"])

OPERATIONS = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(LABELS), st.sampled_from(LABELS), AMOUNTS, KEYS),
    st.tuples(st.sampled_from(["deposit", "withdrawal"]), st.sampled_from(LABELS), AMOUNTS, KEYS),
    st.tuples(
        st.just("status"),
        st.sampled_from(["a1", "a2", "b1"]),
        st.sampled_from(["active", "frozen"]),
    ),
)


@pytest.fixture(scope="module")
def clients(
    tmp_path_factory: pytest.TempPathFactory, pg_databases: PostgresDatabases
) -> Iterator[dict[str, TestClient]]:
    opened = {}
    for kind in ("sqlite", "postgres"):
        url = database_url(kind, tmp_path_factory.mktemp(kind), pg_databases)
        upgrade(url)
        app = create_app(make_settings(url))
        manager = app.test_client(raise_server_exceptions=False)
        opened[kind] = (app, manager, manager.__enter__())
    yield {kind: client for kind, (_, _, client) in opened.items()}
    for app, manager, _ in opened.values():
        manager.__exit__(None, None, None)
        app.engine.dispose()


class World:
    """One backend's customers and accounts, addressed by label."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.alice, self.bob = f.customer(client), f.customer(client)
        self.ids = {
            "a1": f.funded_account(client, self.alice, 10_000)["id"],
            "a2": f.funded_account(client, self.alice, 300)["id"],
            "a3": f.funded_account(client, self.alice, 50, "EUR")["id"],
            "b1": f.funded_account(client, self.bob, 20)["id"],
            "gone": MISSING,
        }
        self.labels = {value: key for key, value in self.ids.items()}

    def run(self, step: tuple[Any, ...]) -> Any:
        kind = step[0]
        if kind == "status":
            _, label, status = step
            owner = self.alice if label.startswith("a") else self.bob
            response = self.client.patch(
                f"/v1/accounts/{self.ids[label]}", json={"status": status}, headers=owner.headers
            )
        elif kind == "transfer":
            _, source, target, amount, key = step
            response = f.transfer(
                self.client, self.alice, self.ids[source], self.ids[target], amount, key=key
            )
        else:
            _, label, amount, key = step
            move = f.deposit if kind == "deposit" else f.withdraw
            response = move(self.client, self.alice, self.ids[label], amount, key=key)
        return self._shown(response)

    def _shown(self, response: Any) -> Any:
        body = response.json() if response.content else None
        if isinstance(body, dict) and "error" in body:
            body["error"].pop("request_id", None)
        return (
            response.status_code,
            response.headers.get("Idempotent-Replayed"),
            self._named(body),
        )

    def _named(self, value: Any) -> Any:
        """Ids as labels (accounts) or placeholders, timestamps checked for shape."""
        if isinstance(value, dict):
            return {key: self._named(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._named(item) for item in value]
        if isinstance(value, str):
            if value in self.labels:
                return self.labels[value]
            if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
                return "<id>"
            if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", value):
                return "<timestamp>"
        return value

    def ledger(self) -> dict[str, Any]:
        seen = {}
        for label in ("a1", "a2", "a3", "b1"):
            owner = self.alice if label.startswith("a") else self.bob
            rows = self.client.get(
                "/v1/transactions",
                params={"account_id": self.ids[label], "limit": 100},
                headers=owner.headers,
            ).json()["data"]
            seen[label] = (
                f.balance(self.client, owner, self.ids[label]),
                [(row["type"], row["amount"], row["balance_after"]) for row in rows],
            )
        return seen


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(OPERATIONS, min_size=1, max_size=20))
def test_both_paths_answer_the_same_and_leave_the_same_ledger(
    clients: dict[str, TestClient], steps: list[tuple[Any, ...]]
) -> None:
    general, fast = World(clients["sqlite"]), World(clients["postgres"])

    for step in steps:
        assert fast.run(step) == general.run(step), step

    assert fast.ledger() == general.ledger()
