"""Profile the production server's workers under the mixed load with py-spy.

    python -m tests.perf.profile [--db sqlite] [--concurrency 32] [--duration 20] \
        [--py-spy /tmp/prof-venv/bin/py-spy]

py-spy is not a project dependency: install it in a throwaway venv (`python3 -m venv
/tmp/prof-venv && /tmp/prof-venv/bin/pip install py-spy`). It samples every worker (`--gil`:
only the thread holding the GIL, i.e. where Python time goes) while the bench's mixed workload
runs, writes collapsed stacks under results/raw/, and prints the share of samples whose stack
passes through each component (a sample may count in several components).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.perf import bench, harness
from tests.perf.harness import Model, Server

# Component -> substrings of a frame ("function (file:line)") that put a sample in it.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "connexion (routing, security, params, validation, response)": ("(connexion/",),
    "  connexion request body/param validation": (
        "(connexion/validators/",
        "(jsonschema/",
    ),
    "  connexion parameter decorator (inspect.signature)": ("inspect.py",),
    "starlette": ("(starlette/",),
    "sqlalchemy (execute/compile/result/pool)": ("(sqlalchemy/",),
    "  sqlalchemy statement compile / cache key": (
        "sqlalchemy/sql/compiler.py",
        "sqlalchemy/sql/cache_key.py",
    ),
    "sqlite3 driver (C, incl. waits)": ("sqlite3", "execute (sqlalchemy/engine/default.py"),
    "psycopg": ("(psycopg/",),
    "pydantic (generated models)": ("(pydantic/", "pydantic_core"),
    "jwt decode": ("(jwt/",),
    "structlog / logging": ("(structlog/", "logging/__init__.py"),
    "prometheus metrics": ("(prometheus_client/",),
    "anyio thread hop": ("(anyio/", "concurrent/futures", "threading.py"),
    "uvicorn / httptools / uvloop": ("(uvicorn/", "httptools", "uvloop"),
    "json encode/decode": ("json/encoder.py", "json/decoder.py", "json/__init__.py"),
    "bank code (own frames)": ("(bank/",),
    "bank.api.gateway": ("bank/api/gateway.py",),
    "bank.services.idempotency": ("bank/services/idempotency.py",),
    "uuid": ("uuid.py",),
}


def summarise(collapsed: list[Path]) -> tuple[int, Counter[str], Counter[str]]:
    """(total samples, samples per component, samples per leaf frame)."""
    total = 0
    per_component: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for path in collapsed:
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = stack.split(";")
            leaves[frames[-1]] += count
            for name, needles in COMPONENTS.items():
                if any(needle in stack for needle in needles):
                    per_component[name] += count
    return total, per_component, leaves


async def _profile(args: argparse.Namespace, workdir: Path) -> list[Path]:
    out = bench.RESULTS / "raw"
    out.mkdir(parents=True, exist_ok=True)
    pg_ctx = harness.postgres_database() if args.db == "postgres" else None
    url = pg_ctx.__enter__() if pg_ctx else f"sqlite:///{workdir / 'profile.db'}"
    try:
        env = harness.service_env(url, LOG_LEVEL=args.log_level)
        harness.migrate(env, workdir / "migrate.log")
        model = Model()
        with Server(env, workdir / "server.log") as server:
            population = await bench.setup_population(server.base_url, model)
            clients, spread = await bench.open_clients(server, args.concurrency)
            paths = [out / f"profile-{args.db}-{pid}.collapsed" for pid in server.worker_pids()]
            spies = [
                subprocess.Popen(
                    [
                        args.py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(int(args.duration) - 2),
                        "--rate",
                        "250",
                        "--gil",
                        "--format",
                        "raw",
                        "--output",
                        str(path),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid, path in zip(server.worker_pids(), paths, strict=True)
            ]
            work = bench.Workload(population, model, f"profile-{os.urandom(3).hex()}")
            result = await bench.timed_run(clients, work, args.duration)
            for client in clients:
                await client.close()
            for spy in spies:
                spy.wait(timeout=60)
            print(
                f"{len(result.records)} requests in {result.elapsed:.1f}s "
                f"({len(result.records) / result.elapsed:.0f}/s), connections {spread}"
            )
            audit = harness.audit(url, env, model)
            print("audit", "clean" if audit["ok"] else audit["problems"])
    finally:
        if pg_ctx:
            pg_ctx.__exit__(None, None, None)
    return [p for p in paths if p.exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.profile", description=__doc__)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--py-spy",
        default=os.environ.get("PY_SPY", "/tmp/prof-venv/bin/py-spy"),
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bank-profile-"))
    paths = asyncio.run(_profile(args, workdir))
    total, components, leaves = summarise(paths)
    print(
        f"\n{total} GIL-holding samples over {len(paths)} workers ({args.db}, c={args.concurrency})"
    )
    print("| component | share of GIL-held samples |\n|---|---|")
    for name in COMPONENTS:
        print(f"| {name} | {100 * components[name] / max(1, total):.1f}% |")
    print("\nTop leaf frames:")
    for frame, count in leaves.most_common(25):
        print(f"  {100 * count / max(1, total):5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
