"""An account read is one statement: the token's revocation and the account row together. A
statement page reads in one snapshot. On PostgreSQL both go out on an asynchronous connection,
so the worker's event loop serves other requests while the server answers. On both databases
the answers are those of a token check followed by a scoped read: a revoked token is refused
first, and a foreign account is exactly a missing one."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from bank.app import BankApp
from tests import factories as f
from tests.integration.recording import record_statements


def test_postgres_reads_an_account_in_one_statement_on_an_asynchronous_connection(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads in process: no round trips to save")
    alice = f.customer(client)
    account = f.funded_account(client, alice, 250)
    client.get(f"/v1/accounts/{account['id']}", headers=alice.headers)  # token verified, cached
    synchronous, asynchronous = record_statements(monkeypatch)

    response = client.get(f"/v1/accounts/{account['id']}", headers=alice.headers)

    assert response.status_code == 200
    assert response.json()["balance"] == 250
    assert synchronous == []
    assert len(asynchronous) == 1, asynchronous
    assert "revoked_tokens" in asynchronous[0] and "accounts" in asynchronous[0]


def test_an_account_read_answers_the_owner_and_an_admin_and_no_one_else(
    client: TestClient, db_url: str
) -> None:
    from bank.db.engine import make_engine
    from bank.db.uow import SqlAlchemyUnitOfWork
    from bank.services.users import create_admin

    alice, mallory = f.customer(client), f.customer(client)
    account = f.funded_account(client, alice, 700)
    email = f.unique_email("admin")
    engine = make_engine(db_url)
    create_admin(SqlAlchemyUnitOfWork(engine), email, f.PASSWORD, 4)
    engine.dispose()
    admin = {"Authorization": f"Bearer {f.login(client, email)['access_token']}"}

    mine = client.get(f"/v1/accounts/{account['id']}", headers=alice.headers)
    seen = client.get(f"/v1/accounts/{account['id']}", headers=admin)
    foreign = client.get(f"/v1/accounts/{account['id']}", headers=mallory.headers)
    missing = client.get(f"/v1/accounts/{uuid.uuid4()}", headers=mallory.headers)
    missing_for_admin = client.get(f"/v1/accounts/{uuid.uuid4()}", headers=admin)

    assert mine.status_code == seen.status_code == 200
    assert mine.json() == seen.json() == account | {"balance": 700}
    for refused in (foreign, missing, missing_for_admin):
        assert refused.status_code == 404
        assert f.error_code(refused) == "not_found"
    assert foreign.json()["error"]["message"] == missing.json()["error"]["message"]


@pytest.mark.parametrize("whose", ["own", "foreign", "missing"])
def test_a_revoked_token_is_refused_before_the_account_is_looked_up(
    client: TestClient, whose: str
) -> None:
    alice, bob = f.customer(client), f.customer(client)
    target = {
        "own": lambda: f.account(client, alice)["id"],
        "foreign": lambda: f.account(client, bob)["id"],
        "missing": lambda: str(uuid.uuid4()),
    }[whose]()
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204

    response = client.get(f"/v1/accounts/{target}", headers=alice.headers)

    assert response.status_code == 401
    assert f.error_code(response) == "token_revoked"


def test_postgres_reads_a_statement_page_in_one_snapshot_on_an_asynchronous_connection(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads in process: no round trips to save")
    alice = f.customer(client)
    account = f.funded_account(client, alice, 900)
    f.withdraw(client, alice, account["id"], 100)
    client.get(f"/v1/statements/{account['id']}", headers=alice.headers)  # warm
    synchronous, asynchronous = record_statements(monkeypatch)

    response = client.get(f"/v1/statements/{account['id']}", headers=alice.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["closing_balance"] == body["account"]["balance"] == 800
    assert [row["balance_after"] for row in body["transactions"]] == [900, 800]
    assert synchronous == []
    assert asynchronous[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    assert asynchronous[-1] == "COMMIT"
    assert len(asynchronous) == 6, asynchronous  # token and account, two positions, the page


def test_statements_refused_on_postgres_keep_their_connection(
    app: BankApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connections to keep")
    alice, bob = f.customer(client), f.customer(client)
    foreign = f.account(client, bob)["id"]
    client.get(f"/v1/statements/{foreign}", headers=alice.headers)  # warm
    opened: list[int] = []
    connect = psycopg.AsyncConnection.connect

    async def counting_connect(*args: Any, **kw: Any) -> Any:
        opened.append(1)
        return await connect(*args, **kw)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", counting_connect)

    refused = [
        client.get(f"/v1/statements/{target}", headers=alice.headers)
        for target in (foreign, str(uuid.uuid4()), foreign)
    ]

    assert [r.status_code for r in refused] == [404, 404, 404]
    assert {f.error_code(r) for r in refused} == {"not_found"}
    assert opened == []  # rolled back and handed back, not closed and opened again


@pytest.mark.parametrize("whose", ["own", "missing"])
def test_a_revoked_token_gets_no_statement(client: TestClient, whose: str) -> None:
    alice = f.customer(client)
    target = f.funded_account(client, alice, 5)["id"] if whose == "own" else str(uuid.uuid4())
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204

    response = client.get(f"/v1/statements/{target}", headers=alice.headers)

    assert response.status_code == 401
    assert f.error_code(response) == "token_revoked"
