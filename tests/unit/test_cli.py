"""The `bank` command line, in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from bank.cli import main, parser


def test_migrate_up_and_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JWT_SECRET", "s" * 40)

    assert main(["migrate"]) == 0
    engine = create_engine(url)
    assert "accounts" in inspect(engine).get_table_names()
    assert main(["migrate", "base", "--down"]) == 0
    assert "accounts" not in inspect(engine).get_table_names()
    engine.dispose()


def test_serve_wires_uvicorn_with_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(self: Any) -> None:
        seen.update(
            host=self.config.host, port=self.config.port, server_header=self.config.server_header
        )
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("PORT", "8123")

    assert main(["serve", "--migrate"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 8123, "server_header": False}
    assert (tmp_path / "serve.db").exists()


def test_help_lists_every_command() -> None:
    text = parser().format_help()

    for command in ("serve", "migrate", "create-admin", "ledger", "purge"):
        assert command in text
