"""(a) kill -9 one gunicorn worker in the middle of load."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults import support
from tests.perf import harness
from tests.perf.harness import Model, Server

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


async def _scenario(server: Server, url: str) -> tuple[support.LoadStats, Model, list[int], int]:
    model = Model()
    users = await support.make_users(server.base_url, 6, model)
    stats = support.LoadStats()
    start = time.monotonic()
    load = asyncio.create_task(
        support.transfer_loop(
            server.base_url,
            users,
            model,
            stats,
            clients=8,
            until=start + 10,
            resolve_by=start + 40,
            tag="kill",
        )
    )
    await support.under_load(stats)
    before = server.worker_pids()
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    replaced: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.worker_pids()
        if len(now) == len(before) and victim not in now:
            replaced = now
            break
        await asyncio.sleep(0.2)
    await load
    return stats, model, replaced, victim


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_killed_worker_is_replaced_and_retries_take_effect_exactly_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "shared_pg_url")
    env = harness.service_env(url)
    harness.migrate(env, tmp_path / "migrate.log")

    with Server(env, tmp_path / "server.log") as server:
        stats, model, replaced, victim = asyncio.run(_scenario(server, url))
        log = server.log_tail(200_000)

    assert replaced, f"the master did not replace worker {victim}:\n{log[-2000:]}"
    assert support.exactly_once(url, stats) == []
    assert not [s for s in stats.attempts if s >= 500 and s != 503], stats.attempts
    audit = harness.audit(url, env, model)
    assert audit["ok"], audit["problems"]
    if backend == "sqlite":
        conn = harness.db_connect(url)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    print(
        f"\n[{backend}] attempts by status {dict(stats.attempts)}, "
        f"{len(stats.outcomes)} transfers, replays "
        f"{sum(o.replayed for o in stats.outcomes)}, worker {victim} -> {replaced}"
    )
