"""Settings are validated at startup."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bank.core.config import Settings, settings_problems


def test_production_requires_a_jwt_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(app_env="production", jwt_secret=None)

    assert "JWT_SECRET" in settings_problems(caught.value)


@pytest.mark.parametrize("secret", ["short", "changeme"])
def test_production_rejects_weak_secrets(secret: str) -> None:
    with pytest.raises(ValidationError):
        Settings(app_env="prod", jwt_secret=secret)


def test_development_generates_a_random_secret_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="JWT_SECRET"):
        first = Settings(app_env="dev", jwt_secret=None)
    with pytest.warns(UserWarning):
        second = Settings(app_env="dev", jwt_secret=None)

    assert first.jwt_key != second.jwt_key
    assert len(first.jwt_key) >= 32


def test_wildcard_cors_is_refused_in_production() -> None:
    with pytest.raises(ValidationError):
        Settings(app_env="production", jwt_secret="s" * 40, cors_origins="*")


def test_cors_origins_accept_a_comma_list() -> None:
    settings = Settings(jwt_secret="s" * 40, cors_origins="https://a.example, https://b.example")

    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_log_level_is_case_insensitive() -> None:
    assert Settings(jwt_secret="s" * 40, log_level="info").log_level == "INFO"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("JWT_SECRET", "e" * 40)

    settings = Settings()

    assert settings.database_url == "sqlite:////tmp/x.db" and settings.port == 9001


def test_sqlite_synchronous_defaults_to_normal_and_accepts_full() -> None:
    assert Settings(jwt_secret="s" * 40).sqlite_synchronous == "NORMAL"
    assert Settings(jwt_secret="s" * 40, sqlite_synchronous="full").sqlite_synchronous == "FULL"
    with pytest.raises(ValidationError):
        Settings(jwt_secret="s" * 40, sqlite_synchronous="OFF")


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", []),
        ("https://a.example.com", ["https://a.example.com"]),
        (
            "https://a.example.com, https://b.example.com",
            ["https://a.example.com", "https://b.example.com"],
        ),
        ('["https://a.example.com"]', ["https://a.example.com"]),
    ],
)
def test_cors_origins_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)

    assert Settings(jwt_secret="s" * 40).cors_origins == origins


def test_wildcard_cors_from_the_environment_is_one_clear_problem_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "*")

    with pytest.raises(ValidationError) as caught:
        Settings(app_env="production", jwt_secret="s" * 40)

    assert "CORS_ORIGINS may not be '*'" in settings_problems(caught.value)


@pytest.mark.parametrize(
    "secret",
    ["CHANGE-ME-fake-placeholder-not-a-secret", "your-secret-here-please-replace-it-now!!"],
)
def test_production_rejects_a_long_placeholder(secret: str) -> None:
    with pytest.raises(ValidationError):
        Settings(app_env="production", jwt_secret=secret)
