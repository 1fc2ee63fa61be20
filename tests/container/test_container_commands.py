"""The container's exact commands, run natively: `bank migrate`, then the Dockerfile's CMD.

No Docker engine is needed: the commands are taken from the Dockerfile (CMD) and
docker-compose.yml (the one-shot `migrate` service) and run with this interpreter, in the
repository root (the image's WORKDIR) with the image's environment.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.container

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
COMPOSE_FILE = REPO / "docker-compose.yml"

GUNICORN_CONF = "bank/gunicorn_conf.py"
EXPECTED_CMD = ["gunicorn", "-c", GUNICORN_CONF, "bank.app:make_asgi_app()"]
BOOT_TIMEOUT = 60.0
FAIL_FAST_TIMEOUT = 30.0


# -- helpers -------------------------------------------------------------------------------------


def dockerfile_instruction(name: str) -> str:
    """The last `name` instruction of the Dockerfile, with line continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = [
        line.strip()[len(name) :].strip()
        for line in text.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]
    assert found, f"no {name} instruction in the Dockerfile"
    return found[-1]


def dockerfile_cmd() -> list[str]:
    """The Dockerfile's CMD, which must use the exec (JSON) form."""
    cmd = json.loads(dockerfile_instruction("CMD"))
    assert isinstance(cmd, list)
    return [str(arg) for arg in cmd]


def native(cmd: list[str]) -> list[str]:
    """Run an image command with this interpreter: `gunicorn ...` -> `python -m gunicorn ...`."""
    modules = {"gunicorn": ["gunicorn"], "bank": ["bank.cli"]}
    assert cmd[0] in modules, f"unexpected executable {cmd[0]!r}"
    return [sys.executable, "-m", *modules[cmd[0]], *cmd[1:]]


def tail(text: str, limit: int = 3000) -> str:
    """The end of a log, short enough for an assertion message."""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def poll(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def request(
    port: int, method: str, path: str, body: object | None = None, timeout: float = 10.0
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def signup_body() -> dict[str, str]:
    return {
        "email": f"ada-{uuid.uuid4().hex[:12]}@example.com",
        "password": "correct-horse-battery",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "dob": "1990-12-10",
    }


def migrate_cmd() -> list[str]:
    """The command of docker-compose.yml's one-shot `migrate` service."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    cmd = compose["services"]["migrate"]["command"]
    assert isinstance(cmd, list)
    return [str(arg) for arg in cmd]


def run_migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        native(migrate_cmd()),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"bank migrate failed:\n{done.stdout}\n{done.stderr}"


def accepted(server_port: int, client_port: int) -> bool:
    """True once a server process has accept()ed the connection from `client_port`.

    A connection still in the listen backlog has inode 0 in /proc/net/tcp; accept() gives it a
    file, hence an inode.
    """
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return inode != "0"
    return False


@dataclass
class Server:
    """The Dockerfile's CMD running natively, its output in a log file."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    _closed: bool = field(default=False)

    def output(self) -> str:
        return tail(self.log.read_text(errors="replace"))

    def healthy(self) -> bool:
        assert self.proc.poll() is None, f"server exited early:\n{self.output()}"
        try:
            return request(self.port, "GET", "/v1/health", timeout=2).status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # the CMD, exactly, with this interpreter
            native(dockerfile_cmd()), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"the service did not exit within {timeout:.0f} s") from None


@pytest.fixture
def server(service_env: dict[str, str], port: int, tmp_path: Path) -> Iterator[Server]:
    run_migrate(service_env)
    srv = Server(port, start(service_env, tmp_path / "gunicorn.log"), tmp_path / "gunicorn.log")
    try:
        poll(srv.healthy, BOOT_TIMEOUT, "GET /v1/health to answer 200")
        yield srv
    finally:
        srv.stop()


# -- the image's files ---------------------------------------------------------------------------


def test_dockerfile_cmd_runs_gunicorn_with_the_tested_config() -> None:
    cmd = dockerfile_cmd()

    assert cmd == EXPECTED_CMD
    assert (REPO / GUNICORN_CONF).is_file()


def test_dockerfile_healthcheck_probes_readiness_without_curl() -> None:
    healthcheck = dockerfile_instruction("HEALTHCHECK")

    assert "/v1/health" in healthcheck
    assert "curl" not in healthcheck


def test_dockerfile_runs_as_a_numeric_non_root_user() -> None:
    user = dockerfile_instruction("USER").split(":")[0]

    assert user.isdigit()
    assert int(user) != 0


def test_compose_api_waits_for_the_migrate_service() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]

    assert migrate_cmd() == ["bank", "migrate"]
    for api, migrate in (("api", "migrate"), ("api-pg", "migrate-pg")):
        assert services[migrate]["command"] == ["bank", "migrate"]
        condition = services[api]["depends_on"][migrate]["condition"]
        assert condition == "service_completed_successfully"


def test_gunicorn_config_reads_bind_and_workers_from_the_environment(
    service_env: dict[str, str],
) -> None:
    env = service_env | {"HOST": "0.0.0.0", "PORT": "8123", "WEB_CONCURRENCY": "3"}

    done = subprocess.run(
        [*native(dockerfile_cmd()), "--print-config"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    config = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in done.stdout.splitlines())
    )
    assert config["bind"] == "['0.0.0.0:8123']"
    assert config["workers"] == "3"
    assert config["worker_class"] == "bank.gunicorn_worker.BankUvicornWorker"
    assert config["preload_app"] == "False"
    assert config["graceful_timeout"] == "30"


# -- the running service -------------------------------------------------------------------------


def test_service_serves_requests_without_a_server_header(server: Server) -> None:
    health = request(server.port, "GET", "/v1/health")
    signup = request(server.port, "POST", "/v1/auth/signup", signup_body())

    assert health.status == 200
    assert signup.status == 201, signup.body
    for resp in (health, signup):
        assert "server" not in {name.lower() for name in resp.headers}
        assert resp.headers["date"]


def test_sigterm_lets_the_in_flight_request_finish_and_exits_zero(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.connect()
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    # A signup hashes the password with bcrypt (cost 12, ~250 ms): slow enough to be in flight.
    conn.request(
        "POST",
        "/v1/auth/signup",
        body=json.dumps(signup_body()).encode(),
        headers={"Content-Type": "application/json"},
    )
    result: dict[str, int | BaseException] = {}

    def read_response() -> None:
        try:
            result["status"] = conn.getresponse().status
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc
        finally:
            conn.close()

    reader = threading.Thread(target=read_response)
    reader.start()
    poll(lambda: accepted(server.port, client_port), 10, "a worker to accept the request")

    server.proc.send_signal(signal.SIGTERM)
    code = wait_exit(server.proc, 40)
    reader.join(timeout=30)

    assert result.get("status") == 201, f"{result}\n{server.output()}"
    assert code == 0, server.output()


# -- fail fast -----------------------------------------------------------------------------------


def test_service_refuses_to_start_in_production_without_jwt_secret(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    env = {key: value for key, value in service_env.items() if key != "JWT_SECRET"}
    log = tmp_path / "gunicorn.log"

    code = wait_exit(start(env, log), FAIL_FAST_TIMEOUT)

    assert code != 0
    output = log.read_text(errors="replace")
    assert "JWT_SECRET" in output, tail(output)


def test_service_refuses_to_start_when_the_database_is_unreachable(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    env = service_env | {"DATABASE_URL": "postgresql+psycopg://bank:x@127.0.0.1:1/bank"}
    log = tmp_path / "gunicorn.log"

    code = wait_exit(start(env, log), FAIL_FAST_TIMEOUT)

    output = log.read_text(errors="replace")
    assert code != 0, tail(output)
    assert "database" in output.lower(), tail(output)
    assert "x@127.0.0.1" not in output  # no credentials in the logs


def test_migrate_exits_non_zero_when_the_database_is_unreachable(
    service_env: dict[str, str],
) -> None:
    env = service_env | {"DATABASE_URL": "postgresql+psycopg://bank:x@127.0.0.1:1/bank"}

    done = subprocess.run(
        native(migrate_cmd()),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=FAIL_FAST_TIMEOUT,
        check=False,
    )

    assert done.returncode != 0
