"""A retrying money client for fault injection: exactly-once checks through Idempotency-Keys.

Every operation has its own key, carried in the transfer's `description` too, so the database
can be asked how many times each key took effect. A client retries the same request with the
same key after a transport error, a 5xx or 409 `idempotency_request_in_progress`, until it gets
a definitive answer (201 or a business 409) or its deadline passes.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.perf import bench, harness
from tests.perf.harness import Model

RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class Outcome:
    key: str
    body: dict[str, Any]
    final_status: int | None = None
    attempts: int = 0
    replayed: bool = False


@dataclass
class LoadStats:
    attempts: Counter[int] = field(default_factory=Counter)  # status (-1: transport error)
    error_codes: Counter[str] = field(default_factory=Counter)
    bad_envelopes: list[str] = field(default_factory=list)  # 5xx without the JSON envelope
    outcomes: list[Outcome] = field(default_factory=list)


async def under_load(stats: LoadStats, outcomes: int = 30, timeout: float = 30.0) -> None:
    """Until the load has resolved `outcomes` transfers: the fault then hits a busy service."""
    deadline = time.monotonic() + timeout
    while len(stats.outcomes) < outcomes:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(stats.outcomes)} transfers in {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def make_users(base: str, count: int, model: Model) -> list[bench.User]:
    gate = asyncio.Semaphore(4)
    async with aiohttp.ClientSession() as session:
        made = await asyncio.gather(
            *(bench._make_user(session, base, f"fault{i}", model, gate) for i in range(count))
        )
    return list(made)


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    outcome: Outcome,
    headers: dict[str, str],
    stats: LoadStats,
) -> bool:
    """One try; True when the answer is definitive."""
    outcome.attempts += 1
    try:
        async with session.post(url, data=json.dumps(outcome.body), headers=headers) as resp:
            raw = await resp.read()
            status = resp.status
            replayed = resp.headers.get("Idempotent-Replayed") == "true"
    except (TimeoutError, aiohttp.ClientError):
        stats.attempts[-1] += 1
        return False
    stats.attempts[status] += 1
    code = ""
    try:
        code = json.loads(raw)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        if status >= 400:
            stats.bad_envelopes.append(f"{status}: {raw[:200]!r}")
    if code:
        stats.error_codes[f"{status}:{code}"] += 1
    if status in RETRY_STATUSES or code == "idempotency_request_in_progress":
        return False
    outcome.final_status = status
    outcome.replayed = replayed
    return True


async def transfer_loop(
    base: str,
    users: list[bench.User],
    model: Model,
    stats: LoadStats,
    *,
    clients: int,
    until: float,
    resolve_by: float,
    tag: str,
) -> None:
    """`clients` concurrent transfer loops until `until`; retries may go on to `resolve_by`."""
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(no: int) -> None:
            rng = random.Random(no)
            count = 0
            while time.monotonic() < until:
                count += 1
                user = rng.choice(users)
                target = rng.choice([u for u in users if u is not user]).account
                key = f"{tag}-{no}-{count}"
                outcome = Outcome(
                    key,
                    {
                        "from_account_id": user.account,
                        "to_account_id": target,
                        "amount": rng.randint(1, 1000),
                        "currency": "USD",
                        "description": key,
                    },
                )
                stats.outcomes.append(outcome)
                headers = {
                    **user.headers,
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                }
                while time.monotonic() < resolve_by:
                    if await _attempt(session, f"{base}/v1/transfers", outcome, headers, stats):
                        break
                    await asyncio.sleep(0.1)
                if outcome.final_status == 201:
                    body = outcome.body
                    model.transfer(body["from_account_id"], body["to_account_id"], body["amount"])

        await asyncio.gather(*(one(i) for i in range(clients)))


def exactly_once(database_url: str, stats: LoadStats) -> list[str]:
    """Problems: unresolved keys, keys applied twice, effects without an acknowledgement."""
    problems = [
        f"unresolved {o.key} after {o.attempts} attempts"
        for o in stats.outcomes
        if o.final_status is None
    ]
    conn = harness.db_connect(database_url)
    try:
        rows = conn.execute(
            "SELECT description, COUNT(*) FROM transfers WHERE description IS NOT NULL "
            "GROUP BY description"
        ).fetchall()
    finally:
        conn.close()
    in_db = {str(r[0]): int(r[1]) for r in rows}
    for outcome in stats.outcomes:
        found = in_db.pop(outcome.key, 0)
        if outcome.final_status == 201 and found != 1:
            problems.append(f"{outcome.key}: acknowledged, {found} transfers in the database")
        if outcome.final_status not in (201, None) and found:
            problems.append(f"{outcome.key}: answered {outcome.final_status} but took effect")
    problems += [f"{key}: {n} transfers, never acknowledged" for key, n in in_db.items()]
    return problems[:20]
