"""Load benchmark of the production server with a money audit after every run.

    python -m tests.perf.bench [--db sqlite,postgres] [--concurrency 1,8,32,64] [--duration 20]

For each database: a fresh database, `gunicorn -c bank/gunicorn_conf.py` with 2 workers,
users and accounts set up through the API, then one timed run per concurrency of the mixed
workload (70% transfers, half between a few hot accounts and half to other users' accounts;
10% deposits; 10% withdrawals, a fifth of them over-drawing on purpose -> 409; 10% reads of an
account or a statement page), and the framework ceiling (`GET /v1/health/live` on the same
server) right after the c=32 run; then that pair again (RSS growth). Every mutating request
carries an Idempotency-Key. The c=32 targets are judged on the better run of each pair's side:
another tenant of this shared VM only slows a run down. The host loop (a fixed Python loop timed
before and after every run) shows the host's speed at those two moments; it can miss a slowdown
in between.

After every run: each account's balance equals the client's record of acknowledged (201)
operations and the sum of its transaction rows, none is negative, the total equals deposits
minus withdrawals, and `bank ledger verify` passes. Any 5xx, transport error or unexpected
status is a correctness failure (exit 1). Speed targets are reported PASS/FAIL only.

Output: tests/perf/results/results.jsonl (one JSON line per run), results.md (table and
targets), throughput-p99.png, and per-request CSVs under results/raw/ (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.perf import harness
from tests.perf.harness import Model, Server

RESULTS = Path(__file__).resolve().parent / "results"
CURRENCY = "USD"
INITIAL_FUNDS = 1_000_000_000
OVERDRAW = 10**14  # more than all the money in the system: always insufficient_funds
HOT_USERS = 4
OTHER_USERS = 28
TARGET_CONCURRENCY = 32
TARGET_P99_MS = 100.0
TARGET_CEILING_SHARE = 0.20
TARGET_RSS_MB = 150.0
TARGET_RSS_GROWTH = 0.10
MUTATION_RETRIES = 5

# Operation codes in the raw data.
TRANSFER_HOT, TRANSFER_OTHER, DEPOSIT, WITHDRAW, OVERDRAW_OP, READ_ACCOUNT, READ_STATEMENT = range(
    7
)
LIVE = 7
OP_NAMES = [
    "transfer_hot",
    "transfer_other",
    "deposit",
    "withdrawal",
    "overdraw",
    "get_account",
    "get_statement",
    "health_live",
]
EXPECTED = {
    TRANSFER_HOT: 201,
    TRANSFER_OTHER: 201,
    DEPOSIT: 201,
    WITHDRAW: 201,
    OVERDRAW_OP: 409,
    READ_ACCOUNT: 200,
    READ_STATEMENT: 200,
    LIVE: 200,
}


@dataclass
class User:
    email: str
    headers: dict[str, str] = field(default_factory=dict)
    account: str = ""


@dataclass
class Population:
    hot: list[User]
    others: list[User]

    @property
    def everyone(self) -> list[User]:
        return self.hot + self.others


@dataclass
class RunResult:
    records: list[tuple[float, int, int, float]]  # start offset s, op, status, latency ms
    transport_errors: int
    unexpected: Counter[str]
    elapsed: float
    client_cpu: float


# ---------------------------------------------------------------- setup through the API


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with session.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def _make_user(
    session: aiohttp.ClientSession, base: str, tag: str, model: Model, gate: asyncio.Semaphore
) -> User:
    async with gate:
        user = User(email=f"{tag}-{os.urandom(4).hex()}@bench.example.com")
        password = "bench-password-1"
        signup = {
            "email": user.email,
            "password": password,
            "first_name": "Bench",
            "last_name": tag,
            "dob": "1990-01-01",
        }
        status, body = await _post(session, f"{base}/v1/auth/signup", signup, {})
        assert status == 201, (status, body)
        status, body = await _post(
            session, f"{base}/v1/auth/login", {"email": user.email, "password": password}, {}
        )
        assert status == 200, (status, body)
        user.headers = {"Authorization": f"Bearer {body['access_token']}"}
        status, body = await _post(
            session,
            f"{base}/v1/accounts",
            {"type": "checking", "currency": CURRENCY},
            {**user.headers, "Idempotency-Key": f"open-{user.email}"},
        )
        assert status == 201, (status, body)
        user.account = body["id"]
        deposit = {
            "account_id": user.account,
            "type": "deposit",
            "amount": INITIAL_FUNDS,
            "currency": CURRENCY,
        }
        status, body = await _post(
            session,
            f"{base}/v1/transactions",
            deposit,
            {**user.headers, "Idempotency-Key": f"fund-{user.email}"},
        )
        assert status == 201, (status, body)
        model.deposit(user.account, INITIAL_FUNDS)
        return user


async def setup_population(base: str, model: Model) -> Population:
    gate = asyncio.Semaphore(4)
    async with aiohttp.ClientSession() as session:
        hot = [_make_user(session, base, f"hot{i}", model, gate) for i in range(HOT_USERS)]
        others = [_make_user(session, base, f"user{i}", model, gate) for i in range(OTHER_USERS)]
        made = await asyncio.gather(*hot, *others)
    return Population(hot=list(made[:HOT_USERS]), others=list(made[HOT_USERS:]))


# ---------------------------------------------------------------- connections


class Client:
    """One virtual user: one persistent connection (a session with a single-connection pool)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=30),
            skip_auto_headers=("User-Agent",),
        )
        self.local_port = 0

    async def connect(self, server_port: int) -> None:
        """Open the connection; learn its local port from /proc (clients open one at a time)."""
        before = harness.client_ports(server_port)
        async with self.session.get(f"{self.base}/v1/health/live") as resp:
            await resp.read()
        new = harness.client_ports(server_port) - before
        self.local_port = new.pop() if len(new) == 1 else 0

    async def close(self) -> None:
        await self.session.close()


async def open_clients(server: Server, count: int) -> tuple[list[Client], list[int]]:
    """Open connections one by one and re-open any that landed on an over-full worker.

    A uvicorn worker may accept a whole burst of connections; this keeps the spread even.
    """
    workers = server.worker_pids()
    quota = math.ceil(count / max(1, len(workers)))
    per_worker: Counter[int] = Counter()
    clients: list[Client] = []
    for _ in range(count):
        for attempt in range(40):
            client = Client(server.base_url)
            await client.connect(server.port)
            await asyncio.sleep(0.002)
            owner = harness.server_side_peers(server.port, workers).get(client.local_port)
            if owner is None or per_worker[owner] < quota or attempt == 39:
                per_worker[owner or 0] += 1
                clients.append(client)
                break
            await client.close()
            await asyncio.sleep(0.01)
    return clients, [per_worker[pid] for pid in workers]


# ---------------------------------------------------------------- the workload


class Workload:
    def __init__(self, population: Population, model: Model, run_tag: str) -> None:
        self.pop = population
        self.model = model
        self.tag = run_tag
        self.counter = 0
        self.all_accounts = [u.account for u in population.everyone]

    def next_key(self, client_no: int) -> str:
        self.counter += 1
        return f"{self.tag}-{client_no}-{self.counter}"

    def pick(self, rng: random.Random) -> tuple[int, str, str, dict[str, Any] | None, User]:
        """(op, method, path, body, user)."""
        roll = rng.random()
        if roll < 0.35:
            user = rng.choice(self.pop.hot)
            target = rng.choice([u for u in self.pop.hot if u is not user]).account
            return TRANSFER_HOT, "POST", "/v1/transfers", self._transfer(user, target, rng), user
        if roll < 0.70:
            user = rng.choice(self.pop.everyone)
            target = rng.choice([a for a in self.all_accounts if a != user.account])
            body = self._transfer(user, target, rng)
            return TRANSFER_OTHER, "POST", "/v1/transfers", body, user
        user = rng.choice(self.pop.everyone)
        if roll < 0.80:
            body = self._movement(user, "deposit", rng.randint(1, 5_000))
            return DEPOSIT, "POST", "/v1/transactions", body, user
        if roll < 0.90:
            if rng.random() < 0.2:
                body = self._movement(user, "withdrawal", OVERDRAW)
                return OVERDRAW_OP, "POST", "/v1/transactions", body, user
            body = self._movement(user, "withdrawal", rng.randint(1, 5_000))
            return WITHDRAW, "POST", "/v1/transactions", body, user
        if roll < 0.95:
            return READ_ACCOUNT, "GET", f"/v1/accounts/{user.account}", None, user
        return READ_STATEMENT, "GET", f"/v1/statements/{user.account}?limit=20", None, user

    @staticmethod
    def _transfer(user: User, target: str, rng: random.Random) -> dict[str, Any]:
        return {
            "from_account_id": user.account,
            "to_account_id": target,
            "amount": rng.randint(1, 10_000),
            "currency": CURRENCY,
        }

    @staticmethod
    def _movement(user: User, kind: str, amount: int) -> dict[str, Any]:
        return {"account_id": user.account, "type": kind, "amount": amount, "currency": CURRENCY}

    def acknowledge(self, op: int, body: dict[str, Any]) -> None:
        if op in (TRANSFER_HOT, TRANSFER_OTHER):
            self.model.transfer(body["from_account_id"], body["to_account_id"], body["amount"])
        elif op == DEPOSIT:
            self.model.deposit(body["account_id"], body["amount"])
        elif op in (WITHDRAW, OVERDRAW_OP):
            self.model.withdraw(body["account_id"], body["amount"])


async def _mutate(
    client: Client, url: str, data: bytes, headers: dict[str, str]
) -> tuple[int, bytes, int]:
    """POST with retries on transport errors (same key): (status, body, transport errors)."""
    errors = 0
    while True:
        try:
            async with client.session.post(url, data=data, headers=headers) as resp:
                return resp.status, await resp.read(), errors
        except (TimeoutError, aiohttp.ClientError):
            errors += 1
            if errors >= MUTATION_RETRIES:
                return -1, b"", errors
            await asyncio.sleep(0.05 * errors)


async def _client_loop(
    no: int,
    client: Client,
    work: Workload | None,
    deadline: float,
    t0: float,
    result: RunResult,
) -> None:
    rng = random.Random(no * 7919 + int(t0))
    records = result.records
    base = client.base
    json_headers = {"Content-Type": "application/json"}
    while True:
        start = time.perf_counter()
        if start >= deadline:
            return
        if work is None:
            op, status = LIVE, -1
            try:
                async with client.session.get(f"{base}/v1/health/live") as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError):
                result.transport_errors += 1
            records.append((start - t0, op, status, (time.perf_counter() - start) * 1000))
            continue
        op, method, path, body, user = work.pick(rng)
        raw = b""
        if method == "GET":
            try:
                async with client.session.get(base + path, headers=user.headers) as resp:
                    raw = await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError):
                result.transport_errors += 1
                status = -1
        else:
            headers = {**user.headers, **json_headers, "Idempotency-Key": work.next_key(no)}
            status, raw, errors = await _mutate(
                client, base + path, json.dumps(body).encode(), headers
            )
            result.transport_errors += errors
            if status == 201:
                assert body is not None
                work.acknowledge(op, body)
        records.append((start - t0, op, status, (time.perf_counter() - start) * 1000))
        if status != EXPECTED[op] or (op == OVERDRAW_OP and b"insufficient_funds" not in raw):
            result.unexpected[f"{OP_NAMES[op]}:{status}:{raw[:120].decode(errors='replace')}"] += 1


async def timed_run(clients: list[Client], work: Workload | None, duration: float) -> RunResult:
    result = RunResult([], 0, Counter(), 0.0, 0.0)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + duration
    await asyncio.gather(
        *(_client_loop(i, c, work, deadline, t0, result) for i, c in enumerate(clients))
    )
    result.elapsed = time.perf_counter() - t0
    result.client_cpu = time.process_time() - cpu0
    return result


# ---------------------------------------------------------------- one cell


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


HOST_LOOP_ITERATIONS = 200_000


def host_loop_ms(repeats: int = 5) -> float:
    """The best of `repeats` timings of a fixed pure-Python loop, in ms: how fast one core of the
    host runs Python at this moment. On a shared VM it drifts by up to 2x from one minute to the
    next (seen on 2026-12-06: 0.18-0.35 s for the same loop, process time equal to wall time), and
    every cell's numbers drift with it; recorded before and after each cell so a reader can see
    when a cell ran on a slow host (a slowdown between the two samples goes unseen)."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(HOST_LOOP_ITERATIONS):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


async def run_cell(
    server: Server,
    db: str,
    label: str,
    concurrency: int,
    duration: float,
    work: Workload | None,
    pg: bool,
) -> dict[str, Any]:
    host_before = host_loop_ms()
    clients, spread = await open_clients(server, concurrency)
    try:
        before = server.samples()
        pg_before = harness.postgres_cpu_seconds() if pg else 0.0
        result = await timed_run(clients, work, duration)
        after = server.samples()
        pg_after = harness.postgres_cpu_seconds() if pg else 0.0
    finally:
        for client in clients:
            await client.close()
    host_after = host_loop_ms()
    records = result.records
    statuses = Counter(r[2] for r in records)
    ok = sum(1 for r in records if r[2] == EXPECTED[r[1]])
    latencies = sorted(r[3] for r in records)
    worker_cpu = [
        round(after[pid].cpu_seconds - before[pid].cpu_seconds, 2) for pid in before if pid in after
    ]
    server_cpu = sum(worker_cpu)
    by_op: dict[str, Any] = {}
    for op in sorted({r[1] for r in records}):
        lat = sorted(r[3] for r in records if r[1] == op)
        by_op[OP_NAMES[op]] = {
            "n": len(lat),
            "p50_ms": round(percentile(lat, 0.5), 2),
            "p99_ms": round(percentile(lat, 0.99), 2),
        }
    raw_dir = RESULTS / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    with (raw_dir / f"{db}-{label}.csv").open("w") as handle:
        handle.write("t_s,op,status,latency_ms\n")
        for start, op, status, lat in records:
            handle.write(f"{start:.4f},{OP_NAMES[op]},{status},{lat:.3f}\n")
    share = max(worker_cpu) / server_cpu if server_cpu > 0 and len(worker_cpu) > 1 else None
    return {
        "db": db,
        "workload": "ceiling" if work is None else "mixed",
        "label": label,
        "concurrency": concurrency,
        "duration_s": round(result.elapsed, 2),
        "requests": len(records),
        "ok": ok,
        "ok_rps": round(ok / result.elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "server_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "transport_errors": result.transport_errors,
        "unexpected": dict(result.unexpected.most_common(10)),
        "unexpected_count": sum(result.unexpected.values()),
        "by_op": by_op,
        "connections_per_worker": spread,
        "worker_cpu_s": worker_cpu,
        "busiest_worker_cpu_share": round(share, 2) if share is not None else None,
        "server_cpu_ms_per_req": round(1000 * server_cpu / max(1, len(records)), 3),
        "postgres_cpu_ms_per_req": (
            round(1000 * (pg_after - pg_before) / max(1, len(records)), 3) if pg else None
        ),
        "client_cpu_ms_per_req": round(1000 * result.client_cpu / max(1, len(records)), 3),
        "rss_mb_per_worker": [round(s.rss_bytes / 2**20, 1) for s in after.values()],
        "host_loop_ms": [host_before, host_after],
    }


# ---------------------------------------------------------------- one database


def cell_plan(concurrency: list[int], repeat: bool) -> list[tuple[str, int, bool]]:
    """The runs in order: (label, concurrency, mixed workload or the ceiling).

    The ceiling run directly follows the mixed run at the target concurrency, so the pair that
    is compared sees the host alike; with `repeat` the pair runs again last (the second mixed
    run also measures memory growth). Without the target concurrency, one ceiling run at the
    highest concurrency comes last."""
    target = TARGET_CONCURRENCY
    plan: list[tuple[str, int, bool]] = []
    for c in concurrency:
        plan.append((f"c{c}", c, True))
        if c == target:
            plan.append((f"ceiling-c{c}", c, False))
    if target not in concurrency:
        top = max(concurrency)
        plan.append((f"ceiling-c{top}", top, False))
    elif repeat:
        plan += [(f"c{target}-repeat", target, True), (f"ceiling-c{target}-repeat", target, False)]
    return plan


async def bench_database(db: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with _database(db, workdir) as url:
        env = harness.service_env(url, LOG_LEVEL=args.log_level, **dict(args.env))
        harness.migrate(env, workdir / f"{db}-migrate.log")
        model = Model()
        with Server(env, workdir / f"{db}-server.log", workers=args.workers) as server:
            population = await setup_population(server.base_url, model)
            print(f"[{db}] {len(population.everyone)} users and accounts ready", flush=True)
            for label, concurrency, mixed in cell_plan(args.concurrency, not args.no_repeat):
                if not mixed:
                    row = await run_cell(server, db, label, concurrency, args.duration, None, False)
                    row["audit"] = None
                else:
                    work = Workload(population, model, f"{db}-{label}-{os.urandom(3).hex()}")
                    row = await run_cell(
                        server, db, label, concurrency, args.duration, work, db == "postgres"
                    )
                    row["audit"] = harness.audit(url, env, model)
                row["worker_pids"] = server.worker_pids()
                rows.append(row)
                _print_row(row)
            errors = [line for line in server.log_tail(200_000).splitlines() if "Traceback" in line]
            for row in rows:
                row["server_log_tracebacks"] = len(errors)
    return rows


class _database:
    def __init__(self, db: str, workdir: Path) -> None:
        self.db = db
        self.workdir = workdir
        self._pg: Any = None

    def __enter__(self) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.workdir / 'bench.db'}"
        self._pg = harness.postgres_database()
        url: str = self._pg.__enter__()
        return url

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(*exc)


def _print_row(row: dict[str, Any]) -> None:
    audit = row.get("audit")
    audit_text = "-" if audit is None else ("clean" if audit["ok"] else "FAILED")
    print(
        f"[{row['db']}] {row['label']:>14} c={row['concurrency']:<3} ok/s={row['ok_rps']:>7} "
        f"p50={row['p50_ms']:>7} p99={row['p99_ms']:>8} 5xx={row['server_5xx']} "
        f"transport={row['transport_errors']} unexpected={row['unexpected_count']} "
        f"cpu/req={row['server_cpu_ms_per_req']}ms rss={row['rss_mb_per_worker']} "
        f"conns={row['connections_per_worker']} audit={audit_text}",
        flush=True,
    )


# ---------------------------------------------------------------- targets and output


def machine() -> dict[str, Any]:
    model_name = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model_name = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model_name,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def check_targets(rows: list[dict[str, Any]]) -> list[tuple[str, bool, str, bool]]:
    """(target, passed, evidence, is_correctness)."""
    checks: list[tuple[str, bool, str, bool]] = []
    bad = [
        f"{r['db']}/{r['label']}"
        for r in rows
        if r["server_5xx"]
        or r["transport_errors"]
        or r["unexpected_count"]
        or (r["audit"] is not None and not r["audit"]["ok"])
    ]
    checks.append(
        (
            "zero 5xx / transport errors / unexpected statuses, clean audit, every cell",
            not bad,
            "all cells clean" if not bad else "failing: " + ", ".join(bad),
            True,
        )
    )
    for db in sorted({r["db"] for r in rows}):
        mine = {r["label"]: r for r in rows if r["db"] == db}
        mixed, other = _better_run(mine, f"c{TARGET_CONCURRENCY}")
        ceiling, other_ceiling = _better_run(mine, f"ceiling-c{TARGET_CONCURRENCY}")
        if mixed and ceiling:
            share = mixed["ok_rps"] / ceiling["ok_rps"] if ceiling["ok_rps"] else 0.0
            checks.append(
                (
                    f"{db}: mixed ok req/s at c=32 >= 20% of ceiling",
                    share >= TARGET_CEILING_SHARE,
                    f"{mixed['ok_rps']}{_other_note(mixed, other, 'ok_rps', '')} / "
                    f"{ceiling['ok_rps']}{_other_note(ceiling, other_ceiling, 'ok_rps', '')} "
                    f"= {share:.1%}",
                    False,
                )
            )
        if mixed:
            checks.append(
                (
                    f"{db}: p99 at c=32 < 100 ms",
                    mixed["p99_ms"] < TARGET_P99_MS,
                    f"p99 {mixed['p99_ms']} ms{_other_note(mixed, other, 'p99_ms', ' ms')}",
                    False,
                )
            )
        peak = max((max(r["rss_mb_per_worker"] or [0]) for r in mine.values()), default=0)
        checks.append(
            (f"{db}: RSS per worker < 150 MB", peak < TARGET_RSS_MB, f"peak {peak} MB", False)
        )
        repeat = mine.get(f"c{TARGET_CONCURRENCY}-repeat")
        if mixed and repeat:
            first, second = max(mixed["rss_mb_per_worker"]), max(repeat["rss_mb_per_worker"])
            growth = (second - first) / first if first else 0.0
            checks.append(
                (
                    f"{db}: RSS growth between two equal c=32 runs <= 10%",
                    growth <= TARGET_RSS_GROWTH,
                    f"{first} -> {second} MB ({growth:+.1%})",
                    False,
                )
            )
    return checks


def _better_run(
    mine: dict[str, dict[str, Any]], label: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The run `label` or its repeat, whichever served more (and the other, if both ran).

    Throughput and p99 are judged on the better of two equal runs, on both sides of the ceiling
    share alike: another tenant of the shared host only ever slows a run down, so the better run
    is the closer estimate of what the code does (as `timeit` takes the best of its repeats)."""
    runs = [run for run in (mine.get(label), mine.get(f"{label}-repeat")) if run is not None]
    if not runs:
        return None, None
    runs.sort(key=lambda run: run["ok_rps"], reverse=True)
    return runs[0], (runs[1] if len(runs) > 1 else None)


def _other_note(best: dict[str, Any], other: dict[str, Any] | None, key: str, unit: str) -> str:
    return "" if other is None else f" ({best['label']}; {other['label']} {other[key]}{unit})"


def markdown(
    rows: list[dict[str, Any]], checks: list[tuple[str, bool, str, bool]], meta: dict[str, Any]
) -> str:
    m = meta["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {meta['started']} with `{meta['command']}`: {meta['duration_s']} s per run, "
        f"{meta['workers']} gunicorn workers, client on the same machine.",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, "
        f"Python {m['python']}, Linux {m['kernel']}. Load average before the run: "
        f"{' '.join(meta['loadavg_before'])} (other processes on the machine share the 2 cores).",
        "",
        "| db | run | c | ok req/s | p50 ms | p90 ms | p99 ms | 5xx | transport | server CPU "
        "ms/req | PG CPU ms/req | client CPU ms/req | RSS MB/worker | conns/worker | audit "
        "| host loop ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        audit = r.get("audit")
        audit_text = "n/a" if audit is None else ("clean" if audit["ok"] else "**FAILED**")
        pg = r["postgres_cpu_ms_per_req"]
        lines.append(
            f"| {r['db']} | {r['label']} | {r['concurrency']} | {r['ok_rps']} | {r['p50_ms']} | "
            f"{r['p90_ms']} | {r['p99_ms']} | {r['server_5xx']} | {r['transport_errors']} | "
            f"{r['server_cpu_ms_per_req']} | {'-' if pg is None else pg} | "
            f"{r['client_cpu_ms_per_req']} | {' / '.join(map(str, r['rss_mb_per_worker']))} | "
            f"{' / '.join(map(str, r['connections_per_worker']))} | {audit_text} | "
            f"{' / '.join(map(str, r.get('host_loop_ms') or ['-']))} |"
        )
    lines += ["", "## Targets", ""]
    for name, passed, evidence, _ in checks:
        lines.append(f"- **{'PASS' if passed else 'FAIL'}** {name}: {evidence}")
    lines += [
        "",
        "ok req/s counts responses with the expected status (201, 200, and 409",
        "`insufficient_funds` for the deliberate over-draws). Latency percentiles are over all",
        "requests of the run. CPU per request is the workers' utime+stime from /proc divided by",
        "requests; PG CPU is every `postgres` process on the machine (the shared server).",
        "Host loop ms is a fixed pure-Python loop timed on the client before and after the run",
        "(best of 5): higher means the shared host ran Python slower at that moment, and every",
        "number of that run is slower with it. The c=32 targets take the better of the two",
        "mixed runs and the better of the two ceiling runs; every run is in the table.",
        "",
    ]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = {"sqlite": "tab:blue", "postgres": "tab:orange"}
    for db in sorted({r["db"] for r in rows}):
        mixed = sorted(
            (
                r
                for r in rows
                if r["db"] == db and r["workload"] == "mixed" and "repeat" not in r["label"]
            ),
            key=lambda r: r["concurrency"],
        )
        xs = [r["concurrency"] for r in mixed]
        ax1.plot(xs, [r["ok_rps"] for r in mixed], "o-", color=colors.get(db), label=f"{db} mixed")
        ax2.plot(xs, [r["p99_ms"] for r in mixed], "o-", color=colors.get(db), label=f"{db} mixed")
        for r in rows:
            if r["db"] == db and r["workload"] == "ceiling" and "repeat" not in r["label"]:
                ax1.axhline(
                    r["ok_rps"],
                    ls="--",
                    color=colors.get(db),
                    label=f"{db} ceiling (health/live, c={r['concurrency']})",
                )
    ax1.set(
        xscale="log",
        xlabel="concurrent clients",
        ylabel="ok requests/s",
        title="Throughput (log y)",
        yscale="log",
    )
    ax2.axhline(TARGET_P99_MS, ls=":", color="red", label="p99 target 100 ms")
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel="concurrent clients",
        ylabel="p99 latency (ms)",
        title="p99 latency",
    )
    for ax in (ax1, ax2):
        ax.set_xticks([1, 8, 32, 64], labels=["1", "8", "32", "64"])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--concurrency", default="1,8,32,64", help="comma list")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-repeat", action="store_true", help="skip the second c=32 pair (mixed and ceiling)"
    )
    parser.add_argument("--log-level", default="INFO", help="the service's LOG_LEVEL")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=lambda text: tuple(text.split("=", 1)),
        help="extra environment for the service, e.g. --env DB_POOL_SIZE=4 (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, SQLite)")
    args = parser.parse_args(argv)
    args.db = [d.strip() for d in args.db.split(",") if d.strip()]
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    unknown = set(args.db) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown --db {sorted(unknown)}")
    return args


async def main_async(args: argparse.Namespace) -> int:
    global RESULTS  # noqa: PLW0603 - --out redirects every writer, raw data included
    RESULTS = args.out
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bank-bench-"))
    meta = {
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m tests.perf.bench " + " ".join(sys.argv[1:]),
        "duration_s": args.duration,
        "workers": args.workers,
        "service_env": dict(args.env),
        "machine": machine(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }
    rows: list[dict[str, Any]] = []
    failed = False
    try:
        for db in args.db:
            rows += await bench_database(db, args, workdir)
    except Exception:
        failed = True
        print(f"benchmark aborted; logs kept in {workdir}", file=sys.stderr)
        raise
    finally:
        if rows:
            with (RESULTS / "results.jsonl").open("w") as handle:
                for row in rows:
                    handle.write(json.dumps({**row, "run": meta}) + "\n")
            checks = check_targets(rows)
            (RESULTS / "results.md").write_text(markdown(rows, checks, meta))
            plot(rows, RESULTS / "throughput-p99.png")
            print()
            print(markdown(rows, checks, meta))
            failed = failed or any(is_correct and not ok for _, ok, _, is_correct in checks)
        if not args.keep and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
        elif failed:
            print(f"work dir kept: {workdir}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
