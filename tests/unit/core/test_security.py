"""core.security: tokens and passwords."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from bank.core import security

KEY = "k" * 48
USER_ID, HOLDER_ID = str(uuid.uuid4()), str(uuid.uuid4())


def _issue(**kwargs: object) -> security.IssuedToken:
    values: dict[str, object] = {
        "key": KEY,
        "user_id": USER_ID,
        "role": "customer",
        "holder_id": HOLDER_ID,
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
        USER_ID,
        "customer",
        HOLDER_ID,
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
            "sub": USER_ID,
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


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _verifier(clock: _Clock, max_entries: int = 4096) -> security.AccessTokenVerifier:
    return security.AccessTokenVerifier(
        key=KEY, issuer="bank", audience="bank-api", max_entries=max_entries, clock=clock
    )


def test_verifier_accepts_a_remembered_token_until_it_expires() -> None:
    clock = _Clock()
    verify = _verifier(clock)
    issued = _issue(ttl=60)

    first = verify(issued.token)
    again = verify(issued.token)
    clock.now = issued.expires_at

    assert again == first and first.jti == issued.jti
    with pytest.raises(security.TokenError) as caught:
        verify(issued.token)
    assert caught.value.code == "token_expired"


def test_verifier_checks_every_token_that_differs_by_a_byte() -> None:
    verify = _verifier(_Clock())
    issued = _issue()
    verify(issued.token)
    head, payload, signature = issued.token.split(".")
    forged = ".".join([head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")])

    with pytest.raises(security.TokenError) as caught:
        verify(forged)

    assert caught.value.code == "invalid_token"


def test_verifier_never_remembers_more_than_its_bound() -> None:
    clock = _Clock()
    verify = _verifier(clock, max_entries=2)
    users = [str(uuid.uuid4()) for _ in range(3)]
    tokens = [_issue(user_id=user).token for user in users]
    for token in tokens:
        verify(token)

    # The oldest was dropped: with the key changed under it, only a fresh check would notice.
    verify._key = "other-" + KEY  # a test seam: was this token verified again?

    assert verify(tokens[2]).user_id == users[2]
    with pytest.raises(security.TokenError):
        verify(tokens[0])


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
