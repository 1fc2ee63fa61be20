"""The production server as a subprocess, throwaway databases, /proc sampling and the money audit.

Shared by the benchmark (`tests.perf.bench`), the scaling check (`tests.perf.scale`) and the
fault-injection tests (`tests/faults`). Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn") if (VENV_BIN / "gunicorn").exists() else "gunicorn"
PG_ADMIN_URL = os.environ.get("BANK_PERF_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------- databases


def sqlalchemy_url(url: str) -> str:
    """The service's URL form for psycopg 3."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@contextmanager
def postgres_database(admin_url: str = PG_ADMIN_URL, prefix: str = "bank_perf") -> Iterator[str]:
    """Create a uniquely named database on the server at `admin_url`, yield its URL, drop it."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield sqlalchemy_url(f"{base}/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_tools() -> Path | None:
    """The newest installed PostgreSQL's bin directory (initdb, postgres, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def cluster_directory(prefix: str) -> tuple[Path, list[str]]:
    """A new temp directory for a private cluster, and the prefix that runs PostgreSQL's tools
    on it: as the `postgres` OS user when we are root (initdb and postgres refuse root)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() != 0:
        return directory, []
    shutil.chown(directory, "postgres", "postgres")
    return directory, ["runuser", "-u", "postgres", "--"]


def driver_url(url: str) -> str:
    """The URL psycopg.connect understands (no `+psycopg`)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def db_connect(url: str) -> Any:
    """A DB-API connection for the audit: sqlite3 or psycopg."""
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
        return conn
    import psycopg

    return psycopg.connect(driver_url(url), autocommit=True)


# ---------------------------------------------------------------- /proc


@dataclass(frozen=True)
class ProcSample:
    pid: int
    cpu_seconds: float
    rss_bytes: int


def proc_sample(pid: int) -> ProcSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return ProcSample(pid, (utime + stime) / CLOCK_TICKS, int(statm[1]) * PAGE_SIZE)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def postgres_cpu_seconds() -> float:
    """CPU of every process named postgres on the machine (the server and its backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith("postgres"):
            sample = proc_sample(int(entry.name))
            if sample is not None:
                total += sample.cpu_seconds
    return total


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _established(port: int, *, local: bool) -> list[tuple[int, int]]:
    """(inode, other side's port) of established sockets whose local/remote port is `port`."""
    found: list[tuple[int, int]] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            here, there, state = parts[1], parts[2], parts[3]
            if state != "01":
                continue
            mine, other = (here, there) if local else (there, here)
            if int(mine.rsplit(":", 1)[1], 16) == port:
                found.append((int(parts[9]), int(other.rsplit(":", 1)[1], 16)))
    return found


def client_ports(server_port: int) -> set[int]:
    """Local ports of this process's established connections to `server_port`."""
    inodes = _socket_inodes(os.getpid())
    return {other for inode, other in _established(server_port, local=False) if inode in inodes}


def server_side_peers(port: int, pids: list[int]) -> dict[int, int]:
    """Client (remote) port -> worker pid, for established connections to 127.0.0.1:port."""
    owner: dict[int, int] = {}
    for pid in pids:
        for inode in _socket_inodes(pid):
            owner[inode] = pid
    return {
        other: owner[inode] for inode, other in _established(port, local=True) if inode in owner
    }


# ---------------------------------------------------------------- the server


def service_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "APP_ENV": "production",
            "JWT_SECRET": secrets.token_hex(32),
            "BCRYPT_ROUNDS": "4",
            "LOGIN_MAX_FAILURES_PER_IP": "100000",
            "LOGIN_MAX_FAILURES_PER_EMAIL": "100000",
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": "8",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def migrate(env: Mapping[str, str], log_path: Path) -> None:
    result = subprocess.run(
        [PYTHON, "-m", "bank.cli", "migrate"],
        cwd=REPO_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    log_path.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"migrate exited {result.returncode}: {result.stderr[-2000:]}")


def ledger_verify(env: Mapping[str, str]) -> dict[str, Any]:
    """`bank ledger verify --json`; adds `exit_code`."""
    result = subprocess.run(
        [PYTHON, "-m", "bank.cli", "ledger", "verify", "--json"],
        cwd=REPO_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        report = {"ok": False, "error": (result.stdout + result.stderr)[-2000:]}
    report["exit_code"] = result.returncode
    return report


@dataclass
class Server:
    """gunicorn with the production config, in its own process group."""

    env: dict[str, str]
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = dict(self.env, HOST="127.0.0.1", PORT=str(self.port))
        env["WEB_CONCURRENCY"] = str(self.workers)
        self._log = self.log_path.open("ab")
        self._log_start = self._log.tell()
        # At INFO each worker logs service_started when its startup (database check) is done.
        self._wait_for_workers = env.get("LOG_LEVEL", "INFO").upper() in ("DEBUG", "INFO")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "bank/gunicorn_conf.py", "bank.app:make_asgi_app()"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}: {self.log_tail()}")
            if len(self.worker_pids()) >= self.workers and self._live() and self._all_started():
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready in {timeout:.0f}s: {self.log_tail()}")

    def _all_started(self) -> bool:
        """Every worker finished its startup (only known when the log level shows it)."""
        if not self._wait_for_workers:
            return True
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().count(b'"service_started"') >= self.workers

    def _live(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/v1/health/live", timeout=2) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process is not None else []

    def samples(self) -> dict[int, ProcSample]:
        found = {pid: proc_sample(pid) for pid in self.worker_pids()}
        return {pid: s for pid, s in found.items() if s is not None}

    def log_tail(self, limit: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master; it stops its workers
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        self.process = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


# ---------------------------------------------------------------- the money audit


@dataclass
class Model:
    """The client's record of acknowledged (201) movements."""

    balances: dict[str, int] = field(default_factory=dict)
    deposited: int = 0
    withdrawn: int = 0

    def deposit(self, account: str, amount: int) -> None:
        self.balances[account] = self.balances.get(account, 0) + amount
        self.deposited += amount

    def withdraw(self, account: str, amount: int) -> None:
        self.balances[account] = self.balances.get(account, 0) - amount
        self.withdrawn += amount

    def transfer(self, source: str, target: str, amount: int) -> None:
        self.balances[source] = self.balances.get(source, 0) - amount
        self.balances[target] = self.balances.get(target, 0) + amount


_ROWS_SQL = """
SELECT a.id, a.balance, COALESCE(SUM(CASE WHEN t.type IN ('deposit', 'transfer_in')
       THEN t.amount ELSE -t.amount END), 0)
FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id GROUP BY a.id, a.balance
"""


def _norm_id(value: Any) -> str:
    text = str(value).replace("-", "").lower()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def audit(database_url: str, env: Mapping[str, str], model: Model) -> dict[str, Any]:
    """Compare the database with the client's model and run `bank ledger verify`."""
    problems: list[str] = []
    conn = db_connect(database_url)
    try:
        rows = conn.execute(_ROWS_SQL).fetchall()
    finally:
        conn.close()
    db_balances = {_norm_id(r[0]): (int(r[1]), int(r[2])) for r in rows}
    for account, expected in model.balances.items():
        found = db_balances.get(account)
        if found is None:
            problems.append(f"{account}: missing from the database")
            continue
        balance, rows_total = found
        if balance != expected:
            problems.append(f"{account}: balance {balance} != acknowledged {expected}")
        if rows_total != balance:
            problems.append(f"{account}: balance {balance} != rows {rows_total}")
    negative = [a for a, (b, _) in db_balances.items() if b < 0]
    if negative:
        problems.append(f"negative balances: {negative[:5]}")
    total = sum(b for b, _ in db_balances.values())
    if total != model.deposited - model.withdrawn:
        problems.append(
            f"total {total} != deposits {model.deposited} - withdrawals {model.withdrawn}"
        )
    verify = ledger_verify(env)
    if verify.get("exit_code") != 0 or not verify.get("ok"):
        problems.append(f"ledger verify failed: {json.dumps(verify)[:1500]}")
    return {
        "ok": not problems,
        "accounts": len(model.balances),
        "total_money": total,
        "ledger_verify": "ok" if verify.get("ok") else "FAILED",
        "ledger_totals": verify.get("totals"),
        "problems": problems[:20],
    }
