"""(b) PostgreSQL restarted in the middle of load (a throwaway cluster of our own)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from tests.faults import support
from tests.faults.conftest import ThrowawayPostgres
from tests.perf import harness
from tests.perf.harness import Model, Server

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]
DOWN_SECONDS = 5.0


async def _probe(base: str, user: support.bench.User) -> dict[str, object]:
    """While the database is down: readiness and an account read answer 503 (the load's
    transfers check their own 503 envelopes)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as s:
        async with s.get(f"{base}/v1/health") as r:
            health = (r.status, json.loads(await r.read()))
        async with s.get(f"{base}/v1/health/live") as r:
            live = r.status
        async with s.get(f"{base}/v1/accounts/{user.account}", headers=user.headers) as r:
            read = (r.status, json.loads(await r.read()))
    return {"health": health, "live": live, "read": read}


def _bank_database(pg: ThrowawayPostgres, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A migrated `bank` database on the throwaway cluster: its URL and the service's env."""
    import psycopg

    with psycopg.connect(pg.admin_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bank")
    url = harness.sqlalchemy_url(pg.admin_url.rsplit("/", 1)[0] + "/bank")
    # INFO: the server is ready only once every worker has booted (logged service_started).
    env = harness.service_env(url, LOG_LEVEL="INFO")
    harness.migrate(env, tmp_path / "migrate.log")
    return url, env


def _assert_answers_of_an_outage(probe: dict[str, object]) -> None:
    health_status, health_body = probe["health"]  # type: ignore[misc]
    assert health_status == 503 and health_body["checks"]["database"] == "unavailable"
    assert probe["live"] == 200
    read_status, read_body = probe["read"]  # type: ignore[misc]
    assert read_status == 503 and read_body["error"]["code"] == "service_unavailable"


async def _scenario(
    server: Server, pg: ThrowawayPostgres
) -> tuple[support.LoadStats, Model, dict[str, object], float]:
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
            until=start + 14,
            resolve_by=start + 70,
            tag="pgdown",
        )
    )
    await support.under_load(stats)
    await asyncio.to_thread(pg.stop)
    await asyncio.sleep(1)
    probe = await _probe(server.base_url, users[0])
    await asyncio.sleep(DOWN_SECONDS - 1)
    await asyncio.to_thread(pg.start)
    restarted = time.monotonic()
    recovered = -1.0
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < restarted + 30:
            async with s.get(f"{server.base_url}/v1/health") as r:
                if r.status == 200:
                    recovered = time.monotonic() - restarted
                    break
            await asyncio.sleep(0.2)
    await load
    return stats, model, probe, recovered


def test_service_answers_503_while_postgres_is_down_and_recovers_by_itself(
    throwaway_pg: ThrowawayPostgres, tmp_path: Path
) -> None:
    url, env = _bank_database(throwaway_pg, tmp_path)

    with Server(env, tmp_path / "server.log") as server:
        stats, model, probe, recovered = asyncio.run(_scenario(server, throwaway_pg))

    _assert_answers_of_an_outage(probe)
    assert 0 <= recovered < 30, "the service did not become ready again"
    assert stats.bad_envelopes == []
    assert {s for s in stats.attempts if s >= 500} <= {503}, stats.attempts
    assert stats.attempts[503] > 0, "the load never saw the outage"
    assert support.exactly_once(url, stats) == []
    audit = harness.audit(url, env, model)
    assert audit["ok"], audit["problems"]
    print(
        f"\nattempts {dict(stats.attempts)}, codes {dict(stats.error_codes)}, "
        f"ready again {recovered:.1f}s after PostgreSQL restarted"
    )


def _started(server: Server) -> int:
    return server.log_tail(10_000_000).count('"service_started"')


async def _replace_a_worker_while_down(
    server: Server, pg: ThrowawayPostgres
) -> tuple[list[int], int, dict[str, object], int]:
    """Stop PostgreSQL, kill -9 a worker, wait for its replacement; probe; start PostgreSQL."""
    model = Model()
    users = await support.make_users(server.base_url, 2, model)
    await asyncio.to_thread(pg.stop)
    before = server.worker_pids()
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    replaced: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.process is not None:
        if server.process.poll() is not None:
            break  # the master gave up
        now = server.worker_pids()
        # Replaced, and the replacement's startup (its database check) is over.
        if len(now) == len(before) and victim not in now and _started(server) > len(before):
            replaced = now
            break
        await asyncio.sleep(0.2)
    probe = await _probe(server.base_url, users[0]) if replaced else {}
    await asyncio.to_thread(pg.start)
    status = -1
    async with aiohttp.ClientSession() as s:
        while replaced and time.monotonic() < deadline + 30:
            body = {
                "from_account_id": users[0].account,
                "to_account_id": users[1].account,
                "amount": 1,
                "currency": "USD",
            }
            headers = {**users[0].headers, "Idempotency-Key": "after-the-outage"}
            async with s.post(f"{server.base_url}/v1/transfers", json=body, headers=headers) as r:
                status = r.status
            if status != 503:
                break
            await asyncio.sleep(0.2)
    return replaced, victim, probe, status


def test_a_worker_replaced_while_postgres_is_down_boots_and_serves_once_it_is_back(
    throwaway_pg: ThrowawayPostgres, tmp_path: Path
) -> None:
    """The master checked the database when it started; a worker it starts later, during an
    outage, boots without it (answering 503) instead of halting the whole service."""
    _, env = _bank_database(throwaway_pg, tmp_path)

    with Server(env, tmp_path / "server.log") as server:
        replaced, victim, probe, status = asyncio.run(
            _replace_a_worker_while_down(server, throwaway_pg)
        )
        master_alive = server.process is not None and server.process.poll() is None
        log = server.log_tail(20_000)

    assert master_alive and replaced, f"worker {victim} was not replaced:\n{log[-3000:]}"
    _assert_answers_of_an_outage(probe)
    assert status == 201, f"no transfer once PostgreSQL was back ({status}):\n{log[-3000:]}"
