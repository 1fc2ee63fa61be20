"""Another customer's destination account: a transfer's error says which rule failed, never that
account's currency or status."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests import factories as f


def test_transfer_to_a_foreign_frozen_account_does_not_reveal_its_status(
    client: TestClient,
) -> None:
    alice, bob = f.customer(client), f.customer(client)
    source = f.funded_account(client, alice, 100)
    target = f.account(client, bob)
    client.patch(f"/v1/accounts/{target['id']}", json={"status": "frozen"}, headers=bob.headers)

    response = f.transfer(client, alice, source["id"], target["id"], 10)

    assert response.status_code == 409
    assert f.error_code(response) == "account_not_active"
    assert "status" not in response.json()["error"]["details"]
    assert f.balance(client, alice, source["id"]) == 100


def test_transfer_to_a_foreign_account_in_another_currency_does_not_reveal_it(
    client: TestClient,
) -> None:
    alice, bob = f.customer(client), f.customer(client)
    source = f.funded_account(client, alice, 100)
    target = f.account(client, bob, "EUR")

    response = f.transfer(client, alice, source["id"], target["id"], 10)

    assert response.status_code == 400
    assert f.error_code(response) == "currency_mismatch"
    assert "EUR" not in response.text
    assert f.balance(client, alice, source["id"]) == 100


def test_own_accounts_still_explain_status_and_currency(client: TestClient) -> None:
    alice = f.customer(client)
    source = f.funded_account(client, alice, 100)
    euros = f.account(client, alice, "EUR")
    frozen = f.account(client, alice)
    client.patch(f"/v1/accounts/{frozen['id']}", json={"status": "frozen"}, headers=alice.headers)

    mismatch = f.transfer(client, alice, source["id"], euros["id"], 10)
    inactive = f.transfer(client, alice, source["id"], frozen["id"], 10)

    assert mismatch.json()["error"]["details"]["account_currency"] == "EUR"
    assert inactive.json()["error"]["details"]["status"] == "frozen"
