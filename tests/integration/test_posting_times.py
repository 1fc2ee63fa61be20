"""Per account, ledger rows are stamped in posting order even when the server's clock steps
back (an NTP correction, a VM restored from a snapshot): a statement's opening balance, its
rows and its closing balance then always agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from bank.services import ledger
from tests import factories as f


def _rows(client: TestClient, owner: f.Customer, account_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/statements/{account_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["transactions"]
    return rows


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_clock_that_steps_back_does_not_reorder_an_accounts_ledger(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f.customer(client)
    source = f.funded_account(client, owner, 1000)["id"]
    target_account = f.account(client, owner)
    target = target_account["id"]
    (opening_row,) = _rows(client, owner, source)
    first = _stamp(opening_row["created_at"])

    an_hour_back = first - timedelta(hours=1)
    monkeypatch.setattr(ledger, "utcnow", lambda: an_hour_back)
    deposit = f.deposit(client, owner, source, 50)
    transfer = f.transfer(client, owner, source, target, 300)
    assert deposit.status_code == transfer.status_code == 201, (deposit.text, transfer.text)
    monkeypatch.undo()  # the clock is right again (statements default `to` to now)

    # Never earlier than the account's previous row; the transfer no earlier than either side.
    assert _stamp(deposit.json()["created_at"]) == first
    opened = _stamp(target_account["created_at"])
    assert _stamp(transfer.json()["created_at"]) == max(first, opened)
    stamps = [_stamp(row["created_at"]) for row in _rows(client, owner, source)]
    assert stamps == sorted(stamps) == [first, first, first]
    # The destination had no rows yet: never stamped before it was opened.
    (credit,) = _rows(client, owner, target)
    assert _stamp(credit["created_at"]) == opened

    # A period that starts between the clock's two readings covers all three postings.
    since = (first - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    statement = client.get(
        f"/v1/statements/{source}", params={"from": since}, headers=owner.headers
    ).json()
    assert statement["opening_balance"] == 0
    assert (statement["total_credits"], statement["total_debits"]) == (1050, 300)
    assert statement["closing_balance"] == 750
    assert [row["balance_after"] for row in statement["transactions"]] == [1000, 1050, 750]


@pytest.mark.parametrize("filtered", [True, False], ids=["account-filter", "all-accounts"])
def test_rows_with_equal_stamps_are_listed_in_posting_order(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, filtered: bool
) -> None:
    # Equal stamps are normal: a posting that waited for the row lock takes the previous
    # posting's later stamp. Lists must then fall back to posting order, as statements do.
    owner = f.customer(client)
    account = f.funded_account(client, owner, 1000)["id"]
    (opening_row,) = _rows(client, owner, account)
    frozen = _stamp(opening_row["created_at"])
    monkeypatch.setattr(ledger, "utcnow", lambda: frozen)
    for amount in (1, 2, 3, 4, 5, 6, 7):
        assert f.deposit(client, owner, account, amount).status_code == 201
    monkeypatch.undo()
    query = f"?account_id={account}&limit=100" if filtered else "?limit=100"

    listed = client.get(f"/v1/transactions{query}", headers=owner.headers).json()["data"]

    assert [row["id"] for row in listed] == [row["id"] for row in _rows(client, owner, account)]
    assert [row["balance_after"] for row in listed] == [
        1000,
        1001,
        1003,
        1006,
        1010,
        1015,
        1021,
        1028,
    ]
