"""Data scaling: do the hot requests stay as fast on a loaded database as on an empty one?

    python -m tests.perf.scale [--db sqlite,postgres] [--accounts 100000] \
        [--transactions 1000000] [--samples 200]

For each database: measure a statement page, an account read and a transfer (sequential, one
connection, through the production server) on a nearly empty database; bulk-load `--accounts`
accounts and `--transactions` ledger rows directly in SQL (consistent balances, entry_count,
credited totals, seq and balance_after chains: one deposit per account, then transfers between
random pairs);
check the load with `bank ledger verify`; measure again. Target: each median within 2x.

On PostgreSQL it also captures the SQL that the service runs for those three requests and
writes EXPLAIN (ANALYZE, BUFFERS) of each to results/query-plans.md (writes rolled back).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.perf import harness
from tests.perf.harness import Server

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 2.0
CHUNK = 50_000


@dataclass
class Subject:
    headers: dict[str, str]
    account: str
    target: str
    holder_id: str = ""


# ---------------------------------------------------------------- measuring


async def _json(resp: aiohttp.ClientResponse) -> Any:
    return await resp.json(content_type=None)


async def make_subject(base: str) -> Subject:
    async with aiohttp.ClientSession() as s:
        accounts = []
        headers: dict[str, str] = {}
        for name in ("subject", "target"):
            email = f"scale-{name}-{os.urandom(4).hex()}@bench.example.com"
            body = {
                "email": email,
                "password": "scale-password",
                "first_name": "S",
                "last_name": name,
                "dob": "1980-05-05",
            }
            async with s.post(f"{base}/v1/auth/signup", json=body) as r:
                assert r.status == 201, await r.text()
            async with s.post(
                f"{base}/v1/auth/login", json={"email": email, "password": "scale-password"}
            ) as r:
                token = (await _json(r))["access_token"]
            hdr = {"Authorization": f"Bearer {token}"}
            async with s.post(
                f"{base}/v1/accounts",
                json={"type": "checking", "currency": "USD"},
                headers={**hdr, "Idempotency-Key": "open"},
            ) as r:
                account = (await _json(r))["id"]
            deposit = {
                "account_id": account,
                "type": "deposit",
                "amount": 10**12,
                "currency": "USD",
            }
            async with s.post(
                f"{base}/v1/transactions", json=deposit, headers={**hdr, "Idempotency-Key": "fund"}
            ) as r:
                assert r.status == 201
            accounts.append(account)
            if name == "subject":
                headers = hdr
    return Subject(headers=headers, account=accounts[0], target=accounts[1])


async def measure(base: str, subject: Subject, samples: int, phase: str) -> dict[str, Any]:
    """Sequential requests on one connection: median / p90 latency of each operation."""
    ops: dict[str, list[float]] = {"get_statement": [], "get_account": [], "create_transfer": []}
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as s:
        for i in range(samples + 20):  # the first 20 warm the caches
            for op, values in ops.items():
                start = time.perf_counter()
                if op == "get_statement":
                    async with s.get(
                        f"{base}/v1/statements/{subject.account}?limit=20", headers=subject.headers
                    ) as r:
                        await r.read()
                        assert r.status == 200, r.status
                elif op == "get_account":
                    async with s.get(
                        f"{base}/v1/accounts/{subject.account}", headers=subject.headers
                    ) as r:
                        await r.read()
                        assert r.status == 200, r.status
                else:
                    body = {
                        "from_account_id": subject.account,
                        "to_account_id": subject.target,
                        "amount": 1,
                        "currency": "USD",
                    }
                    key = f"{phase}-{i}-{os.urandom(4).hex()}"
                    async with s.post(
                        f"{base}/v1/transfers",
                        json=body,
                        headers={**subject.headers, "Idempotency-Key": key},
                    ) as r:
                        await r.read()
                        assert r.status == 201, r.status
                if i >= 20:
                    values.append((time.perf_counter() - start) * 1000)
    return {
        op: {
            "median_ms": round(statistics.median(v), 3),
            "p90_ms": round(sorted(v)[int(0.9 * len(v)) - 1], 3),
        }
        for op, v in ops.items()
    }


# ---------------------------------------------------------------- bulk load


def generate(accounts: int, transactions: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for users, holders, accounts, transfers and transactions, consistent chains."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    base = now - timedelta(days=30)
    holders = max(1, accounts // 2)
    users_rows, holder_rows, holder_ids = [], [], []
    for i in range(holders):
        uid, hid = uuid.uuid4(), uuid.uuid4()
        users_rows.append(
            (
                uid,
                f"bulk{i}-{uid.hex[:8]}@bulk.example.com",
                "!bulk-no-login",
                "customer",
                base - timedelta(days=1),
            )
        )
        holder_rows.append((hid, uid, "Bulk", f"H{i}", date(1980, 1, 1), base - timedelta(days=1)))
        holder_ids.append(hid)
    account_ids = [uuid.uuid4() for _ in range(accounts)]
    balance = [0] * accounts
    credited = [0] * accounts
    seq = [0] * accounts
    deposits = min(accounts, transactions)
    transfer_count = (transactions - deposits) // 2
    events = deposits + transfer_count
    step = timedelta(days=29) / max(1, events)
    tx_rows: list[tuple[Any, ...]] = []
    transfer_rows: list[tuple[Any, ...]] = []
    moment = base
    opened = base - timedelta(hours=1)
    last_posted = [opened] * accounts
    for i in range(deposits):
        moment += step
        last_posted[i] = moment
        amount = rng.randint(100_000, 10_000_000)
        balance[i] += amount
        credited[i] += amount
        seq[i] += 1
        tx_rows.append(
            (
                uuid.uuid4(),
                account_ids[i],
                seq[i],
                "deposit",
                amount,
                "USD",
                balance[i],
                credited[i],
                None,
                None,
                moment,
            )
        )
    for _ in range(transfer_count):
        moment += step
        a, b = rng.randrange(accounts), rng.randrange(accounts - 1)
        b = b + 1 if b >= a else b
        amount = rng.randint(1, max(1, min(50_000, balance[a])))
        if balance[a] < amount:
            a, b = b, a
            if balance[a] < amount:
                continue
        tid = uuid.uuid4()
        transfer_rows.append((tid, account_ids[a], account_ids[b], amount, "USD", None, moment))
        balance[a] -= amount
        seq[a] += 1
        last_posted[a] = last_posted[b] = moment
        tx_rows.append(
            (
                uuid.uuid4(),
                account_ids[a],
                seq[a],
                "transfer_out",
                amount,
                "USD",
                balance[a],
                credited[a],
                tid,
                None,
                moment,
            )
        )
        balance[b] += amount
        credited[b] += amount
        seq[b] += 1
        tx_rows.append(
            (
                uuid.uuid4(),
                account_ids[b],
                seq[b],
                "transfer_in",
                amount,
                "USD",
                balance[b],
                credited[b],
                tid,
                None,
                moment,
            )
        )
    account_rows = [
        (
            account_ids[i],
            holder_ids[i % holders],
            "checking",
            "USD",
            balance[i],
            "active",
            seq[i],
            credited[i],
            last_posted[i],
            opened,
        )
        for i in range(accounts)
    ]
    return {
        "users": users_rows,
        "account_holders": holder_rows,
        "accounts": account_rows,
        "transfers": transfer_rows,
        "transactions": tx_rows,
    }


COLUMNS = {
    "users": ("id", "email", "password_hash", "role", "created_at"),
    "account_holders": ("id", "user_id", "first_name", "last_name", "dob", "created_at"),
    "accounts": (
        "id",
        "holder_id",
        "type",
        "currency",
        "balance",
        "status",
        "entry_count",
        "credited_total",
        "last_posted_at",
        "created_at",
    ),
    "transfers": (
        "id",
        "from_account_id",
        "to_account_id",
        "amount",
        "currency",
        "description",
        "created_at",
    ),
    "transactions": (
        "id",
        "account_id",
        "seq",
        "type",
        "amount",
        "currency",
        "balance_after",
        "credited_total_after",
        "transfer_id",
        "description",
        "created_at",
    ),
}


def bulk_load(url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    if url.startswith("sqlite"):
        _load_sqlite(url, data)
    else:
        _load_postgres(url, data)


def _load_postgres(url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    import psycopg

    with psycopg.connect(harness.driver_url(url)) as conn:
        for table, rows in data.items():
            cols = ", ".join(COLUMNS[table])
            with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _load_sqlite(url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    """Through SQLAlchemy Core, so UUIDs and timestamps are stored exactly as the app stores
    them (CHAR(32) hex, naive UTC text)."""
    from sqlalchemy import create_engine, insert

    from bank.db import models as m

    engine = create_engine(url)
    tables = {t.name: t for t in m.Base.metadata.sorted_tables}
    with engine.begin() as conn:
        for table, rows in data.items():
            cols = COLUMNS[table]
            for start in range(0, len(rows), CHUNK):
                chunk = [dict(zip(cols, row, strict=True)) for row in rows[start : start + CHUNK]]
                conn.execute(insert(tables[table]), chunk)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


# ---------------------------------------------------------------- query plans


async def capture_plans(url: str, subject: Subject) -> str:
    """`query_plans` from a running event loop: on its own thread, since the transfer it
    captures is a coroutine that it runs to completion there."""
    return await asyncio.to_thread(query_plans, url, subject)


def query_plans(url: str, subject: Subject) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the service runs for the three requests."""
    from sqlalchemy import event

    from bank.db import prepared
    from bank.db.engine import make_engine
    from bank.db.uow import SqlAlchemyUnitOfWork
    from bank.domain.model import Actor, Role
    from bank.services import accounts, ledger

    engine = make_engine(url, pool_size=2)
    captured: list[tuple[str, str, Any]] = []
    label = ["?"]

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool
    ) -> None:
        captured.append((label[0], statement, params[0] if executemany else params))

    # The money path's prepared statements (and the held INSERTs) go to the driver directly.
    driver_call = prepared._call

    def _capture_prepared(conn: Any, sql: str, params: Any, **kw: Any) -> Any:
        captured.append((label[0], sql, params[0] if kw.get("many") else params))
        return driver_call(conn, sql, params, **kw)

    prepared._call = _capture_prepared
    # The money path's one statement goes out on an asynchronous connection (async_pool.py).
    to_driver = prepared.Prepared.driver_call

    def _capture_async(self: prepared.Prepared, dialect: Any, values: Any) -> tuple[str, Any]:
        sql, params = to_driver(self, dialect, values)
        captured.append((label[0], sql, params))
        return sql, params

    prepared.Prepared.driver_call = _capture_async  # type: ignore[method-assign]

    with engine.connect() as conn:
        holder = conn.exec_driver_sql(
            "SELECT holder_id FROM accounts WHERE id = %(id)s", {"id": uuid.UUID(subject.account)}
        ).scalar_one()
    actor = Actor(user_id=uuid.uuid4(), role=Role("customer"), holder_id=holder, jti="plans")
    account, target = uuid.UUID(subject.account), uuid.UUID(subject.target)
    label[0] = "GET /v1/statements/{id}?limit=20"
    asyncio.run(ledger.statement(SqlAlchemyUnitOfWork(engine), actor, account, None, None, 20, 0))
    label[0] = "GET /v1/accounts/{id}"
    asyncio.run(accounts.get_account(SqlAlchemyUnitOfWork(engine), actor, account))
    label[0] = "POST /v1/transfers (Idempotency-Key)"
    req = ledger.TransferRequest(account, target, 1, "USD")
    key = f"plans-{os.urandom(4).hex()}"
    asyncio.run(ledger.transfer(SqlAlchemyUnitOfWork(engine), actor, req, key, 24))
    event.remove(engine, "before_cursor_execute", _capture)
    prepared._call = driver_call
    prepared.Prepared.driver_call = to_driver  # type: ignore[method-assign]
    out = [
        "# Query plans of the hot requests (PostgreSQL, loaded database)",
        "",
        "Captured from the service's own statements (`before_cursor_execute`) and run again",
        "under `EXPLAIN (ANALYZE, BUFFERS)` inside a transaction that is rolled back.",
        "",
    ]
    section = ""
    with engine.connect() as conn:
        totals = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions)"
        ).one()
        conn.rollback()
        out.insert(2, f"Database: {totals[0]:,} accounts, {totals[1]:,} transaction rows.\n")
        for name, statement, params in captured:
            if name == "?" or statement.strip().upper() in (
                "BEGIN",
                "COMMIT",
                "ROLLBACK",
                "SELECT 1",
            ):
                continue
            if name != section:
                out += [f"## {name}", ""]
                section = name
            if "INSERT" in statement.upper() or "bank_post_" in statement:
                params = _fresh(params)  # noqa: PLW2901 - explain a fresh row
            trans = conn.begin()
            try:
                if "bank_post_" in statement:
                    plans = _nested_plans(conn, statement, params)
                else:
                    explain = "EXPLAIN (ANALYZE, BUFFERS) " + statement
                    plans = ["\n".join(r[0] for r in conn.exec_driver_sql(explain, params))]
            finally:
                trans.rollback()
            out += ["```sql", " ".join(statement.split()), "```"]
            if len(plans) > 1:
                out += ["", "The statements inside the function (auto_explain, nested):", ""]
            for plan in plans:
                out += ["```", plan, "```"]
            out.append("")
    engine.dispose()
    return "\n".join(out)


def _nested_plans(conn: Any, statement: str, params: Any) -> list[str]:
    """A one-statement write's own plans: auto_explain logs each statement the function runs,
    with ANALYZE and BUFFERS, and `client_min_messages = log` sends them to this session."""
    notices: list[str] = []
    dbapi = conn.connection.dbapi_connection

    def collect(notice: Any) -> None:
        notices.append(notice.message_primary or "")

    dbapi.add_notice_handler(collect)
    try:
        for setting in (
            "LOAD 'auto_explain'",
            "SET LOCAL auto_explain.log_min_duration = 0",
            "SET LOCAL auto_explain.log_nested_statements = on",
            "SET LOCAL auto_explain.log_analyze = on",
            "SET LOCAL auto_explain.log_buffers = on",
            "SET LOCAL client_min_messages = log",
        ):
            conn.exec_driver_sql(setting)
        body = conn.exec_driver_sql(statement, params).scalar_one()
    finally:
        dbapi.remove_notice_handler(collect)  # the pooled connection outlives this explain
    if body is None:
        raise RuntimeError("the function did not post: its plans would show only the checks")
    return [notice.strip() for notice in notices if "Query Text" in notice]


def _fresh(params: dict[str, Any]) -> dict[str, Any]:
    """The same INSERT (or one-statement write) again without colliding with the committed
    row's unique keys."""
    fresh = dict(params)
    for name, value in params.items():
        column = re.sub(r"^h\d+_\d+_", "", name)  # held INSERTs prefix each row's names
        if column in ("id", "p_transfer_id", "p_transaction_id"):
            fresh[name] = uuid.uuid4()
        elif column in ("key", "p_key"):
            fresh[name] = f"explain-{os.urandom(4).hex()}"
        elif column == "seq":
            fresh[name] = value + 10**9
    return fresh


# ---------------------------------------------------------------- driver


async def scale_database(db: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    pg = harness.postgres_database(prefix="bank_scale") if db == "postgres" else None
    url = pg.__enter__() if pg else f"sqlite:///{workdir / 'scale.db'}"
    try:
        env = harness.service_env(url, LOG_LEVEL="WARNING")
        harness.migrate(env, workdir / f"{db}-migrate.log")
        with Server(env, workdir / f"{db}-server.log") as server:
            subject = await make_subject(server.base_url)
            empty = await measure(server.base_url, subject, args.samples, "empty")
        print(f"[{db}] empty: {json.dumps(empty)}", flush=True)
        t0 = time.monotonic()
        data = generate(args.accounts, args.transactions)
        t1 = time.monotonic()
        bulk_load(url, data)
        t2 = time.monotonic()
        rows = len(data["transactions"])
        del data
        verify = harness.ledger_verify(env)
        t3 = time.monotonic()
        print(
            f"[{db}] generated in {t1 - t0:.0f}s, loaded {rows:,} rows in {t2 - t1:.0f}s, "
            f"ledger verify {'ok' if verify.get('ok') else 'FAILED'} in {t3 - t2:.0f}s "
            f"{verify.get('totals')}",
            flush=True,
        )
        with Server(env, workdir / f"{db}-server.log") as server:
            loaded = await measure(server.base_url, subject, args.samples, "loaded")
        print(f"[{db}] loaded: {json.dumps(loaded)}", flush=True)
        if db == "postgres":
            (args.out / "query-plans.md").write_text(await capture_plans(url, subject))
        return {
            "db": db,
            "empty": empty,
            "loaded": loaded,
            "ledger_verify": verify,
            "load_seconds": round(t2 - t1, 1),
            "transactions": rows,
            "accounts": args.accounts,
        }
    finally:
        if pg:
            pg.__exit__(None, None, None)


def report(results: list[dict[str, Any]]) -> tuple[str, bool]:
    lines = [
        "# Data scaling",
        "",
        "| db | request | empty median ms | loaded median ms | ratio | empty p90 | "
        "loaded p90 | within 2x |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for r in results:
        for op, before in r["empty"].items():
            after = r["loaded"][op]
            ratio = after["median_ms"] / before["median_ms"]
            passed = ratio <= TARGET_RATIO
            ok = ok and passed
            lines.append(
                f"| {r['db']} | {op} | {before['median_ms']} | {after['median_ms']} | "
                f"{ratio:.2f} | {before['p90_ms']} | {after['p90_ms']} | "
                f"{'PASS' if passed else 'FAIL'} |"
            )
    for r in results:
        lines.append(
            f"\n{r['db']}: {r['accounts']:,} accounts and {r['transactions']:,} "
            f"transaction rows bulk-loaded in {r['load_seconds']} s; ledger verify "
            f"{'ok' if r['ledger_verify'].get('ok') else 'FAILED'} "
            f"({r['ledger_verify'].get('totals')})."
        )
    return "\n".join(lines) + "\n", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bank-scale-"))
    results = []
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        results.append(asyncio.run(scale_database(db, args, workdir)))
    text, ok = report(results)
    (args.out / "scale.md").write_text(text)
    print(text)
    broken = [r["db"] for r in results if not r["ledger_verify"].get("ok")]
    if broken:
        print(f"bulk load broke the ledger on {broken}", file=sys.stderr)
        return 1
    print("scaling target:", "PASS" if ok else "FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
