"""nox: one session per concern. `make test` runs them with --no-venv inside .venv."""

from __future__ import annotations

import os
import subprocess
import sys

import nox

nox.options.default_venv_backend = "none"
nox.options.error_on_missing_interpreters = True
PY = sys.executable
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, black, import-layer contracts, the spec's validator and OpenAPI linter."""
    session.run(PY, "-m", "ruff", "check", ".", *session.posargs)
    session.run(
        PY,
        "-m",
        "black",
        "--check",
        "--quiet",
        "bank",
        "tests",
        "noxfile.py",
        "clients/demo_client.py",
    )
    session.run(os.path.join(os.path.dirname(PY), "lint-imports"))
    session.run(PY, "-m", "openapi_spec_validator", "openapi/bank.yaml")
    session.run("bash", "scripts/lint-spec.sh", external=True)


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on bank/ (and the generated Python SDK)."""
    session.run(PY, "-m", "mypy", *session.posargs)
    with session.chdir("clients/python"):
        session.run(PY, "-m", "mypy", "--strict", "bank_client")


@nox.session(python=False)
def codegen(session: nox.Session) -> None:
    """generated/ must equal what the spec generates (pass --write to regenerate)."""
    if "--write" in session.posargs:
        session.run(PY, "-m", "datamodel_code_generator")
        return
    session.run(PY, "-m", "datamodel_code_generator", "--check")


@nox.session(python=False)
def migrations(session: nox.Session) -> None:
    """Upgrade an empty SQLite database to head, then `alembic check` for model drift."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite:///{tmp}/migrations.db"}
        session.run(PY, "-m", "alembic", "upgrade", "head", env=env)
        session.run(PY, "-m", "alembic", "check", env=env)


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Unit and integration tests on SQLite and PostgreSQL, with branch coverage >= 92%."""
    os.makedirs("reports", exist_ok=True)
    session.run(
        PY,
        "-m",
        "pytest",
        "tests/unit",
        "tests/integration",
        "tests/sdk",
        "tests/cli",
        "--cov=bank",
        "--cov-branch",
        "--cov-report=term",
        "--cov-report=xml:reports/coverage.xml",
        "--cov-fail-under=92",
        "--junitxml=reports/junit.xml",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session(python=False)
def integration(session: nox.Session) -> None:
    """Only the HTTP integration tests (SQLite and PostgreSQL), without coverage."""
    session.run(PY, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=False)
def fuzz(session: nox.Session) -> None:
    """Schemathesis (all checks, all phases) against gunicorn on a fresh SQLite database, then
    on a throwaway PostgreSQL database, where the money path and the account and statement
    reads take their PostgreSQL-only forms. In CI the PostgreSQL run is mandatory (it fails
    when no server answers); elsewhere it is skipped, with a message, when none does."""
    session.run("bash", "scripts/fuzz.sh", *session.posargs, external=True)
    if not CI and not _postgres_answers():
        session.warn("fuzz: PostgreSQL does not answer (BANK_TEST_PG_URL): its run is skipped")
        return
    session.run(
        "bash",
        "scripts/fuzz.sh",
        *session.posargs,
        external=True,
        env={
            "FUZZ_DATABASE": "postgres",
            "FUZZ_UNIT_TIME": os.environ.get("FUZZ_PG_UNIT_TIME", "100"),
            "FUZZ_STATEFUL_TIME": os.environ.get("FUZZ_PG_STATEFUL_TIME", "80"),
        },
    )


def _postgres_answers() -> bool:
    url = os.environ.get("BANK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    probe = "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()"
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    found = subprocess.run([PY, "-c", probe, plain], check=False, capture_output=True)
    return found.returncode == 0


@nox.session(python=False)
def faults(session: nox.Session) -> None:
    """Fault injection: kill -9 a worker, restart a throwaway PostgreSQL, SQLite writers in two
    processes, slow clients; exactly-once effects and a clean money audit after each."""
    session.run(
        PY,
        "-m",
        "pytest",
        "tests/faults",
        "-m",
        "faults",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session(python=False)
def browser(session: nox.Session) -> None:
    """Playwright for Python driving Debian's Chromium through the frontend."""
    session.run("bash", "scripts/install-chromium.sh", external=True)
    session.run(
        PY,
        "-m",
        "pytest",
        "tests/browser",
        "-m",
        "browser",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session(python=False)
def sdk_check(session: nox.Session) -> None:
    """The committed SDKs and the frontend bundle equal what the spec generates."""
    session.run("bash", "scripts/sdk-python.sh", "--check", external=True)
    session.run("bash", "scripts/sdk-typescript.sh", "--check", external=True)


@nox.session(python=False)
def docker_check(session: nox.Session) -> None:
    """hadolint, compose schema, and the container's commands run natively."""
    session.run("bash", "scripts/check-container.sh", external=True)
    session.run(PY, "-m", "pytest", "tests/container", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=False)
def audit(session: nox.Session) -> None:
    """pip-audit of the locked runtime dependencies."""
    session.run(PY, "-m", "pip_audit", "-r", "requirements.lock", "--strict", *session.posargs)
