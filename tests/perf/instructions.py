"""Instructions per request, counted by callgrind: a measure this shared VM cannot blur.

    python -m tests.perf.instructions [--db postgres|sqlite] [--requests 200]
        [--ops transfer,deposit,get_account,statement,live]

Timed runs on this VM swing by 1.3-1.8x between minutes, so a 5-10% change in per-request CPU
cannot be seen in benchmark pairs. Instructions can: the same code gives the same count to
~0.01%. For each operation this runs one Python process under `valgrind --tool=callgrind` with
collection off; the process sets up a user and two funded accounts, drives the ASGI app directly
(no sockets, no uvicorn: the app's own work, handler to database driver), warms up, switches
collection on (`callgrind_control -i on`) for `--requests` requests only, and off again. The
count divided by the requests is what the worker's Python (and the driver's C) executes per
request; the database server's work is not in it. valgrind is a system tool, not a project
dependency (Debian's `valgrind` package; it is on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.perf.harness import REPO_ROOT, migrate, postgres_database, service_env

OPS = ("transfer", "deposit", "get_account", "statement", "live")
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
    return {
        "transfer": lambda: _call(app, "POST", "/v1/transfers", move, keyed()),
        "deposit": lambda: _call(app, "POST", "/v1/transactions", deposit, keyed()),
        "get_account": lambda: _call(app, "GET", f"/v1/accounts/{source}", None, owner),
        "statement": lambda: _call(app, "GET", f"/v1/statements/{source}?limit=20", None, owner),
        "live": lambda: _call(app, "GET", "/v1/health/live"),
    }


async def _drive(database_url: str, op: str, requests: int) -> None:
    """Inside valgrind: set up, warm up, count `requests` requests of `op`."""
    env = service_env(database_url, LOG_LEVEL="WARNING")
    for name in ("DATABASE_URL", "APP_ENV", "JWT_SECRET", "BCRYPT_ROUNDS", "LOG_LEVEL"):
        os.environ[name] = env[name]
    migrate(env, Path(tempfile.mkdtemp()) / "migrate.log")
    from bank.app import create_app
    from bank.core.config import Settings

    app = create_app(Settings())
    (owner, source), (_, target) = await _customer(app, "a"), await _customer(app, "b")
    run = _operations(app, owner, source, target)[op]
    for _ in range(200):
        status, _ = await run()
        assert status in (200, 201), status
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the process valgrind runs
    args = parser.parse_args(argv)
    if args.inside:
        with _database(args.db) as url:
            asyncio.run(_drive(url, args.inside, args.requests))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
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
