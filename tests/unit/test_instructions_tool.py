"""`python -m tests.perf.instructions` drives the app in process; its requests must succeed, or
it would count the instructions of an error path."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bank.app import create_app
from bank.db.migrations import upgrade
from tests.conftest import make_settings
from tests.perf import instructions


def test_each_counted_operation_succeeds_when_driven_in_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'instructions.db'}"
    upgrade(url)
    app = create_app(make_settings(url))

    async def drive() -> dict[str, int]:
        (owner, source), (_, target) = (
            await instructions._customer(app, "a"),
            await instructions._customer(app, "b"),
        )
        operations = instructions._operations(app, owner, source, target)
        assert set(operations) == {*instructions.OPS, *instructions.EXTRA_OPS}
        statuses = {}
        for name, run in operations.items():
            statuses[name], _ = await run()
        _, account = await instructions._call(app, "GET", f"/v1/accounts/{source}", None, owner)
        statuses["balance"] = account["balance"]
        return statuses

    statuses = asyncio.run(drive())

    assert statuses == {
        "transfer": 201,
        "deposit": 201,
        "get_account": 200,
        "statement": 200,
        "live": 200,
        "overdraw": 409,  # insufficient_funds, as the benchmark's over-draws
        "balance": 10**12 - 5 + 5,
    }
