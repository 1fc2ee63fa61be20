"""Gunicorn settings for production (the container's CMD and `tests/container`).

Run as::

    gunicorn -c bank/gunicorn_conf.py "bank.app:make_asgi_app()"

Environment:

- `HOST` / `PORT`: listen address, default `127.0.0.1:8000` (the container sets `HOST=0.0.0.0`).
- `WEB_CONCURRENCY`: number of workers, default `2 * CPUs + 1` capped at `MAX_WORKERS`.
- `LOG_LEVEL`: gunicorn's own log level (the app configures its JSON logs itself).
- `PROMETHEUS_MULTIPROC_DIR`: when set, metrics of dead workers are cleaned up.
- `FORWARDED_ALLOW_IPS`: read by gunicorn itself; set it to the proxy's address.

This file is executed by gunicorn (not imported by the app): it reads the environment at load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_WORKERS = 8
_LOG_LEVELS = frozenset({"debug", "info", "warning", "error", "critical"})
# prometheus_client's multiprocess files: counter_123.db, gauge_livesum_123.db, ...
_PROMETHEUS_FILE = re.compile(r"^(counter|gauge|histogram|summary)_(?:[a-z]+_)?\d+\.db$")


def _env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SystemExit(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _bind_address() -> str:
    host = os.environ.get("HOST", "").strip() or DEFAULT_HOST
    port = _env_int("PORT", DEFAULT_PORT, minimum=1, maximum=65535)
    if ":" in host and not host.startswith("["):  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port}"


def _cpu_count() -> int:
    try:  # honours the container's cpuset, unlike os.cpu_count()
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def default_workers(cpus: int) -> int:
    """`2 * CPUs + 1`, capped at `MAX_WORKERS` (each worker holds its own DB pool)."""
    return min(2 * cpus + 1, MAX_WORKERS)


def _log_level() -> str:
    level = os.environ.get("LOG_LEVEL", "").strip().lower()
    return level if level in _LOG_LEVELS else "info"


bind = [_bind_address()]
workers = _env_int("WEB_CONCURRENCY", default_workers(_cpu_count()), minimum=1, maximum=64)
worker_class = "bank.gunicorn_worker.BankUvicornWorker"
timeout = 60
graceful_timeout = 30
keepalive = 5
preload_app = False
accesslog = None  # the app writes its own JSON access log
errorlog = "-"
loglevel = _log_level()
proc_name = "bank"
# No admin socket: it is an attack surface we do not use, and its default path under $HOME is
# not writable for the container's user (and collides between instances on one machine).
control_socket_disable = True
# The heartbeat file is fchmod-ed every few seconds: keep it off disk-backed storage.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108


def _prometheus_dir() -> Path | None:
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    return Path(raw) if raw else None


def on_starting(server: Arbiter) -> None:
    """Before any worker: check the settings and the database once (`bank.startup`; a failure
    stops gunicorn with exit code 1 before it binds its port), and prepare the metrics
    directory."""
    from bank.startup import check_before_workers

    check_before_workers()
    _prepare_prometheus_dir()


def _prepare_prometheus_dir() -> None:
    """Create the metrics directory (the image points it into its tmpfs), and wipe metric files
    left by a previous run, as prometheus_client requires."""
    directory = _prometheus_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        if _PROMETHEUS_FILE.match(path.name) and path.is_file():
            path.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    """Merge a dead worker's live gauges away (prometheus_client multiprocess mode)."""
    if _prometheus_dir() is None:
        return
    from prometheus_client import multiprocess

    # prometheus_client's multiprocess module has no annotations.
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # untyped
