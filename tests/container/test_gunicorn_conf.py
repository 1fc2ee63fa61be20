"""bank/gunicorn_conf.py in-process: environment parsing, the startup check and the Prometheus
hooks."""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tests.container.test_container_commands import dockerfile_instruction

pytestmark = pytest.mark.container


def load_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "LOG_LEVEL", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import bank.gunicorn_conf

    return importlib.reload(bank.gunicorn_conf)


def test_defaults_bind_loopback_port_8000(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch)

    assert conf.bind == ["127.0.0.1:8000"]
    assert conf.loglevel == "info"
    assert conf.control_socket_disable is True


def test_bind_brackets_an_ipv6_host(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch, HOST="::", PORT="9000")

    assert conf.bind == ["[::]:9000"]


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (3, 7), (4, 8), (64, 8)])
def test_default_workers_is_two_per_cpu_plus_one_capped_at_eight(cpus: int, workers: int) -> None:
    import bank.gunicorn_conf

    assert bank.gunicorn_conf.default_workers(cpus) == workers


def test_web_concurrency_sets_the_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch, WEB_CONCURRENCY="2", LOG_LEVEL="WARNING")

    assert conf.workers == 2
    assert conf.loglevel == "warning"


@pytest.mark.parametrize(
    "env", [{"PORT": "http"}, {"PORT": "0"}, {"WEB_CONCURRENCY": "0"}, {"WEB_CONCURRENCY": "x"}]
)
def test_invalid_numbers_stop_gunicorn_with_a_message(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(SystemExit, match=next(iter(env))):
        load_conf(monkeypatch, **env)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """on_starting's database check, recorded instead of run (tests of the metrics hooks)."""
    import bank.startup

    ran: list[str] = []
    monkeypatch.setattr(bank.startup, "check_before_workers", lambda: ran.append("checked"))
    return ran


def test_on_starting_checks_the_database_then_lets_later_workers_boot_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOOT_WITHOUT_DATABASE", "false")
    conf = load_conf(
        monkeypatch,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bank.db'}",
        JWT_SECRET="s" * 40,
        APP_ENV="dev",
    )

    conf.on_starting(SimpleNamespace())

    assert os.environ["BOOT_WITHOUT_DATABASE"] == "true"  # inherited by every forked worker


def test_on_starting_stops_gunicorn_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bank.startup import StartupError

    monkeypatch.setenv("BOOT_WITHOUT_DATABASE", "false")
    url = "postgresql+psycopg://bank:secret@127.0.0.1:1/bank"
    conf = load_conf(monkeypatch, DATABASE_URL=url, JWT_SECRET="s" * 40, APP_ENV="dev")

    # gunicorn prints a RuntimeError's message and exits 1, before binding its port.
    with pytest.raises(StartupError, match="unreachable"):
        conf.on_starting(SimpleNamespace())

    assert os.environ["BOOT_WITHOUT_DATABASE"] == "false"


@pytest.mark.usefixtures("checks")
def test_on_starting_wipes_only_prometheus_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stale = ["counter_12.db", "gauge_livesum_12.db", "histogram_7.db"]
    kept = ["bank.db", "counter_notes.txt", "gauge_x.db.bak"]
    for name in stale + kept:
        (tmp_path / name).write_text("")
    conf = load_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    conf.on_starting(SimpleNamespace())

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(kept)


@pytest.mark.usefixtures("checks")
def test_on_starting_creates_the_metrics_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "tmpfs" / "bank-metrics"
    conf = load_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(directory))

    conf.on_starting(SimpleNamespace())

    assert directory.is_dir()


def test_the_image_aggregates_metrics_across_workers_in_its_tmpfs() -> None:
    # Several workers: without a multiprocess directory /metrics shows whichever one answers.
    env = dockerfile_instruction("ENV")

    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/" in env


def test_child_exit_marks_the_worker_dead_in_multiprocess_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "gauge_livesum_4242.db").write_text("")
    (tmp_path / "gauge_livesum_4343.db").write_text("")
    conf = load_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    conf.child_exit(SimpleNamespace(), SimpleNamespace(pid=4242))

    assert [path.name for path in tmp_path.iterdir()] == ["gauge_livesum_4343.db"]


def test_hooks_do_nothing_without_multiprocess_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, checks: list[str]
) -> None:
    (tmp_path / "counter_1.db").write_text("")
    monkeypatch.chdir(tmp_path)
    dead: list[int] = []
    monkeypatch.setattr("prometheus_client.multiprocess.mark_process_dead", dead.append)
    conf = load_conf(monkeypatch)

    conf.on_starting(SimpleNamespace())
    conf.child_exit(SimpleNamespace(), SimpleNamespace(pid=1))

    assert dead == []
    assert (tmp_path / "counter_1.db").exists()
    assert checks == ["checked"]


def test_worker_hides_the_server_header_and_requires_the_lifespan() -> None:
    from bank.gunicorn_worker import BankUvicornWorker

    kwargs = BankUvicornWorker.CONFIG_KWARGS

    assert kwargs["server_header"] is False
    assert kwargs["lifespan"] == "on"
    assert (kwargs["loop"], kwargs["http"]) == ("uvloop", "httptools")


def _lifespan_app(events: list[str], *, fail: bool = False) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            events.append("http")
            return
        message = await receive()
        assert message["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.failed" if fail else "lifespan.startup.complete"})
        events.append(f"frozen at startup: {gc.get_freeze_count() > 0}")
        if fail:
            return
        message = await receive()
        await send({"type": "lifespan.shutdown.complete"})

    return app


async def _run_lifespan(app: Any) -> list[dict[str, Any]]:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append({**message, "frozen": gc.get_freeze_count() > 0})

    await app({"type": "lifespan"}, receive, send)
    return sent


@pytest.fixture
def unfrozen_heap() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_heap")
def test_the_heap_is_frozen_once_startup_completes_before_the_server_is_told() -> None:
    """A worker's startup heap (spec, validators, SQLAlchemy) is ~136k objects, and a full
    collection that scans it stalls every in-flight request of the worker for 65-100 ms."""
    from bank.gunicorn_worker import FreezeHeapAfterStartup

    events: list[str] = []
    sent = asyncio.run(_run_lifespan(FreezeHeapAfterStartup(_lifespan_app(events))))

    assert sent == [
        {"type": "lifespan.startup.complete", "frozen": True},
        {"type": "lifespan.shutdown.complete", "frozen": True},
    ]
    assert events == ["frozen at startup: True"]


@pytest.mark.usefixtures("unfrozen_heap")
def test_a_failed_startup_freezes_nothing_and_requests_pass_straight_through() -> None:
    from bank.gunicorn_worker import FreezeHeapAfterStartup

    events: list[str] = []
    sent = asyncio.run(_run_lifespan(FreezeHeapAfterStartup(_lifespan_app(events, fail=True))))
    asyncio.run(FreezeHeapAfterStartup(_lifespan_app(events))({"type": "http"}, None, None))

    assert sent == [{"type": "lifespan.startup.failed", "frozen": False}]
    assert events == ["frozen at startup: False", "http"]
    assert gc.get_freeze_count() == 0


def test_the_worker_serves_the_wrapped_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.workers.base import Worker

    from bank import gunicorn_worker

    inner = _lifespan_app([])
    monkeypatch.setattr(Worker, "load_wsgi", lambda self: setattr(self, "wsgi", inner))
    worker = object.__new__(gunicorn_worker.BankUvicornWorker)

    worker.load_wsgi()

    assert isinstance(worker.wsgi, gunicorn_worker.FreezeHeapAfterStartup)
    assert worker.wsgi.app is inner
