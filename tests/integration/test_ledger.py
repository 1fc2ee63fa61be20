"""Issue 4: accounts, deposits, withdrawals, transfers, idempotency, statements."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from tests import factories as f
from tests.integration.conftest import AppFactory


@pytest.fixture
def alice(client: TestClient) -> f.Customer:
    return f.customer(client)


def test_new_account_starts_empty_and_active(client: TestClient, alice: f.Customer) -> None:
    created = f.account(client, alice, "EUR", "savings")

    assert created["balance"] == 0
    assert created["status"] == "active"
    assert created["currency"] == "EUR" and created["type"] == "savings"
    assert created["holder_id"] == alice.holder_id


@pytest.mark.parametrize(
    "field", [{"balance": 100}, {"status": "frozen"}, {"id": str(uuid.uuid4())}]
)
def test_account_create_rejects_mass_assignment(
    client: TestClient, alice: f.Customer, field: dict[str, object]
) -> None:
    response = client.post(
        "/v1/accounts", json={"type": "checking", "currency": "USD", **field}, headers=alice.headers
    )

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"


def test_unsupported_currency_is_400(client: TestClient, alice: f.Customer) -> None:
    response = client.post(
        "/v1/accounts", json={"type": "checking", "currency": "JPY"}, headers=alice.headers
    )

    assert response.status_code == 400


def test_customer_may_name_own_holder_only(client: TestClient, alice: f.Customer) -> None:
    bob = f.customer(client)

    own = client.post(
        "/v1/accounts",
        json={"type": "checking", "currency": "USD", "holder_id": alice.holder_id},
        headers=alice.headers,
    )
    other = client.post(
        "/v1/accounts",
        json={"type": "checking", "currency": "USD", "holder_id": bob.holder_id},
        headers=alice.headers,
    )

    assert own.status_code == 201
    assert other.status_code == 404


def test_list_accounts_is_paginated_in_creation_order(
    client: TestClient, alice: f.Customer
) -> None:
    ids = [f.account(client, alice)["id"] for _ in range(3)]

    first = client.get("/v1/accounts?limit=2", headers=alice.headers).json()
    second = client.get("/v1/accounts?limit=2&offset=2", headers=alice.headers).json()

    assert [a["id"] for a in first["data"] + second["data"]] == ids
    assert first["pagination"] == {"limit": 2, "offset": 0, "total": 3}


def test_deposit_raises_balance_and_reports_it(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)

    response = f.deposit(client, alice, account["id"], 1250)

    assert response.status_code == 201
    assert response.json()["balance_after"] == 1250
    assert response.json()["type"] == "deposit" and response.json()["transfer_id"] is None
    assert f.balance(client, alice, account["id"]) == 1250


def test_withdrawal_lowers_balance(client: TestClient, alice: f.Customer) -> None:
    account = f.funded_account(client, alice, 1000)

    response = f.withdraw(client, alice, account["id"], 400)

    assert response.status_code == 201
    assert response.json()["balance_after"] == 600


def test_overdraw_is_409_and_changes_nothing(client: TestClient, alice: f.Customer) -> None:
    account = f.funded_account(client, alice, 1000)

    response = f.withdraw(client, alice, account["id"], 1001)

    assert response.status_code == 409
    assert f.error_code(response) == "insufficient_funds"
    assert f.balance(client, alice, account["id"]) == 1000
    rows = client.get(f"/v1/transactions?account_id={account['id']}", headers=alice.headers)
    assert rows.json()["pagination"]["total"] == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", 10**15 + 1, 2**63])
def test_bad_amounts_are_400(client: TestClient, alice: f.Customer, amount: object) -> None:
    account = f.account(client, alice)

    response = client.post(
        "/v1/transactions",
        headers=alice.headers,
        json={"account_id": account["id"], "type": "deposit", "amount": amount, "currency": "USD"},
    )

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert f.balance(client, alice, account["id"]) == 0


def test_maximum_amount_is_accepted(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)

    assert f.deposit(client, alice, account["id"], 10**15).status_code == 201


def test_currency_mismatch_is_400(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice, "USD")

    response = f.deposit(client, alice, account["id"], 100, currency="EUR")

    assert response.status_code == 400
    assert f.error_code(response) == "currency_mismatch"


def test_deposit_to_unknown_account_is_404(client: TestClient, alice: f.Customer) -> None:
    response = f.deposit(client, alice, str(uuid.uuid4()), 100)

    assert response.status_code == 404


def test_transfer_moves_money_atomically(client: TestClient, alice: f.Customer) -> None:
    source = f.funded_account(client, alice, 1000)
    target = f.account(client, alice)

    response = f.transfer(client, alice, source["id"], target["id"], 300)

    assert response.status_code == 201
    moved = response.json()
    assert moved["amount"] == 300 and moved["from_account_id"] == source["id"]
    assert f.balance(client, alice, source["id"]) == 700
    assert f.balance(client, alice, target["id"]) == 300
    rows = client.get(f"/v1/transactions?account_id={target['id']}", headers=alice.headers)
    (row,) = rows.json()["data"]
    assert row["type"] == "transfer_in" and row["transfer_id"] == moved["id"]
    assert row["balance_after"] == 300


def test_transfer_to_another_customer_is_allowed(client: TestClient, alice: f.Customer) -> None:
    bob = f.customer(client)
    source = f.funded_account(client, alice, 1000)
    target = f.account(client, bob)

    response = f.transfer(client, alice, source["id"], target["id"], 250)

    assert response.status_code == 201
    assert f.balance(client, bob, target["id"]) == 250
    seen = client.get(f"/v1/transfers/{response.json()['id']}", headers=bob.headers)
    assert seen.status_code == 200


def test_transfer_same_account_is_400(client: TestClient, alice: f.Customer) -> None:
    source = f.funded_account(client, alice, 1000)

    response = f.transfer(client, alice, source["id"], source["id"], 10)

    assert response.status_code == 400
    assert f.error_code(response) == "same_account"


def test_transfer_across_currencies_is_400_and_changes_nothing(
    client: TestClient, alice: f.Customer
) -> None:
    source = f.funded_account(client, alice, 1000)
    target = f.account(client, alice, "EUR")

    response = f.transfer(client, alice, source["id"], target["id"], 10)

    assert response.status_code == 400
    assert f.error_code(response) == "currency_mismatch"
    assert f.balance(client, alice, source["id"]) == 1000


def test_transfer_with_insufficient_funds_changes_nothing(
    client: TestClient, alice: f.Customer
) -> None:
    source = f.funded_account(client, alice, 100)
    target = f.account(client, alice)

    response = f.transfer(client, alice, source["id"], target["id"], 101)

    assert response.status_code == 409
    assert f.error_code(response) == "insufficient_funds"
    assert f.balance(client, alice, source["id"]) == 100
    assert f.balance(client, alice, target["id"]) == 0
    listed = client.get(f"/v1/transfers?account_id={source['id']}", headers=alice.headers)
    assert listed.json()["pagination"]["total"] == 0


def test_transfer_to_missing_account_is_404(client: TestClient, alice: f.Customer) -> None:
    source = f.funded_account(client, alice, 100)

    response = f.transfer(client, alice, source["id"], str(uuid.uuid4()), 10)

    assert response.status_code == 404
    assert f.balance(client, alice, source["id"]) == 100


@pytest.mark.parametrize("frozen_side", ["source", "target"])
def test_frozen_account_refuses_money(
    client: TestClient, alice: f.Customer, frozen_side: str
) -> None:
    source = f.funded_account(client, alice, 100)
    target = f.account(client, alice)
    frozen = source if frozen_side == "source" else target
    client.patch(f"/v1/accounts/{frozen['id']}", json={"status": "frozen"}, headers=alice.headers)

    response = f.transfer(client, alice, source["id"], target["id"], 10)

    assert response.status_code == 409
    assert f.error_code(response) == "account_not_active"


def test_frozen_account_refuses_deposits_and_new_cards(
    client: TestClient, alice: f.Customer
) -> None:
    account = f.account(client, alice)
    client.patch(f"/v1/accounts/{account['id']}", json={"status": "frozen"}, headers=alice.headers)

    deposit = f.deposit(client, alice, account["id"], 10)
    card = client.post(
        "/v1/cards", json={"account_id": account["id"], "type": "virtual"}, headers=alice.headers
    )

    assert deposit.status_code == card.status_code == 409
    assert f.error_code(deposit) == f.error_code(card) == "account_not_active"


ACCOUNT_PAIRS = [
    (a, b) for a in ("active", "frozen", "closed") for b in ("active", "frozen", "closed")
]
ALLOWED = {("active", "frozen"), ("frozen", "active"), ("active", "closed"), ("frozen", "closed")}


def _account_in(client: TestClient, owner: f.Customer, status: str) -> str:
    account_id = f.account(client, owner)["id"]
    if status == "frozen":
        client.patch(f"/v1/accounts/{account_id}", json={"status": "frozen"}, headers=owner.headers)
    if status == "closed":
        client.patch(f"/v1/accounts/{account_id}", json={"status": "closed"}, headers=owner.headers)
    return account_id


@pytest.mark.parametrize(("current", "target"), ACCOUNT_PAIRS)
def test_account_status_lifecycle(
    client: TestClient, alice: f.Customer, current: str, target: str
) -> None:
    account_id = _account_in(client, alice, current)

    response = client.patch(
        f"/v1/accounts/{account_id}", json={"status": target}, headers=alice.headers
    )

    if (current, target) in ALLOWED:
        assert response.status_code == 200 and response.json()["status"] == target
    else:
        assert response.status_code == 409
        assert f.error_code(response) == "invalid_state_transition"


def test_closing_needs_zero_balance(client: TestClient, alice: f.Customer) -> None:
    account = f.funded_account(client, alice, 5)

    response = client.patch(
        f"/v1/accounts/{account['id']}", json={"status": "closed"}, headers=alice.headers
    )

    assert response.status_code == 409
    assert f.error_code(response) == "account_not_empty"


def test_closing_cancels_cards_and_freezing_keeps_them(
    client: TestClient, alice: f.Customer
) -> None:
    account = f.account(client, alice)
    card = client.post(
        "/v1/cards", json={"account_id": account["id"], "type": "physical"}, headers=alice.headers
    ).json()

    client.patch(f"/v1/accounts/{account['id']}", json={"status": "frozen"}, headers=alice.headers)
    after_freeze = client.get(f"/v1/cards/{card['id']}", headers=alice.headers).json()
    client.patch(f"/v1/accounts/{account['id']}", json={"status": "closed"}, headers=alice.headers)
    after_close = client.get(f"/v1/cards/{card['id']}", headers=alice.headers).json()

    assert after_freeze["status"] == "active"
    assert after_close["status"] == "canceled"


# ------------------------------------------------------------------ idempotency


def test_same_key_same_body_replays_without_moving_money_again(
    client: TestClient, alice: f.Customer
) -> None:
    account = f.account(client, alice)
    key = str(uuid.uuid4())

    first = f.deposit(client, alice, account["id"], 500, key=key)
    second = f.deposit(client, alice, account["id"], 500, key=key)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert f.balance(client, alice, account["id"]) == 500


@pytest.mark.parametrize("operation", ["transfer", "account", "card"])
def test_a_replay_answers_byte_for_byte_what_the_first_response_did(
    client: TestClient, alice: f.Customer, operation: str
) -> None:
    source = f.funded_account(client, alice, 1_000)
    key = {**alice.headers, "Idempotency-Key": str(uuid.uuid4())}
    path, body = {
        "transfer": (
            "/v1/transfers",
            {
                "from_account_id": source["id"],
                "to_account_id": f.account(client, alice)["id"],
                "amount": 250,
                "currency": "USD",
                "description": "Zoë's «rent»",
            },
        ),
        "account": ("/v1/accounts", {"type": "savings", "currency": "EUR"}),
        "card": ("/v1/cards", {"account_id": source["id"], "type": "virtual"}),
    }[operation]

    first = client.post(path, json=body, headers=key)
    again = client.post(path, json=body, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert first.headers["content-type"] == again.headers["content-type"] == "application/json"
    assert again.headers["idempotent-replayed"] == "true"


def test_same_key_different_body_is_409(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)
    key = str(uuid.uuid4())
    f.deposit(client, alice, account["id"], 500, key=key)

    response = f.deposit(client, alice, account["id"], 501, key=key)

    assert response.status_code == 409
    assert f.error_code(response) == "idempotency_key_reused"
    assert f.balance(client, alice, account["id"]) == 500


def test_business_error_is_replayed_too(client: TestClient, alice: f.Customer) -> None:
    account = f.funded_account(client, alice, 100)
    key = str(uuid.uuid4())
    first = f.withdraw(client, alice, account["id"], 500, key=key)
    f.deposit(client, alice, account["id"], 1000)

    again = f.withdraw(client, alice, account["id"], 500, key=key)

    assert first.status_code == again.status_code == 409
    assert f.error_code(again) == "insufficient_funds"
    assert again.headers["idempotent-replayed"] == "true"
    assert f.balance(client, alice, account["id"]) == 1100


def test_validation_errors_are_not_stored(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)
    key = str(uuid.uuid4())
    bad = client.post(
        "/v1/transactions",
        headers={**alice.headers, "Idempotency-Key": key},
        json={"account_id": account["id"], "type": "deposit", "amount": 0, "currency": "USD"},
    )

    good = f.deposit(client, alice, account["id"], 10, key=key)

    assert bad.status_code == 400
    assert good.status_code == 201 and "idempotent-replayed" not in good.headers


def test_keys_are_scoped_per_user(client: TestClient, alice: f.Customer) -> None:
    bob = f.customer(client)
    key = str(uuid.uuid4())
    a = f.account(client, alice)
    b = f.account(client, bob)

    first = f.deposit(client, alice, a["id"], 10, key=key)
    second = f.deposit(client, bob, b["id"], 10, key=key)

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers


@pytest.mark.parametrize("path_body", ["accounts", "cards", "transfers"])
def test_every_creating_post_honours_the_key(
    client: TestClient, alice: f.Customer, path_body: str
) -> None:
    source = f.funded_account(client, alice, 1000)
    target = f.account(client, alice)
    bodies = {
        "accounts": {"type": "checking", "currency": "USD"},
        "cards": {"account_id": source["id"], "type": "virtual"},
        "transfers": {
            "from_account_id": source["id"],
            "to_account_id": target["id"],
            "amount": 100,
            "currency": "USD",
        },
    }
    headers = {**alice.headers, "Idempotency-Key": str(uuid.uuid4())}

    first = client.post(f"/v1/{path_body}", json=bodies[path_body], headers=headers)
    second = client.post(f"/v1/{path_body}", json=bodies[path_body], headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert f.balance(client, alice, source["id"]) == (900 if path_body == "transfers" else 1000)


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_malformed_idempotency_key_is_400(client: TestClient, alice: f.Customer, key: str) -> None:
    account = f.account(client, alice)

    response = (
        f.deposit(client, alice, account["id"], 10, key=None)
        if not key
        else client.post(
            "/v1/transactions",
            headers={**alice.headers, "Idempotency-Key": key},
            json={"account_id": account["id"], "type": "deposit", "amount": 10, "currency": "USD"},
        )
    )

    assert response.status_code == (201 if not key else 400)


# ------------------------------------------------------------------ statements


def test_statement_balances_add_up(client: TestClient, alice: f.Customer) -> None:
    source = f.funded_account(client, alice, 1000)
    target = f.account(client, alice)
    f.transfer(client, alice, source["id"], target["id"], 300)
    f.withdraw(client, alice, source["id"], 200)

    statement = client.get(f"/v1/statements/{source['id']}", headers=alice.headers).json()

    assert [t["type"] for t in statement["transactions"]] == [
        "deposit",
        "transfer_out",
        "withdrawal",
    ]
    assert [t["balance_after"] for t in statement["transactions"]] == [1000, 700, 500]
    assert statement["opening_balance"] == 0
    assert statement["total_credits"] == 1000 and statement["total_debits"] == 500
    assert statement["closing_balance"] == 500 == statement["current_balance"]


def test_statement_period_has_opening_balance(client: TestClient, alice: f.Customer) -> None:
    account = f.funded_account(client, alice, 1000)
    middle = f.deposit(client, alice, account["id"], 50).json()["created_at"]
    f.withdraw(client, alice, account["id"], 30)

    statement = client.get(
        f"/v1/statements/{account['id']}", params={"from": middle}, headers=alice.headers
    ).json()

    assert statement["opening_balance"] == 1000
    assert statement["total_credits"] == 50 and statement["total_debits"] == 30
    assert statement["closing_balance"] == 1020


def test_statement_period_between_two_rows_counts_only_its_rows(
    client: TestClient, alice: f.Customer
) -> None:
    account = f.funded_account(client, alice, 1000)
    other = f.account(client, alice)
    start = f.deposit(client, alice, account["id"], 50).json()["created_at"]
    f.withdraw(client, alice, account["id"], 30)
    end = f.transfer(client, alice, account["id"], other["id"], 100).json()["created_at"]
    f.deposit(client, alice, account["id"], 7)

    statement = client.get(
        f"/v1/statements/{account['id']}",
        params={"from": start, "to": end},
        headers=alice.headers,
    ).json()

    assert [t["amount"] for t in statement["transactions"]] == [50, 30]
    assert statement["pagination"]["total"] == 2
    assert (statement["opening_balance"], statement["closing_balance"]) == (1000, 1020)
    assert (statement["total_credits"], statement["total_debits"]) == (50, 30)
    assert statement["current_balance"] == 927


def test_statement_pages_keep_period_totals(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)
    for amount in (1, 2, 3, 4, 5):
        f.deposit(client, alice, account["id"], amount)

    page = client.get(
        f"/v1/statements/{account['id']}?limit=2&offset=2", headers=alice.headers
    ).json()

    assert [t["amount"] for t in page["transactions"]] == [3, 4]
    assert page["pagination"] == {"limit": 2, "offset": 2, "total": 5}
    assert page["total_credits"] == 15 and page["closing_balance"] == 15


def test_statement_rejects_reversed_period(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)

    response = client.get(
        f"/v1/statements/{account['id']}",
        headers=alice.headers,
        params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    )

    assert response.status_code == 400
    assert f.error_code(response) == "invalid_period"


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00"])
def test_statement_rejects_bad_timestamps(
    client: TestClient, alice: f.Customer, value: str
) -> None:
    account = f.account(client, alice)

    response = client.get(
        f"/v1/statements/{account['id']}", params={"from": value}, headers=alice.headers
    )

    assert response.status_code == 400


def test_statement_as_csv(client: TestClient, alice: f.Customer) -> None:
    account = f.account(client, alice)
    client.post(
        "/v1/transactions",
        headers=alice.headers,
        json={
            "account_id": account["id"],
            "type": "deposit",
            "amount": 700,
            "currency": "USD",
            "description": '=HYPERLINK("evil")',
        },
    )

    response = client.get(
        f"/v1/statements/{account['id']}", headers={**alice.headers, "Accept": "text/csv"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["amount"] == "700" and rows[0]["balance_after"] == "700"
    assert rows[0]["description"].startswith("'=")


# ------------------------------------------------------------------ admins


def test_admin_reads_everything_but_cannot_move_money(
    client: TestClient, alice: f.Customer, db_url: str
) -> None:
    from bank.db.engine import make_engine
    from bank.db.uow import SqlAlchemyUnitOfWork
    from bank.services.users import create_admin

    email = f.unique_email("admin")
    engine = make_engine(db_url)
    create_admin(SqlAlchemyUnitOfWork(engine), email, f.PASSWORD, 4)
    engine.dispose()
    admin = {"Authorization": f"Bearer {f.login(client, email)['access_token']}"}
    account = f.funded_account(client, alice, 100)

    seen = client.get(f"/v1/accounts/{account['id']}", headers=admin)
    moved = client.post(
        "/v1/transactions",
        headers=admin,
        json={"account_id": account["id"], "type": "withdrawal", "amount": 10, "currency": "USD"},
    )
    holders = client.get("/v1/account-holders?limit=100", headers=admin)
    opened = client.post(
        "/v1/accounts", headers=admin, json={"type": "checking", "currency": "USD"}
    )
    opened_for = client.post(
        "/v1/accounts",
        headers=admin,
        json={"type": "checking", "currency": "USD", "holder_id": alice.holder_id},
    )
    me = client.get("/v1/auth/me", headers=admin).json()

    assert seen.status_code == 200
    assert moved.status_code == 403 and f.error_code(moved) == "forbidden"
    assert holders.json()["pagination"]["total"] >= 1
    alice_holder = client.get(f"/v1/account-holders/{alice.holder_id}", headers=admin)
    assert alice_holder.status_code == 200 and alice_holder.json()["id"] == alice.holder_id
    assert opened.status_code == 400 and f.error_code(opened) == "holder_required"
    assert opened_for.status_code == 201 and opened_for.json()["holder_id"] == alice.holder_id
    assert me["role"] == "admin" and "account_holder" not in me
    assert f.balance(client, alice, account["id"]) == 100


@pytest.mark.parametrize("field", ["description"])
def test_nul_characters_are_rejected_not_stored(
    client: TestClient, alice: f.Customer, field: str
) -> None:
    account = f.account(client, alice)

    response = client.post(
        "/v1/transactions",
        headers=alice.headers,
        json={
            "account_id": account["id"],
            "type": "deposit",
            "amount": 5,
            "currency": "USD",
            field: "bad\u0000value",
        },
    )

    assert response.status_code == 400
    assert f.balance(client, alice, account["id"]) == 0


def test_nul_in_login_email_is_a_400_not_a_500(client: TestClient) -> None:
    response = client.post("/v1/auth/login", json={"email": "a\u0000@b.c", "password": "x"})

    assert response.status_code == 400


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "0999-05-06T18:28:43.730+13:50"])
def test_statement_echoes_early_years_as_rfc3339(
    client: TestClient, alice: f.Customer, start: str
) -> None:
    account = f.account(client, alice)

    response = client.get(
        f"/v1/statements/{account['id']}", params={"from": start}, headers=alice.headers
    )

    assert response.status_code == 200
    assert response.json()["from"][:4] in ("0001", "0999")


@pytest.mark.parametrize(
    ("name", "value", "taken_as"),
    [
        ("from", "0001-01-01T00:00:00+13:00", "0001-01-01T00:00:00.000000Z"),
        ("from", "0001-01-01T01:00:00+02:04", "0001-01-01T00:00:00.000000Z"),
        ("to", "9999-12-31T23:59:59-13:00", "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_statement_period_beyond_the_years_0001_9999_in_utc_is_taken_at_that_edge(
    client: TestClient, alice: f.Customer, name: str, value: str, taken_as: str
) -> None:
    # A valid RFC 3339 value whose UTC instant falls outside what the service can represent
    # means "from the beginning" / "to the end": no row lies beyond either edge.
    account = f.funded_account(client, alice, 70)

    response = client.get(
        f"/v1/statements/{account['id']}", params={name: value}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    statement = response.json()
    assert statement[name] == taken_as
    assert [t["amount"] for t in statement["transactions"]] == [70]
    assert statement["closing_balance"] == 70


@pytest.mark.parametrize(
    ("query", "field"),
    [("account_id=abc", "account_id"), ("limit=0", "limit"), ("offset=-3", "offset")],
)
def test_parameter_errors_name_the_parameter(
    client: TestClient, alice: f.Customer, query: str, field: str
) -> None:
    response = client.get(f"/v1/transactions?{query}", headers=alice.headers)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == field


def test_an_account_whose_lifetime_credits_would_overflow_refuses_more_money(
    make_client: AppFactory, fresh_db: str
) -> None:
    # credited_total (everything ever credited) is a BIGINT; deposit/withdraw cycles can push
    # it toward 2^63 - 1 while the balance stays small. Past that, a credit is refused cleanly.
    client = make_client(database_url=fresh_db)
    owner, payer = f.customer(client), f.customer(client)
    account = f.funded_account(client, owner, 100)
    source = f.funded_account(client, payer, 1000)
    engine = create_engine(fresh_db)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE accounts SET credited_total = :total WHERE balance = 100"),
            {"total": 2**63 - 1 - 10},
        )
    engine.dispose()

    too_much = f.deposit(client, owner, account["id"], 11)
    transfer = f.transfer(client, payer, source["id"], account["id"], 11)
    fits = f.deposit(client, owner, account["id"], 10)

    assert too_much.status_code == transfer.status_code == 409
    assert f.error_code(too_much) == f.error_code(transfer) == "balance_limit_exceeded"
    assert f.balance(client, payer, source["id"]) == 1000
    assert fits.status_code == 201
    assert f.balance(client, owner, account["id"]) == 110
