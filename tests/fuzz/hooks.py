"""Schemathesis hooks for `scripts/fuzz.sh` (loaded through `hooks` in schemathesis.toml).

Identities. `tests/fuzz/wfc-auth.json` names two customers, `alice` and `bob`, as `[auth.wfc]`
peers: Schemathesis logs in through `POST /v1/auth/login` and sends `alice`'s real access token
(a JWT from a real signup and login), and `object_level_authorization` replays `alice`'s reads
as `bob`. The WFC login provider only logs in, so `before_load_schema` signs both users up
first, through the real `POST /v1/auth/signup`, on the fresh database the script starts.
(`[auth.wfc]` takes precedence over an `@schemathesis.auth` provider, so the signup lives here
rather than in one.)

Logout. `POST /auth/logout` revokes the access token it is called with. If the fuzzer called it
with `alice`'s cached token, every later request would answer 401 `token_revoked` (correctly)
and the rest of the run would test nothing but that 401. So `before_call` swaps a fuzzing
identity's token on a logout for a fresh token of the same user, from a login of its own: the
call still logs a real session of that user out (204) and revocation is exercised, while the
fuzzer's session stays live. Requests without a token, or with a forged or foreign one (what
`ignored_auth` and negative cases send), pass through untouched. `POST /auth/refresh` needs no
such care: the fuzzer never sees the refresh tokens of its identities' logins.

Everything else is in the sections below: a destination for the transfer links, idempotency keys
in the stateful phase, and the documented business-rule 400s `positive_data_acceptance` may see.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from datetime import date
from pathlib import Path
from typing import Any

import email_validator
import requests
import schemathesis

from bank.domain.rules import MAX_EMAIL_LOCAL_PART, SPECIAL_USE_TLDS

WFC_FILE = Path(__file__).with_name("wfc-auth.json")
TIMEOUT = 10.0
CURRENCIES = ("USD", "EUR", "GBP")
# A customer outside the WFC peers who owns one account per currency: the payee of the stateful
# transfers (the contract lets a transfer credit another customer's active account).
PAYEE = {"email": "fuzz-payee@example.com", "password": "fuzz-payee-password-1"}
# Stands for "the payee's account in the body's currency" in the injected transfer link.
PAYEE_ACCOUNT = "00000000-0000-4000-8000-00000000fee0"


class _State:
    base_url = ""
    # user id (the token's `sub`) -> login body, for the WFC identities.
    credentials: dict[str, dict[str, str]] = {}
    # currency -> the payee's account id.
    payee_accounts: dict[str, str] = {}
    lock = threading.Lock()


def _url(path: str) -> str:
    return f"{_State.base_url}{path}"


def _post(path: str, body: dict[str, Any], token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(_url(path), json=body, headers=headers, timeout=TIMEOUT)


def _signup(credentials: dict[str, str], last_name: str) -> None:
    body = {**credentials, "first_name": "Fuzz", "last_name": last_name, "dob": "1990-01-01"}
    response = _post("/auth/signup", body)
    if response.status_code not in (201, 409):  # 409 `email_taken`: already there
        raise RuntimeError(f"fuzz signup failed: {response.status_code} {response.text[:300]}")


def _login(credentials: dict[str, str]) -> str:
    response = _post("/auth/login", credentials)
    if response.status_code != 200:
        raise RuntimeError(f"fuzz login failed: {response.status_code} {response.text[:300]}")
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def _token_subject(token: str) -> str | None:
    """The `sub` claim of a JWT, unverified (it only picks which tokens to swap)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    subject = payload.get("sub") if isinstance(payload, dict) else None
    return subject if isinstance(subject, str) else None


def _wfc_users() -> list[tuple[str, dict[str, str]]]:
    document = json.loads(WFC_FILE.read_text(encoding="utf-8"))
    users = []
    for entry in document["auth"]:
        pwd = entry["loginEndpointAuth"]["payloadUserPwd"]
        login = {pwd["usernameField"]: pwd["username"], pwd["passwordField"]: pwd["password"]}
        users.append((entry["name"], login))
    return users


def _create_fixtures() -> None:
    """The WFC identities, and the payee with one active account per currency."""
    for name, credentials in _wfc_users():
        _signup(credentials, name.capitalize())
        subject = _token_subject(_login(credentials))
        assert subject is not None
        _State.credentials[subject] = credentials
    _signup(PAYEE, "Payee")
    token = _login(PAYEE)
    for currency in CURRENCIES:
        response = _post("/accounts", {"type": "checking", "currency": currency}, token)
        if response.status_code != 201:
            raise RuntimeError(f"fuzz payee account: {response.status_code} {response.text[:300]}")
        _State.payee_accounts[currency] = response.json()["id"]


# Transfers in the stateful phase. The contract links a posted deposit to `create_transfer`
# (`Transfer`: from the account just credited, 1 minor unit, in its currency) and leaves the
# destination to generators, which draw random UUIDs: 404, so no transfer would ever post. The
# copy Schemathesis loads gets the destination filled in with PAYEE_ACCOUNT, which `before_call`
# turns into the payee's account in the body's currency (the contract lets a transfer credit
# another customer's active account). If the contract has no link into `create_transfer` (it
# had none before), FALLBACK_LINK plays that part.
FALLBACK_LINK = {
    "operationId": "create_transfer",
    "requestBody": {
        "from_account_id": "$response.body#/account_id",
        "amount": 1,
        "currency": "$response.body#/currency",
    },
}


def _links_into(raw_schema: dict[str, Any], operation_id: str) -> list[dict[str, Any]]:
    found = []
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for answer in operation.get("responses", {}).values():
                links = answer.get("links", {}) if isinstance(answer, dict) else {}
                found.extend(
                    link for link in links.values() if link.get("operationId") == operation_id
                )
    return found


def _prepare_transfer_links(raw_schema: dict[str, Any]) -> None:
    links = _links_into(raw_schema, "create_transfer")
    if not links:
        deposit = raw_schema["paths"]["/transactions"]["post"]["responses"]["201"]
        link = json.loads(json.dumps(FALLBACK_LINK))
        deposit.setdefault("links", {})["TransferToPayee"] = link
        links = [link]
    for link in links:
        body = link.get("requestBody")
        if isinstance(body, dict) and "to_account_id" not in body:
            body["to_account_id"] = PAYEE_ACCOUNT


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    """Create the fixtures, then give the transfer links a destination (see above)."""
    # scripts/fuzz.sh exports the server's origin; the spec's `servers` gives the base path.
    origin = os.environ.get("BANK_FUZZ_ORIGIN", "http://127.0.0.1:8000").rstrip("/")
    _State.base_url = origin + raw_schema["servers"][0]["url"].rstrip("/")
    _create_fixtures()
    _prepare_transfer_links(raw_schema)


def _swap_logout_token(case: Any) -> None:
    for name in list(case.headers or {}):
        value = case.headers[name]
        if name.lower() != "authorization" or not isinstance(value, str):
            continue
        if not value.startswith("Bearer "):
            continue
        credentials = _State.credentials.get(_token_subject(value[len("Bearer ") :]) or "")
        if credentials is not None:
            case.headers[name] = f"Bearer {_login(credentials)}"


def _is_stateful(case: Any) -> bool:
    phase = getattr(getattr(case, "meta", None), "phase", None)
    return getattr(phase, "name", None) == "stateful"  # a StrEnum


def _stateful_idempotency_key(case: Any) -> None:
    """A key per distinct request, as a real client makes one per logical operation.

    The generator reuses a few `Idempotency-Key` values (the spec's example among them) across
    different bodies, which is 409 `idempotency_key_reused`, correctly; the fuzzing and coverage
    phases keep doing so and test that path. In the stateful phase it would stop most chains at
    their first money movement, so there the key is derived from the generated key, the operation
    and the body: a retry of the same request still replays (`Idempotent-Replayed: true`).
    """
    for name in list(case.headers or {}):
        value = case.headers[name]
        if name.lower() != "idempotency-key" or not isinstance(value, str) or not value:
            continue
        try:
            body = json.dumps(case.body, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return
        digest = hashlib.sha256(f"{case.operation.label}\n{value}\n{body}".encode()).hexdigest()
        case.headers[name] = f"fz-{digest[:40]}"


def _names_payee(body: Any) -> bool:
    return isinstance(body, dict) and body.get("to_account_id") == PAYEE_ACCOUNT


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    """Keep the fuzzer's own session alive across logouts; fill in the stateful payee."""
    operation = case.operation
    method, path = operation.method.upper(), operation.path
    if (method, path) == ("POST", "/auth/logout"):
        with _State.lock:
            _swap_logout_token(case)
        return
    if not _is_stateful(case):
        return
    body = case.body
    if (method, path) == ("POST", "/transfers") and _names_payee(body):
        payee = _State.payee_accounts.get(str(body.get("currency")))
        if payee is not None:
            body["to_account_id"] = payee
    if method == "POST":
        _stateful_idempotency_key(case)


# Rejections of schema-valid requests that the contract documents, for rules JSON Schema cannot
# express. `positive_data_acceptance` (ST202) expects no 400 for a schema-valid request; these
# are the only 400s it may see, matched on the error `code` (and field), never on the status
# alone, so any other 400 to a valid request still fails the run.
# RFC 6761 and friends: email-validator's list (the server's validator) and the contract's own
# additions (`.example`, `.alt`, `.internal`), taken from where the server takes them.
SPECIAL_USE_DOMAINS = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES) | SPECIAL_USE_TLDS


def _special_use_domain(value: object) -> bool:
    if not isinstance(value, str) or "@" not in value:
        return False
    domain = value.rsplit("@", 1)[1].strip().rstrip(".").lower()
    return domain.rsplit(".", 1)[-1] in SPECIAL_USE_DOMAINS


def _long_local_part(value: object) -> bool:
    # "at most 64 characters before the `@`" (RFC 5321).
    local = value.rsplit("@", 1)[0].strip() if isinstance(value, str) else ""
    return len(local) > MAX_EMAIL_LOCAL_PART


def _utf8_length(value: object) -> int:
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0


def _documented_rejection(method: str, path: str, body: Any, error: dict[str, Any]) -> bool:
    code = error.get("code")
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    if (method, path) == ("GET", "/statements/{account_id}"):
        # "400 invalid_period: a statement's `from` is after its `to`".
        return code == "invalid_period"
    if (method, path) == ("POST", "/transactions"):
        # "400 currency_mismatch: the currency is not the account's currency".
        return code == "currency_mismatch"
    if (method, path) == ("POST", "/transfers"):
        # "400 same_account" and "400 currency_mismatch".
        return code in ("same_account", "currency_mismatch")
    if (method, path) == ("POST", "/auth/signup") and code == "validation_error":
        # SignupRequest: `dob` is "up to yesterday"; `password` is "72 bytes of UTF-8 at most"
        # (the schema's maxLength counts characters); `email` "must be a deliverable address:
        # special-use domains (.test, .local, .localhost, .invalid, ...) are refused".
        if details.get("field") == "email":
            return isinstance(body, dict) and (
                _special_use_domain(body.get("email")) or _long_local_part(body.get("email"))
            )
        if details.get("field") == "dob":
            value = details.get("value")
            return isinstance(value, str) and value >= date.today().isoformat()
        if details.get("field") == "password":
            return isinstance(body, dict) and _utf8_length(body.get("password")) > 72
    return False


def _follows_null_link(case: Any) -> bool:
    """A stateful step whose path carries a JSON `null` a link (or inferred link) picked up.

    `Transaction.transfer_id` is documented as nullable (null for deposits and withdrawals).
    Schemathesis' inferred link `GET /transactions -> GET /transfers/{transfer_id}` follows it
    anyway and requests `/transfers/None`, which the server rightly rejects (400, not a UUID).
    That request is not schema-valid, so the ST202 it raises is a false positive.
    """
    if not _is_stateful(case):
        return False
    return any(value is None or value == "None" for value in (case.path_parameters or {}).values())


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext, failure: Any, case: Any, response: Any
) -> bool:
    """Keep every failure except ST202 on a documented business-rule 400 or on a null link."""
    if getattr(failure, "code", None) != "ST202" or response.status_code != 400:
        return True
    if _follows_null_link(case):
        return False
    try:
        answer = response.json()
    except ValueError:
        return True
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return True
    method, path = case.operation.method.upper(), case.operation.path
    return not _documented_rejection(method, path, case.body, error)
