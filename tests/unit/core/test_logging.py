"""Secrets never reach a log line."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from bank.core.logging import configure_logging, get_logger


def test_secret_fields_and_token_shaped_text_are_redacted(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"

    get_logger("test").info(
        "login_attempted",
        password="hunter2-secret",
        refresh_token="rt_abc",
        note=f"Authorization: Bearer {token}",
        card="4242 4242 4242 4242",
    )
    logging.getLogger("uvicorn.error").warning("library says %s", token)
    out = capfd.readouterr().out

    assert "hunter2-secret" not in out and "rt_abc" not in out and token not in out
    assert "4242 4242 4242 4242" not in out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {line["event"] for line in lines} >= {"login_attempted"}
    assert all("timestamp" in line and "level" in line for line in lines)


def test_request_id_is_bound_to_every_line(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    structlog.contextvars.bind_contextvars(request_id="rid-42")

    get_logger("test").info("something_happened")
    structlog.contextvars.clear_contextvars()

    assert '"request_id": "rid-42"' in capfd.readouterr().out
