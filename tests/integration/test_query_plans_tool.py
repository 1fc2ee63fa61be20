"""`python -m tests.perf.scale` writes the query plans of the hot requests on PostgreSQL: the
capture must run from the tool's event loop and show the statements inside the money
function."""

from __future__ import annotations

import asyncio

from bank.app import create_app
from bank.db.migrations import upgrade
from tests import factories as f
from tests.conftest import PostgresDatabases, make_settings
from tests.perf import scale


def test_query_plans_show_each_hot_request_and_the_money_functions_statements(
    pg_databases: PostgresDatabases,
) -> None:
    url = pg_databases.create()
    upgrade(url)
    app = create_app(make_settings(url))
    with app.test_client() as client:
        owner = f.customer(client)
        source = f.funded_account(client, owner, 1_000)
        target = f.account(client, owner)
    subject = scale.Subject(owner.headers, source["id"], target["id"])

    plans = asyncio.run(scale.capture_plans(url, subject))

    for request in ("GET /v1/statements/{id}", "GET /v1/accounts/{id}", "POST /v1/transfers"):
        assert f"## {request}" in plans
    assert "bank_post_transfer(" in plans
    assert "Update on accounts" in plans  # auto_explain's plans of the function's statements
