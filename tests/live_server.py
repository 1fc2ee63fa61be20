"""Run the real service as a subprocess for end-to-end tests (SDK, CLI, demo flow).

`run_live_server(tmp_path)` migrates a fresh SQLite database in `tmp_path`, starts
`python -m bank.cli serve` on a free loopback port, waits for `GET /v1/health/live` to answer
200 and yields the base URL (`http://127.0.0.1:PORT`). The server is stopped on exit.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 60.0
MIGRATE_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment for migrate and serve: a fresh SQLite file, test settings, fast bcrypt.

    `overrides` win, e.g. `DATABASE_URL` for a PostgreSQL database.
    """
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
            "APP_ENV": "test",
            "JWT_SECRET": secrets.token_hex(32),  # 64 random characters
            "BCRYPT_ROUNDS": "4",
            "VALIDATE_RESPONSES": "true",  # a response that breaks the contract is a 500
            "LOGIN_MAX_FAILURES_PER_IP": "1000",  # every test logs in from 127.0.0.1
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def _log_tail(log_path: Path, limit: int = 4000) -> str:
    try:
        return log_path.read_text(errors="replace")[-limit:]
    except OSError:
        return "<no log>"


def _migrate(env: dict[str, str], log_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bank.cli", "migrate"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_SECONDS,
        check=False,
    )
    log_path.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"`bank.cli migrate` exited {result.returncode}:\n{_log_tail(log_path)}")


def _wait_until_live(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode} before it was live:\n"
                    f"{_log_tail(log_path)}"
                )
            try:
                if client.get(f"{base_url}/v1/health/live").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL_SECONDS)
    raise RuntimeError(
        f"the server was not live within {STARTUP_TIMEOUT_SECONDS:.0f}s:\n{_log_tail(log_path)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def run_live_server(tmp_path: Path, **env: str) -> Iterator[str]:
    """Migrate a fresh database, serve it on a free port, yield the base URL, then stop.

    Keyword arguments are extra environment variables for the service, e.g.
    `run_live_server(tmp_path, LOGIN_MAX_FAILURES_PER_EMAIL="3")`. The server's output goes
    to `tmp_path / "server.log"` and is quoted in the error when it fails to start.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    environment = server_env(tmp_path, **env)
    _migrate(environment, tmp_path / "migrate.log")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bank.cli", "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_live(base_url, process, log_path)
            yield base_url
        finally:
            _stop(process)
