"""(c) SQLite: writers in two worker processes never surface "database is locked"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults import support
from tests.perf import bench, harness
from tests.perf.harness import Model, Server

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]


async def _scenario(server: Server) -> tuple[bench.RunResult, Model, list[float], list[int]]:
    model = Model()
    users = await support.make_users(server.base_url, 8, model)
    population = bench.Population(hot=users[:3], others=users[3:])
    clients, spread = await bench.open_clients(server, 32)
    before = server.samples()
    try:
        work = bench.Workload(population, model, "locked")
        result = await bench.timed_run(clients, work, 12)
    finally:
        for client in clients:
            await client.close()
    after = server.samples()
    cpu = [after[p].cpu_seconds - before[p].cpu_seconds for p in before if p in after]
    return result, model, cpu, spread


def test_two_worker_processes_writing_never_answer_database_locked(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = harness.service_env(sqlite_url)
    harness.migrate(env, tmp_path / "migrate.log")

    with Server(env, tmp_path / "server.log") as server:
        result, model, cpu, spread = asyncio.run(_scenario(server))
        log = server.log_tail(10_000_000)

    statuses = {r[2] for r in result.records}
    assert len(cpu) == 2 and min(cpu) > 0.5, f"both workers must write: cpu {cpu}, {spread}"
    assert result.transport_errors == 0
    assert not [s for s in statuses if s >= 500 or s < 0], statuses
    assert not result.unexpected, result.unexpected
    assert "database is locked" not in log.lower()
    assert "busy" not in " ".join(result.unexpected)
    audit = harness.audit(sqlite_url, env, model)
    assert audit["ok"], audit["problems"]
    print(f"\n{len(result.records)} requests, worker CPU {cpu}, connections {spread}")
