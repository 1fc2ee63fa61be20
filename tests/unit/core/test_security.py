"""core.security: tokens and passwords."""

from __future__ import annotations

import time

import jwt
import pytest

from bank.core import security

KEY = "k" * 48


def _issue(**kwargs: object) -> security.IssuedToken:
    values: dict[str, object] = {
        "key": KEY,
        "user_id": "u1",
        "role": "customer",
        "holder_id": "h1",
        "ttl": 60,
        "issuer": "bank",
        "audience": "bank-api",
    }
    values.update(kwargs)
    return security.issue_access_token(**values)  # type: ignore[arg-type]


def test_access_token_round_trip() -> None:
    issued = _issue()

    claims = security.decode_access_token(issued.token, key=KEY, issuer="bank", audience="bank-api")

    assert (claims.user_id, claims.role, claims.holder_id, claims.jti) == (
        "u1",
        "customer",
        "h1",
        issued.jti,
    )


def test_expired_token_has_its_own_code() -> None:
    issued = _issue(now=int(time.time()) - 3600)

    with pytest.raises(security.TokenError) as caught:
        security.decode_access_token(issued.token, key=KEY, issuer="bank", audience="bank-api")

    assert caught.value.code == "token_expired"


def test_non_string_holder_claim_is_invalid() -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "u",
            "jti": "j",
            "iat": now,
            "nbf": now,
            "exp": now + 60,
            "iss": "bank",
            "aud": "bank-api",
            "typ": "access",
            "role": "customer",
            "hid": 5,
        },
        KEY,
        algorithm="HS256",
    )

    with pytest.raises(security.TokenError):
        security.decode_access_token(token, key=KEY, issuer="bank", audience="bank-api")


def test_password_hash_verifies_and_never_equals_password() -> None:
    hashed = security.hash_password("correct-horse", 4)

    assert hashed != "correct-horse"
    assert security.verify_password("correct-horse", hashed)
    assert not security.verify_password("wrong-horse", hashed)


def test_overlong_password_never_verifies() -> None:
    hashed = security.hash_password("a" * 72, 4)

    assert not security.verify_password("a" * 73, hashed)


def test_refresh_tokens_are_random_and_hashed() -> None:
    first, second = security.new_refresh_token(), security.new_refresh_token()

    assert first != second and len(first) > 40
    assert security.hash_refresh_token(first) != first
    assert len(security.hash_refresh_token(first)) == 64
