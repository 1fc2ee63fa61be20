"""(d) Slowloris: connections that dribble headers or bodies do not stop others being served."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from tests.faults import support
from tests.perf.harness import Model, Server, migrate, service_env

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]
SLOW_HEADERS = 100
SLOW_BODIES = 50
ATTACK_SECONDS = 12.0


async def _slow_headers(
    port: int, until: float, closed: list[str], opened: asyncio.Queue[str]
) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        opened.put_nowait("headers")
        n = 0
        while time.monotonic() < until:
            n += 1
            writer.write(f"X-Slow-{n}: a\r\n".encode())
            await writer.drain()
            await asyncio.sleep(1.0)
    except (ConnectionError, OSError):
        closed.append("headers")
    finally:
        writer.close()


async def _slow_body(
    port: int, path: str, token: str, until: float, closed: list[str], opened: asyncio.Queue[str]
) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: slow\r\n"
            f"Content-Length: 4096\r\n\r\n{{".encode()
        )
        await writer.drain()
        opened.put_nowait("body")
        while time.monotonic() < until:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(1.0)
    except (ConnectionError, OSError):
        closed.append("body")
    finally:
        writer.close()


async def _scenario(server: Server) -> tuple[list[float], int, list[str]]:
    model = Model()
    users = await support.make_users(server.base_url, 2, model)
    token = users[0].headers["Authorization"].split()[1]
    until = time.monotonic() + ATTACK_SECONDS
    closed: list[str] = []
    opened: asyncio.Queue[str] = asyncio.Queue()
    attack = [
        asyncio.create_task(_slow_headers(server.port, until, closed, opened))
        for _ in range(SLOW_HEADERS)
    ]
    attack += [
        asyncio.create_task(_slow_body(server.port, "/v1/transfers", token, until, closed, opened))
        for _ in range(SLOW_BODIES)
    ]
    for _ in range(SLOW_HEADERS + SLOW_BODIES):  # every slow connection is open and stuck
        await asyncio.wait_for(opened.get(), timeout=10)
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
        while time.monotonic() < until - 0.5:
            start = time.perf_counter()
            try:
                async with s.get(
                    f"{server.base_url}/v1/accounts/{users[1].account}", headers=users[1].headers
                ) as r:
                    await r.read()
                    ok = r.status == 200
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            latencies.append(time.perf_counter() - start)
            failures += not ok
            await asyncio.sleep(0.02)
    await asyncio.gather(*attack)
    return latencies, failures, closed


def test_slow_clients_do_not_stop_others_being_served(sqlite_url: str, tmp_path: Path) -> None:
    env = service_env(sqlite_url)
    migrate(env, tmp_path / "migrate.log")

    with Server(env, tmp_path / "server.log") as server:
        latencies, failures, closed = asyncio.run(_scenario(server))

    latencies.sort()
    assert failures == 0
    assert len(latencies) > 100
    assert latencies[int(0.99 * len(latencies))] < 0.5, latencies[-5:]
    print(
        f"\n{len(latencies)} requests served during the attack, p99 "
        f"{1000 * latencies[int(0.99 * len(latencies))]:.1f} ms, max "
        f"{1000 * latencies[-1]:.1f} ms; slow connections closed by the server: {len(closed)} "
        f"of {SLOW_HEADERS + SLOW_BODIES}"
    )
