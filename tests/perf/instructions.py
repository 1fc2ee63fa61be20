"""Instructions per request, counted by callgrind: a measure this shared VM cannot blur.

    python -m tests.perf.instructions [--db postgres|sqlite] [--requests 200]
        [--ops transfer,deposit,get_account,statement,live] [--server]

Timed runs on this VM swing by 1.3-1.8x between minutes, so a 5-10% change in per-request CPU
cannot be seen in benchmark pairs. Instructions can: the same code gives the same count to
~0.01%. For each operation this runs one Python process under `valgrind --tool=callgrind` with
collection off; the process sets up a user and two funded accounts, drives the ASGI app directly
(no sockets, no uvicorn: the app's own work, handler to database driver), warms up, switches
collection on (`callgrind_control -i on`) for `--requests` requests only, and off again. The
count divided by the requests is what the worker's Python (and the driver's C) executes per
request; the database server's work is not in it. valgrind is a system tool, not a project
dependency (Debian's `valgrind` package; it is on this machine).

`--server` counts PostgreSQL's side instead: a private cluster (initdb in a temp dir, as the
`postgres` OS user when run as root, autovacuum off so that no ANALYZE re-plans midway) runs
under callgrind, every backend counted from its start to its exit. The app runs outside
valgrind, twice: `--requests` and three times as many requests after the same setup and
warm-up; the difference of its backends' totals over the extra requests is what the server
executes per request, parsing, planning, the money functions, commit and all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.perf.harness import (
    REPO_ROOT,
    cluster_directory,
    driver_url,
    free_port,
    migrate,
    postgres_database,
    postgres_tools,
    service_env,
)

OPS = ("transfer", "deposit", "get_account", "statement", "live")
# Also countable (--ops): a withdrawal that over-draws, refused with 409 insufficient_funds.
EXTRA_OPS = ("overdraw",)
OVERDRAW = 10**14  # more than the accounts here hold (as in the benchmark)
PASSWORD = "instructions-password-1"


async def _call(
    app: Any, method: str, target: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    pairs = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body is not None:
        pairs += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": pairs,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": raw, "more_body": False}]
    sent: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        else:
            sent["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return sent["status"], json.loads(sent["body"]) if sent["body"] else None


async def _customer(app: Any, name: str) -> tuple[dict[str, str], str]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@bench.example.com"
    signup = {"email": email, "password": PASSWORD, "first_name": "Count", "last_name": name}
    status, _ = await _call(app, "POST", "/v1/auth/signup", {**signup, "dob": "1990-01-01"})
    assert status == 201, status
    _, tokens = await _call(app, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    status, account = await _call(
        app, "POST", "/v1/accounts", {"type": "checking", "currency": "USD"}, keyed
    )
    assert status == 201, status
    deposit = {"account_id": account["id"], "type": "deposit", "amount": 10**12, "currency": "USD"}
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    status, _ = await _call(app, "POST", "/v1/transactions", deposit, keyed)
    assert status == 201, status
    return headers, account["id"]


def _operations(
    app: Any, owner: dict[str, str], source: str, target: str
) -> dict[str, Callable[[], Awaitable[tuple[int, Any]]]]:
    def keyed() -> dict[str, str]:
        return {**owner, "Idempotency-Key": uuid.uuid4().hex}

    move = {"from_account_id": source, "to_account_id": target, "amount": 5, "currency": "USD"}
    deposit = {"account_id": source, "type": "deposit", "amount": 5, "currency": "USD"}
    overdraw = {"account_id": source, "type": "withdrawal", "amount": OVERDRAW, "currency": "USD"}
    return {
        "transfer": lambda: _call(app, "POST", "/v1/transfers", move, keyed()),
        "deposit": lambda: _call(app, "POST", "/v1/transactions", deposit, keyed()),
        "overdraw": lambda: _call(app, "POST", "/v1/transactions", overdraw, keyed()),
        "get_account": lambda: _call(app, "GET", f"/v1/accounts/{source}", None, owner),
        "statement": lambda: _call(app, "GET", f"/v1/statements/{source}?limit=20", None, owner),
        "live": lambda: _call(app, "GET", "/v1/health/live"),
    }


async def _drive(database_url: str, op: str, requests: int, server: bool = False) -> None:
    """Inside valgrind: set up, warm up, count `requests` requests of `op`. With `server`
    (outside valgrind, the server under it): run them, then print the backends' pids."""
    random.seed(0)  # the expired-key purge (one write in 500) is drawn: the same draws each run
    env = service_env(database_url, LOG_LEVEL="WARNING")
    for name in ("DATABASE_URL", "APP_ENV", "JWT_SECRET", "BCRYPT_ROUNDS", "LOG_LEVEL"):
        os.environ[name] = env[name]
    migrate(env, Path(tempfile.mkdtemp()) / "migrate.log")
    from bank.app import create_app
    from bank.core.config import Settings

    app = create_app(Settings())
    (owner, source), (_, target) = await _customer(app, "a"), await _customer(app, "b")
    run = _operations(app, owner, source, target)[op]
    answers = (409,) if op == "overdraw" else (200, 201)
    for _ in range(200):
        status, _ = await run()
        assert status in answers, status
    if server:
        for _ in range(requests):
            await run()
        print("backends", json.dumps(_backend_pids(database_url)), flush=True)
        return
    control = ["callgrind_control", "-i"]
    subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(requests):
        await run()
    subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)


def count(db: str, op: str, requests: int) -> int:
    """Instructions per request of `op` (a fresh database and process each time)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "tests.perf.instructions",
            "--inside",
            op,
            "--db",
            db,
            "--requests",
            str(requests),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise RuntimeError(
                f"{op}: valgrind exited {result.returncode}: {result.stderr[-2000:]}"
            )
        return int(found.group(1)) // requests


def _backend_pids(database_url: str) -> list[int]:
    import psycopg

    with psycopg.connect(driver_url(database_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sorted(row[0] for row in rows)


class CallgrindPostgres:
    """A private PostgreSQL cluster whose every process runs under callgrind."""

    def __init__(self) -> None:
        tools = postgres_tools()
        if tools is None:
            raise RuntimeError("no PostgreSQL server under /usr/lib/postgresql/*/bin")
        self.bin = tools
        self.dir, self.as_postgres = cluster_directory("bank-instr-pg-")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> CallgrindPostgres:
        data = str(self.dir / "data")
        initdb = [str(self.bin / "initdb"), "-D", data, "-U", "postgres", "--auth=trust"]
        subprocess.run([*self.as_postgres, *initdb], check=True, capture_output=True)
        out = f"--callgrind-out-file={self.dir}/callgrind.%p"
        server = [str(self.bin / "postgres"), "-D", data, "-p", str(self.port)]
        settings = [
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={self.dir}",
            "autovacuum=off",
        ]
        options = [part for setting in settings for part in ("-c", setting)]
        self.process = subprocess.Popen(
            [*self.as_postgres, "valgrind", "--tool=callgrind", out, *server, *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import psycopg

        deadline = time.monotonic() + 120
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=5).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop = [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "stop"]
            subprocess.run([*self.as_postgres, *stop], capture_output=True, check=False)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def total(self, pids: list[int]) -> int:
        """The instructions the backends `pids` executed, once each has exited."""
        total = 0
        for pid in pids:
            out = self.dir / f"callgrind.{pid}"
            deadline = time.monotonic() + 60
            while (found := _totals(out)) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"backend {pid} left no callgrind totals in {out}")
                time.sleep(0.2)
            total += found
        return total


def _totals(path: Path) -> int | None:
    try:
        found = re.search(r"^totals: (\d+)", path.read_text(), re.M)
    except FileNotFoundError:
        return None
    return int(found.group(1)) if found else None


def server_count(pg: CallgrindPostgres, op: str, requests: int) -> int:
    """PostgreSQL's instructions per request of `op` (see the module's docstring)."""
    totals = []
    for n in (requests, 3 * requests):
        command = [sys.executable, "-m", "tests.perf.instructions", "--inside", op]
        command += ["--server-url", pg.admin_url, "--requests", str(n)]
        result = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=900
        )
        found = re.search(r"^backends (\[.*\])$", result.stdout, re.M)
        if result.returncode != 0 or found is None:
            raise RuntimeError(f"{op}: exited {result.returncode}: {result.stderr[-2000:]}")
        totals.append(pg.total(json.loads(found.group(1))))
    return (totals[1] - totals[0]) // (2 * requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument(
        "--server", action="store_true", help="count PostgreSQL's instructions, not the app's"
    )
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the process that drives the app
    parser.add_argument("--server-url", help=argparse.SUPPRESS)  # with --inside: that server
    args = parser.parse_args(argv)
    if args.inside:
        if args.server_url:
            with postgres_database(args.server_url, prefix="bank_instr") as url:
                asyncio.run(_drive(url, args.inside, args.requests, server=True))
            return 0
        with _database(args.db) as url:
            asyncio.run(_drive(url, args.inside, args.requests))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.server:
        ops = [op for op in args.ops.split(",") if op != "live"]  # live never reaches it
        print("| operation | PostgreSQL instructions per request |\n|---|---|")
        with CallgrindPostgres() as pg:
            for op in ops:
                print(f"| {op} | {server_count(pg, op, args.requests):,} |", flush=True)
        return 0
    print(f"| operation ({args.db}) | instructions per request |\n|---|---|")
    for op in args.ops.split(","):
        print(f"| {op} | {count(args.db, op, args.requests):,} |", flush=True)
    return 0


class _database:
    """A throwaway database: PostgreSQL on the local server, or a SQLite file."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._pg: Any = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if self.db == "postgres":
            self._pg = postgres_database(prefix="bank_instr")
            url: str = self._pg.__enter__()
            return url
        self._dir = tempfile.TemporaryDirectory()
        return f"sqlite:///{self._dir.name}/instructions.db"

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(*exc)
        if self._dir is not None:
            self._dir.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
