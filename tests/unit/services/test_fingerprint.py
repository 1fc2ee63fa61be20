"""An Idempotency-Key's stored fingerprint is compared with a retry's for as long as the key
lives (a day or more, across deploys): its canonical JSON must never change form."""

from __future__ import annotations

import hashlib
import json
import uuid

from bank.services import idempotency


def test_the_fingerprint_is_the_sha256_of_the_sorted_compact_json_of_the_payload() -> None:
    payload = {
        "to_account_id": uuid.UUID("9f1c6a5e-0000-4000-8000-000000000001"),
        "amount": 10**18,
        "currency": "EUR",
        "description": 'caf\u00e9 "50/50" \\ \t\u2013',
        "from_account_id": "1b2c3d4e-0000-4000-8000-000000000002",
        "note": None,
    }
    canonical = (
        '{"amount":1000000000000000000,"currency":"EUR",'
        '"description":"caf\\u00e9 \\"50/50\\" \\\\ \\t\\u2013",'
        '"from_account_id":"1b2c3d4e-0000-4000-8000-000000000002","note":null,'
        '"to_account_id":"9f1c6a5e-0000-4000-8000-000000000001"}'
    )
    assert json.loads(canonical)["description"] == payload["description"]

    found = idempotency.request("k", "create_transfer", payload)

    assert found.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()
    assert (found.key, found.operation) == ("k", "create_transfer")
