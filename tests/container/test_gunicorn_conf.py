"""bank/gunicorn_conf.py in-process: environment parsing and the Prometheus hooks."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType, SimpleNamespace

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
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
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


def test_worker_hides_the_server_header_and_requires_the_lifespan() -> None:
    from bank.gunicorn_worker import BankUvicornWorker

    kwargs = BankUvicornWorker.CONFIG_KWARGS

    assert kwargs["server_header"] is False
    assert kwargs["lifespan"] == "on"
    assert (kwargs["loop"], kwargs["http"]) == ("uvloop", "httptools")
