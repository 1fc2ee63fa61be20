"""`bank` command line: serve, migrate, create-admin, ledger verify, purge."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from bank.core.config import Settings, settings_problems
from bank.core.logging import configure_logging
from bank.db.engine import dispose, make_engine
from bank.db.uow import SqlAlchemyUnitOfWork

EXIT_CONFIG = 2


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        print(f"bank: invalid configuration: {settings_problems(exc)}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _run[T](use_case: Callable[[SqlAlchemyUnitOfWork], T], database_url: str) -> T:
    """Run one service call against DATABASE_URL with a short-lived engine."""
    engine = make_engine(database_url)
    try:
        return use_case(SqlAlchemyUnitOfWork(engine))
    finally:
        dispose(engine)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.migrate:
        from bank.db.migrations import upgrade

        upgrade(settings.database_url)
    from bank.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        server_header=False,
        access_log=False,
        lifespan="on",
        proxy_headers=True,
        limit_concurrency=1000,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 3


def cmd_migrate(args: argparse.Namespace) -> int:
    from bank.db.migrations import downgrade, upgrade

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.down:
        downgrade(settings.database_url, args.revision)
    else:
        upgrade(settings.database_url, args.revision)
    print(f"bank: database migrated to {args.revision}", file=sys.stderr)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from bank.domain.errors import BankError
    from bank.services import users

    settings = _settings()
    password = os.environ.get("BANK_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("bank: set BANK_ADMIN_PASSWORD or run in a terminal", file=sys.stderr)
            return EXIT_CONFIG
        password = getpass.getpass("Admin password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("bank: passwords differ", file=sys.stderr)
            return EXIT_CONFIG
    try:
        user = _run(
            lambda uow: users.create_admin(uow, args.email, password, settings.bcrypt_rounds),
            settings.database_url,
        )
    except BankError as exc:
        print(f"bank: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"admin {user.email} ({user.id}) is ready")
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from bank.services.health import verify_ledger

    report = _run(verify_ledger, _settings().database_url)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "totals": report.totals,
                    "violations": {
                        k: [list(map(str, row)) for row in rows]
                        for k, rows in report.violations.items()
                    },
                }
            )
        )
    else:
        print("ledger totals: " + ", ".join(f"{k}={v}" for k, v in report.totals.items()))
        for name, rows in report.violations.items():
            print(f"VIOLATION {name}: {len(rows)} row(s)")
            for row in rows[:20]:
                print("  " + ", ".join(str(value) for value in row))
        print("ledger OK" if report.ok else "ledger BROKEN")
    return 0 if report.ok else 1


def cmd_purge(_: argparse.Namespace) -> int:
    from bank.services.users import purge_expired

    removed = _run(purge_expired, _settings().database_url)
    print(f"purged {removed} expired rows")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bank", description="Bank API service")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API, docs and frontend (uvicorn)")
    serve.add_argument("--host", default=None, help="default: $HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    serve.add_argument(
        "--migrate",
        action="store_true",
        help="apply pending migrations first (development convenience)",
    )
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="apply Alembic migrations to DATABASE_URL")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.add_argument("--down", action="store_true", help="downgrade to the revision")
    migrate.set_defaults(func=cmd_migrate)
    admin = sub.add_parser(
        "create-admin", help="create or promote an admin (password: prompt or $BANK_ADMIN_PASSWORD)"
    )
    admin.add_argument("--email", required=True)
    admin.set_defaults(func=cmd_create_admin)
    ledger = sub.add_parser("ledger", help="ledger tools")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = ledger_sub.add_parser("verify", help="check every ledger invariant; exit 1 if broken")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_ledger_verify)
    purge = sub.add_parser("purge", help="delete expired idempotency keys and revoked tokens")
    purge.set_defaults(func=cmd_purge)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
