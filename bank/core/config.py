"""Settings: one validated object, read from the environment, passed to create_app()."""

from __future__ import annotations

import json
import secrets
import warnings
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "your-secret-here", "xxx"})
# A secret containing one of these was copied from an example, not generated.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "placeholder", "your-secret")
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Every setting the service reads. Names are the documented environment variables."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    app_env: Literal["dev", "test", "prod", "production"] = "dev"
    database_url: str = "sqlite:///./var/bank.db"
    jwt_secret: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # NoDecode: the environment's value reaches _split_origins as text (comma list or JSON),
    # instead of pydantic-settings failing to parse "a,b" or "" as JSON first.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=60)
    jwt_issuer: str = "bank"
    jwt_audience: str = "bank-api"
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)

    login_max_failures_per_email: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    card_expiry_years: int = Field(default=3, ge=1, le=10)
    card_fingerprint_key: SecretStr | None = None

    db_pool_size: int = Field(default=8, ge=1, le=64)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_lock_timeout_ms: int = Field(default=2000, ge=1, le=60_000)
    # SQLite (WAL): NORMAL survives any process crash; FULL also survives an OS crash or power
    # loss, at an fsync per commit inside the write lock (a transfer ~1.0 -> ~1.8 ms).
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    # Start even when the database cannot be reached, answering 503 until it can. gunicorn's
    # master sets it for its workers once it has checked the database itself (bank/startup.py).
    boot_without_database: bool = False
    validate_responses: bool = False
    docs_enabled: bool = True
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    serve_frontend: bool = True
    frontend_dir: Path = Path(__file__).resolve().parents[2] / "frontend"

    @property
    def is_production(self) -> bool:
        return self.app_env in ("prod", "production")

    @field_validator("log_level", "sqlite_synchronous", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)  # a JSON list; anything else fails validation
                except ValueError:
                    return value
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        if self.jwt_secret is None:
            if self.is_production:
                raise ValueError("JWT_SECRET is required when APP_ENV is prod or production")
            warnings.warn(
                "JWT_SECRET is not set: using a random per-process secret (tokens die on restart)",
                stacklevel=2,
            )
            self.jwt_secret = SecretStr(secrets.token_urlsafe(48))
        secret = self.jwt_secret.get_secret_value()
        if self.is_production or self.app_env == "test":
            lowered = secret.strip().lower()
            if lowered in PLACEHOLDER_SECRETS or any(m in lowered for m in PLACEHOLDER_MARKERS):
                raise ValueError("JWT_SECRET is a placeholder; use at least 32 random bytes")
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if self.is_production and "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS may not be '*' in production")
        if self.card_fingerprint_key is None:
            self.card_fingerprint_key = SecretStr(secret + ":card-fingerprint")
        return self

    @property
    def jwt_key(self) -> str:
        assert self.jwt_secret is not None  # set by the validator
        return self.jwt_secret.get_secret_value()


def settings_problems(exc: ValidationError) -> str:
    """One line naming each bad environment variable, for startup errors."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
        for err in exc.errors()
    )
