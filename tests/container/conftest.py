"""Fixtures for the container tests: the image's commands, run natively on this machine."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Variables that would change the service's behaviour if inherited from the developer's shell.
_SCRUBBED = (
    "APP_ENV",
    "DATABASE_URL",
    "JWT_SECRET",
    "LOG_LEVEL",
    "CORS_ORIGINS",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "PROMETHEUS_MULTIPROC_DIR",
    "BCRYPT_ROUNDS",
    "GUNICORN_CMD_ARGS",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "container: runs the container's commands (migrate, gunicorn) natively"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def service_env(tmp_path: Path, port: int) -> Iterator[dict[str, str]]:
    """The environment of the image (Dockerfile ENV) for a fresh SQLite database in tmp."""
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "APP_ENV": "production",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
            "JWT_SECRET": secrets.token_hex(32),  # 64 random characters
        }
    )
    yield env
