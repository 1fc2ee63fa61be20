"""Statements as CSV (RFC 4180) and the Accept negotiation between JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests import factories as f

CSV_HEADER = (
    "id",
    "created_at",
    "type",
    "amount",
    "currency",
    "balance_after",
    "transfer_id",
    "description",
)


def _statement(client: TestClient, user: f.Customer, account_id: str, accept: str) -> Any:
    return client.get(f"/v1/statements/{account_id}", headers={**user.headers, "Accept": accept})


def test_csv_quotes_carriage_returns_and_ends_rows_with_crlf(client: TestClient) -> None:
    user = f.customer(client)
    account = f.account(client, user)
    client.post(
        "/v1/transactions",
        headers=user.headers,
        json={
            "account_id": account["id"],
            "type": "deposit",
            "amount": 5,
            "currency": "USD",
            "description": "abc\rdef",
        },
    )

    response = _statement(client, user, account["id"], "text/csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert len(rows) == 2
    assert rows[1][-1] == "abc\rdef"
    assert response.text.startswith(",".join(CSV_HEADER) + "\r\n")
    assert response.text.endswith("\r\n")


@pytest.mark.parametrize(
    "accept, media_type",
    [
        ("text/csv", "text/csv"),
        ("text/csv, application/json;q=0.9", "text/csv"),
        ("application/json;q=0.1, text/csv;q=0.9", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json", "application/json"),
        ("text/csv;q=0, */*", "application/json"),
        ("*/*", "application/json"),
        ("application/json, text/csv", "application/json"),
        ("", "application/json"),
    ],
)
def test_statement_honours_accept_quality(client: TestClient, accept: str, media_type: str) -> None:
    user = f.customer(client)
    account = f.account(client, user)

    response = _statement(client, user, account["id"], accept)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


@pytest.mark.parametrize("accept", ["application/xml", "text/csv;q=0", "text/html, image/*"])
def test_statement_in_no_acceptable_type_is_406(client: TestClient, accept: str) -> None:
    user = f.customer(client)
    account = f.account(client, user)

    response = _statement(client, user, account["id"], accept)

    assert response.status_code == 406
    assert f.error_code(response) == "not_acceptable"
