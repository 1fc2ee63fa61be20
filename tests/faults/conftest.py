"""Fault-injection fixtures: the production server on SQLite, the shared PostgreSQL, and a
throwaway PostgreSQL instance of our own (initdb) that the tests may stop and start."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.perf import harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: fault injection against the production server")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bank.db'}"


@pytest.fixture
def shared_pg_url() -> Iterator[str]:
    try:
        with harness.postgres_database(prefix="bank_faults") as url:
            yield url
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temp dir on its own port, run as the postgres OS user."""

    def __init__(self) -> None:
        tools = harness.postgres_tools()
        if tools is None:
            if IN_CI:  # the restart test must not vanish from CI
                pytest.fail("initdb not found under /usr/lib/postgresql/*/bin")
            pytest.skip("initdb not found under /usr/lib/postgresql/*/bin")
        self.bin = tools
        self.port = harness.free_port()
        self.dir, self.as_postgres = harness.cluster_directory("bank-faults-pg-")
        self.data = self.dir / "data"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.dir} -c fsync=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "pg.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()
