"""Issue 2: every error path answers the envelope; health; request ids; headers; docs."""

from __future__ import annotations

import json
import uuid

import pytest
from starlette.testclient import TestClient

from tests import factories as f
from tests.integration.conftest import AppFactory


def test_unknown_route_is_404_envelope(client: TestClient) -> None:
    response = client.get("/v1/no-such-thing")

    assert response.status_code == 404
    assert f.error_code(response) == "not_found"
    assert response.headers["content-type"].startswith("application/json")


def test_wrong_method_is_405_envelope_with_full_allow(client: TestClient) -> None:
    response = client.delete("/v1/accounts")

    assert response.status_code == 405
    assert f.error_code(response) == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


def test_head_is_served_wherever_allow_lists_get(client: TestClient) -> None:
    user = f.customer(client)

    response = client.head("/v1/accounts", headers=user.headers)

    assert response.status_code == 200
    assert response.content == b""


def test_wrong_method_on_templated_path_lists_its_methods(client: TestClient) -> None:
    response = client.delete(f"/v1/cards/{uuid.uuid4()}")

    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "PATCH"}


def test_wrong_content_type_is_415_envelope(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/signup",
        content=b"email=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert f.error_code(response) == "unsupported_media_type"


def test_malformed_json_is_400_envelope(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/signup", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert f.error_code(response) in ("malformed_body", "validation_error")


def test_non_utf8_body_is_400_not_500(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/signup",
        content=b'{"email": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert f.error_code(response) in ("malformed_body", "validation_error")


def test_schema_violation_names_the_field(client: TestClient) -> None:
    body = f.signup_body()
    del body["dob"]

    response = client.post("/v1/auth/signup", json=body)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["field"] == "dob"
    assert "\n" not in response.json()["error"]["message"]


def test_mass_assignment_of_role_is_rejected(client: TestClient) -> None:
    response = client.post("/v1/auth/signup", json=f.signup_body(role="admin"))

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"


def test_body_over_limit_is_413_envelope(client: TestClient) -> None:
    body = f.signup_body(first_name="A" * 100_000)

    response = client.post("/v1/auth/signup", json=body)

    assert response.status_code == 413
    assert f.error_code(response) == "payload_too_large"


def test_chunked_body_over_limit_is_413(make_client: AppFactory) -> None:
    small = make_client(max_body_bytes=2048)

    def chunks():  # no Content-Length: the limit applies while streaming
        yield b'{"email": "'
        yield b"a" * 4096
        yield b'"}'

    response = small.post(
        "/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert f.error_code(response) == "payload_too_large"


def test_malformed_uuid_path_is_400(client: TestClient) -> None:
    user = f.customer(client)

    response = client.get("/v1/accounts/not-a-uuid", headers=user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
def test_out_of_range_pagination_is_400(client: TestClient, query: str) -> None:
    user = f.customer(client)

    response = client.get(f"/v1/accounts?{query}", headers=user.headers)

    assert response.status_code == 400
    assert f.error_code(response) == "validation_error"


def test_unknown_query_parameter_is_400(client: TestClient) -> None:
    user = f.customer(client)

    response = client.get("/v1/accounts?colour=blue", headers=user.headers)

    assert response.status_code == 400


def test_missing_token_is_401_envelope(client: TestClient) -> None:
    response = client.get("/v1/accounts")

    assert response.status_code == 401
    assert f.error_code(response) == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_unhandled_exception_is_500_envelope_without_internals(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bank.services import health

    def boom(_: object) -> bool:
        raise RuntimeError("secret internals: SELECT * FROM users")

    monkeypatch.setattr(health, "database_ready", boom)
    crashing = make_client()

    response = crashing.get("/v1/health")

    assert response.status_code == 500
    assert f.error_code(response) == "internal_error"
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


def test_request_id_is_echoed_when_well_formed(client: TestClient) -> None:
    response = client.get("/v1/health/live", headers={"X-Request-Id": "abc-123.XYZ_9"})

    assert response.headers["x-request-id"] == "abc-123.XYZ_9"


@pytest.mark.parametrize("bad", ["a" * 129, "has space", "semi;colon", ""])
def test_request_id_is_replaced_when_malformed(client: TestClient, bad: str) -> None:
    response = client.get("/v1/health/live", headers={"X-Request-Id": bad})

    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


def test_error_body_carries_the_request_id(client: TestClient) -> None:
    response = client.get("/v1/nowhere", headers={"X-Request-Id": "trace-1"})

    assert response.json()["error"]["request_id"] == "trace-1"


def test_api_responses_carry_security_headers(client: TestClient) -> None:
    response = client.get("/v1/health/live")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in {k.lower() for k in response.headers}


def test_health_reports_database_ok(client: TestClient) -> None:
    response = client.get("/v1/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"] == {"database": "ok"}


def test_liveness_does_not_need_the_database(client: TestClient) -> None:
    response = client.get("/v1/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_docs_and_spec_are_served(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json")
    docs = client.get("/v1/docs/")

    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Bank API"
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_docs_can_be_disabled(make_client: AppFactory) -> None:
    quiet = make_client(docs_enabled=False)

    assert quiet.get("/v1/openapi.json").status_code == 404
    assert quiet.get("/v1/docs/").status_code == 404


def test_frontend_is_served_at_root_with_strict_csp(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_missing_static_file_is_404_envelope(client: TestClient) -> None:
    response = client.get("/no-such-file.js")

    assert response.status_code == 404
    assert f.error_code(response) == "not_found"


def test_body_without_content_type_is_415(client: TestClient) -> None:
    user = f.customer(client)

    response = client.post(
        "/v1/accounts", content=b'{"type":"checking","currency":"USD"}', headers=user.headers
    )

    assert response.status_code == 415
    assert f.error_code(response) == "unsupported_media_type"


def test_logout_without_any_body_headers_is_accepted(client: TestClient) -> None:
    user = f.customer(client)

    def nothing():  # no Content-Length and no Content-Type, as `curl -X POST` sends
        yield b""

    response = client.post("/v1/auth/logout", content=nothing(), headers=user.headers)

    assert response.status_code == 204


@pytest.mark.parametrize("path", ["/v1/health/", "/v1/accounts/"])
def test_a_trailing_slash_is_404_not_a_redirect_to_the_callers_host(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)

    assert response.status_code == 404
    assert f.error_code(response) == "not_found"
    assert "location" not in response.headers


def test_the_docs_keep_their_trailing_slash(client: TestClient) -> None:
    assert client.get("/v1/docs/").status_code == 200


def test_json_bodies_have_one_compact_form_on_reads_writes_and_errors(
    client: TestClient,
) -> None:
    user = f.customer(client)
    created = client.post(
        "/v1/accounts", json={"type": "checking", "currency": "USD"}, headers=user.headers
    )
    read = client.get(f"/v1/accounts/{created.json()['id']}", headers=user.headers)
    listed = client.get("/v1/accounts", headers=user.headers)
    refused = client.get("/v1/accounts/not-a-uuid", headers=user.headers)

    for response in (created, read, listed, refused):
        compact = json.dumps(response.json(), separators=(",", ":")).encode()
        assert response.content == compact, response.request.url
