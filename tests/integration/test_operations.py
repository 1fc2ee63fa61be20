"""Ledger verification, migrations, the CLI, logs, and the operations the contract lists."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from bank.app import load_spec
from bank.cli import main as bank_cli
from bank.db.migrations import downgrade, upgrade
from bank.domain import rules
from bank.services import ledger
from tests import factories as f
from tests.conftest import PostgresDatabases, database_url, make_settings

# ------------------------------------------------------------------ ledger verify


def _ledger_with_money(client: TestClient) -> tuple[f.Customer, str, str]:
    owner = f.customer(client)
    source = f.funded_account(client, owner, 1000)
    target = f.account(client, owner)
    f.transfer(client, owner, source["id"], target["id"], 400)
    return owner, source["id"], target["id"]


@pytest.fixture
def private_db(backend: str, tmp_path: Any, pg_databases: PostgresDatabases) -> str:
    url = database_url(backend, tmp_path, pg_databases)
    upgrade(url)
    return url


@pytest.fixture
def private_client(private_db: str) -> Any:
    with _serving(private_db) as test_client:
        yield test_client


@contextmanager
def _serving(url: str) -> Iterator[TestClient]:
    """The service on `url`. A deploy stops it around a migration (named prepared statements
    do not survive a column's type changing under them): a test that migrates serves again."""
    from bank.app import create_app

    app = create_app(make_settings(url))
    with app.test_client(raise_server_exceptions=False) as test_client:
        yield test_client
    app.engine.dispose()


def _id(engine: Any, value: str) -> Any:
    return uuid.UUID(value) if engine.dialect.name == "postgresql" else uuid.UUID(value).hex


def test_ledger_verify_passes_on_a_healthy_ledger(
    private_client: TestClient,
    private_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ledger_with_money(private_client)
    monkeypatch.setenv("DATABASE_URL", private_db)

    assert bank_cli(["ledger", "verify", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(next(line for line in lines if line.startswith('{"ok"')))
    assert report["ok"] and report["totals"]["total_balance"] == 1000


@pytest.mark.parametrize(
    ("breakage", "violation"),
    [
        ("UPDATE accounts SET balance = balance + 1 WHERE id = :a", None),
        (
            "UPDATE transactions SET amount = amount + 5"
            " WHERE account_id = :a AND type = 'deposit'",
            None,
        ),
        ("DELETE FROM transactions WHERE account_id = :b", None),
        ("UPDATE transactions SET currency = 'EUR' WHERE account_id = :b", None),
        ("UPDATE accounts SET credited_total = credited_total + 1 WHERE id = :a", None),
        (
            "UPDATE transactions SET credited_total_after = credited_total_after + 1"
            " WHERE account_id = :b",
            None,
        ),
        (
            "UPDATE transactions SET created_at = '2999-01-01 00:00:00.000000'"
            " WHERE account_id = :a AND seq = 1",
            "posted_out_of_order",
        ),
        (
            "UPDATE accounts SET last_posted_at = '2000-01-01 00:00:00.000000' WHERE id = :b",
            "last_posted_at_differs",
        ),
        (  # an account with no rows yet is stamped at its opening
            "UPDATE accounts SET last_posted_at = '2999-01-01 00:00:00.000000' WHERE id = :e",
            "last_posted_at_differs",
        ),
    ],
    ids=[
        "balance-drift",
        "row-amount",
        "half-transfer",
        "currency",
        "credited",
        "credited-row",
        "row-stamped-before-its-predecessor",
        "account-stamp",
        "empty-account-stamp",
    ],
)
def test_ledger_verify_catches_a_broken_ledger(
    private_client: TestClient,
    private_db: str,
    monkeypatch: pytest.MonkeyPatch,
    breakage: str,
    violation: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner, source, target = _ledger_with_money(private_client)
    empty = f.account(private_client, owner)["id"]
    engine = create_engine(private_db)
    ids = {"a": source, "b": target, "e": empty}
    with engine.begin() as conn:
        conn.execute(text(breakage), {name: _id(engine, value) for name, value in ids.items()})
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", private_db)

    assert bank_cli(["ledger", "verify"]) == 1
    printed = capsys.readouterr().out
    assert "VIOLATION" in printed
    if violation is not None:  # the posting-order checks, each caught alone and by name
        assert f"VIOLATION {violation}: 1 row(s)" in printed
        assert printed.count("VIOLATION") == 1


# ------------------------------------------------------------------ migrations


def test_migrations_upgrade_and_downgrade_cleanly(
    backend: str, tmp_path: Any, pg_databases: PostgresDatabases
) -> None:
    url = database_url(backend, tmp_path, pg_databases)

    upgrade(url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    functions = _bank_functions(engine)
    domains = _domains(engine)
    engine.dispose()
    downgrade(url, "base")
    engine = create_engine(url)
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    functions_left = _bank_functions(engine)
    domains_left = _domains(engine)
    engine.dispose()

    if backend == "postgres":  # the one-statement money movements (SQLite has none)
        assert functions == {"bank_post_transfer", "bank_post_movement"}
        assert domains == {
            "user_role",
            "account_type",
            "account_status",
            "transaction_type",
            "card_type",
            "card_status",
        }
    assert functions_left == set()
    assert domains_left == set()

    assert {
        "users",
        "accounts",
        "transactions",
        "transfers",
        "cards",
        "audit_events",
        "idempotency_keys",
        "revoked_tokens",
        "refresh_tokens",
    } <= tables
    assert remaining == set()


def _bank_functions(engine: Any) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT proname FROM pg_proc WHERE proname LIKE 'bank\\_%'"))
        return {row[0] for row in rows}


def _domains(engine: Any) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT typname FROM pg_type"
                " WHERE typtype = 'd' AND typnamespace = 'public'::regnamespace"
            )
        )
        return {row[0] for row in rows}


def test_enumerations_stay_enforced_across_their_migration(
    private_client: TestClient, private_db: str
) -> None:
    owner, source, _ = _ledger_with_money(private_client)
    engine = create_engine(private_db)

    def refused(status: str) -> bool:
        try:
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE accounts SET status = :status WHERE id = :id"),
                    {"status": status, "id": _id(engine, source)},
                )
        except IntegrityError:
            return True
        return False

    try:
        downgrade(private_db, "e10ed7590e8a")  # before the enumerations became domains
        assert refused("dormant")
        assert not refused("frozen")
        upgrade(private_db)
        assert refused("dormant")
        assert not refused("active")
    finally:
        engine.dispose()
    with _serving(private_db) as client:  # and money still moves on the domains
        assert f.deposit(client, owner, source, 5).status_code == 201
        assert f.withdraw(client, owner, source, 5).status_code == 201


def test_running_totals_migration_backfills_from_the_ledger(
    private_client: TestClient,
    private_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner, source, target = _ledger_with_money(private_client)
    f.withdraw(private_client, owner, source, 150)
    f.deposit(private_client, owner, target, 25)
    statements = {
        account: private_client.get(f"/v1/statements/{account}", headers=owner.headers).json()
        for account in (source, target)
    }

    downgrade(private_db, "7e5325f6f977")  # the schema before running totals: the columns go
    upgrade(private_db)  # and come back, computed from the rows

    with _serving(private_db) as client:
        for account, before in statements.items():
            after = client.get(f"/v1/statements/{account}", headers=owner.headers).json()
            assert after.pop("to") >= before.pop("to")  # a period up to now
            assert after == before
    monkeypatch.setenv("DATABASE_URL", private_db)
    assert bank_cli(["ledger", "verify"]) == 0, capsys.readouterr().out


def test_posting_stamps_migration_takes_each_accounts_latest_row(
    private_client: TestClient,
    private_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner, source, _ = _ledger_with_money(private_client)
    latest = private_client.get(f"/v1/statements/{source}", headers=owner.headers).json()[
        "transactions"
    ][-1]["created_at"]

    downgrade(private_db, "e780f2b71574")  # before accounts remembered their last stamp
    upgrade(private_db)

    monkeypatch.setenv("DATABASE_URL", private_db)
    assert bank_cli(["ledger", "verify"]) == 0, capsys.readouterr().out
    # A clock an hour behind still stamps the next posting no earlier than the last one.
    behind = datetime.fromisoformat(latest.replace("Z", "+00:00")) - timedelta(hours=1)
    monkeypatch.setattr(ledger, "utcnow", lambda: behind)
    with _serving(private_db) as client:
        deposit = f.deposit(client, owner, source, 5)
    assert deposit.status_code == 201, deposit.text
    assert deposit.json()["created_at"] == latest


@pytest.mark.parametrize("boot_without_database", [False, True])
def test_production_refuses_a_schema_behind_head(
    backend: str, tmp_path: Any, pg_databases: PostgresDatabases, boot_without_database: bool
) -> None:
    """Even a worker that may boot while the database is away refuses a reachable one whose
    schema is behind the code."""
    from bank.app import create_app
    from bank.startup import StartupError

    url = database_url(backend, tmp_path, pg_databases)  # empty: no migrations applied
    settings = make_settings(url, app_env="production", boot_without_database=boot_without_database)
    app = create_app(settings)

    with pytest.raises(StartupError, match="bank migrate"), app.test_client():
        pass
    app.engine.dispose()


# ------------------------------------------------------------------ CLI


def test_create_admin_takes_password_from_env_not_arguments(
    private_db: str, monkeypatch: pytest.MonkeyPatch, private_client: TestClient
) -> None:
    email = f.unique_email("ops")
    monkeypatch.setenv("DATABASE_URL", private_db)
    monkeypatch.setenv("BANK_ADMIN_PASSWORD", f.PASSWORD)
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")

    assert bank_cli(["create-admin", "--email", email]) == 0
    token = f.login(private_client, email)["access_token"]
    me = private_client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"


def test_create_admin_without_password_source_fails(
    private_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", private_db)
    monkeypatch.delenv("BANK_ADMIN_PASSWORD", raising=False)

    result = subprocess.run(
        [sys.executable, "-m", "bank.cli", "create-admin", "--email", "x@example.com"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={"DATABASE_URL": private_db, "PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert result.returncode == 2
    assert "BANK_ADMIN_PASSWORD" in result.stderr


def test_invalid_configuration_exits_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bank.cli", "migrate"],
        capture_output=True,
        text=True,
        env={"APP_ENV": "production", "PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr and "Traceback" not in result.stderr


def test_purge_removes_expired_rows(
    private_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(private_db)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('j1', :t)"),
            {"t": "2000-01-01 00:00:00"},
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", private_db)

    assert bank_cli(["purge"]) == 0
    assert "purged 1" in capsys.readouterr().out


# ------------------------------------------------------------------ the contract is served


def test_every_operation_in_the_contract_is_implemented(client: TestClient) -> None:
    """Operations answer 501 until implemented; this list must stay empty."""
    import importlib

    spec = load_spec()
    missing = []
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                module = importlib.import_module(operation["x-openapi-router-controller"])
                if not hasattr(module, operation["operationId"]):
                    missing.append(operation["operationId"])

    assert missing == []


# ------------------------------------------------------------------ logs


def test_access_log_line_and_no_secrets_in_logs(
    client: TestClient, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers: list[str] = []
    original = rules.new_card_number

    def remember() -> str:
        numbers.append(original())
        return numbers[-1]

    monkeypatch.setattr(rules, "new_card_number", remember)
    capfd.readouterr()
    owner = f.customer(client)
    account = f.account(client, owner)
    client.post(
        "/v1/cards", json={"account_id": account["id"], "type": "virtual"}, headers=owner.headers
    )
    client.get("/v1/nope", headers={"X-Request-Id": "log-test-1"})

    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert numbers and numbers[0] not in out and numbers[0][-8:] not in out
    assert f.PASSWORD not in out and owner.token not in out and owner.refresh_token not in out
    by_route = {line["route"]: line for line in access}
    card_line = by_route["/v1/cards"]
    assert card_line["user_id"] == owner.user_id and card_line["status_code"] == 201
    assert {"timestamp", "level", "request_id", "method", "duration_ms"} <= set(card_line)
    assert any(line["request_id"] == "log-test-1" and line["status_code"] == 404 for line in access)


def test_bank_serve_exits_non_zero_when_database_is_unreachable() -> None:
    from tests.live_server import free_port

    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "test",
        "JWT_SECRET": "s" * 40,
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "PORT": str(free_port()),
    }

    result = subprocess.run(
        [sys.executable, "-m", "bank.cli", "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "database_unreachable" in result.stdout + result.stderr
