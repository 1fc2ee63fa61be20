"""structlog JSON logging; library loggers go through the same pipeline."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = frozenset(
    {
        "password",
        "access_token",
        "refresh_token",
        "token",
        "authorization",
        "jwt_secret",
        "card_number",
        "pan",
        "cvv",
        "cvc",
        "secret",
    }
)
# Bearer tokens and JWT-shaped strings, wherever they end up in a message.
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER_RE = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
# 13..19 digit runs (card numbers), optionally grouped by spaces or dashes.
_PAN_RE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _scrub_text(text: str) -> str:
    text = _JWT_RE.sub("[redacted-token]", text)
    text = _BEARER_RE.sub("Bearer [redacted]", text)
    return _PAN_RE.sub("[redacted-number]", text)


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop secret-named fields and scrub token- or card-shaped text from every log line."""
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    for key in list(event_dict):
        value = event_dict[key]
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, str) and len(value) > 12:
            event_dict[key] = _scrub_text(value)
    return event_dict


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in stubs
    """Writes to whatever sys.stdout is at the time of the log call (test capture included)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the stdlib loggers (uvicorn, SQLAlchemy, Connexion) to stdout."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in (
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "gunicorn.error",
        "gunicorn.access",
        "sqlalchemy",
        "connexion",
        "alembic",
    ):
        lib = logging.getLogger(name)
        lib.handlers[:] = []
        lib.propagate = True
    # uvicorn's own access log duplicates ours.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("gunicorn.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def get_logger(name: str = "bank") -> Any:
    return structlog.get_logger(name)
