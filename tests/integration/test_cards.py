"""Issue 5: card issuing and lifecycle, with no card data a thief could use."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from bank.app import BankApp
from bank.db.uow import SqlAlchemyUnitOfWork
from bank.domain import model
from tests import factories as f

STATUSES = ("active", "frozen", "canceled")
ALLOWED = {
    ("active", "frozen"),
    ("frozen", "active"),
    ("active", "canceled"),
    ("frozen", "canceled"),
}


@pytest.fixture
def owner(client: TestClient) -> f.Customer:
    return f.customer(client)


def _issue(
    client: TestClient,
    owner: f.Customer,
    account_id: str,
    type_: str = "virtual",
    key: str | None = None,
) -> object:
    headers = dict(owner.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/v1/cards", json={"account_id": account_id, "type": type_}, headers=headers)


@pytest.mark.parametrize("type_", ["virtual", "physical"])
def test_issue_card_returns_safe_fields(client: TestClient, owner: f.Customer, type_: str) -> None:
    account = f.account(client, owner)
    before = datetime.now(UTC)

    response = _issue(client, owner, account["id"], type_)

    after = datetime.now(UTC)  # the issue may straddle a month's end
    assert response.status_code == 201
    card = response.json()
    assert set(card) == {
        "id",
        "account_id",
        "type",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "status",
        "created_at",
    }
    assert card["status"] == "active" and card["type"] == type_ and card["brand"] == "visa"
    assert re.fullmatch(r"\d{4}", card["last4"])
    expiry = (card["exp_year"], card["exp_month"])
    assert expiry in {(before.year + 3, before.month), (after.year + 3, after.month)}


def test_no_card_number_or_cvv_in_any_response(client: TestClient, owner: f.Customer) -> None:
    account = f.account(client, owner)
    card = _issue(client, owner, account["id"]).json()

    texts = [
        _issue(client, owner, account["id"]).text,
        client.get(f"/v1/cards/{card['id']}", headers=owner.headers).text,
        client.get("/v1/cards", headers=owner.headers).text,
    ]

    for body in texts:
        # A UUID's last group is all digits about 0.4% of the time: ids are not card numbers.
        without_ids = re.sub(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "", body
        )
        assert not re.search(r"\d{12,19}", without_ids)
        assert "cvv" not in body.lower() and "cvc" not in body.lower()
        assert "number" not in body.lower() and "pan" not in body.lower().split('"')


def test_card_tables_hold_no_number(client: TestClient, owner: f.Customer, db_url: str) -> None:
    account = f.account(client, owner)
    _issue(client, owner, account["id"])

    engine = create_engine(db_url)
    with engine.connect() as conn:
        cards = conn.execute(text("SELECT * FROM cards")).all()
        audit = conn.execute(text("SELECT * FROM audit_events WHERE action = 'card_issued'")).all()
        keys = conn.execute(text("SELECT response_body FROM idempotency_keys")).all()
    engine.dispose()

    dump = repr(cards) + repr(audit) + repr(keys)
    assert cards
    for match in re.findall(r"\b\d{13,19}\b", dump):
        pytest.fail(f"a card-number-like value is stored: {match}")
    columns = {c.lower() for c in cards[0]._mapping}
    assert not columns & {"number", "pan", "card_number", "cvv", "cvc"}


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in STATUSES for b in STATUSES])
def test_card_lifecycle(client: TestClient, owner: f.Customer, current: str, target: str) -> None:
    account = f.account(client, owner)
    card_id = _issue(client, owner, account["id"]).json()["id"]
    if current != "active":
        client.patch(f"/v1/cards/{card_id}", json={"status": current}, headers=owner.headers)

    response = client.patch(f"/v1/cards/{card_id}", json={"status": target}, headers=owner.headers)

    if (current, target) in ALLOWED:
        assert response.status_code == 200 and response.json()["status"] == target
    else:
        assert response.status_code == 409
        assert f.error_code(response) == "invalid_state_transition"


def test_card_limit_per_account(client: TestClient, owner: f.Customer) -> None:
    account = f.account(client, owner)
    issued = [_issue(client, owner, account["id"]).json()["id"] for _ in range(5)]

    sixth = _issue(client, owner, account["id"])
    client.patch(f"/v1/cards/{issued[0]}", json={"status": "canceled"}, headers=owner.headers)
    after_cancel = _issue(client, owner, account["id"])

    assert sixth.status_code == 409 and f.error_code(sixth) == "card_limit_reached"
    assert after_cancel.status_code == 201


def test_idempotent_issue_makes_one_card(client: TestClient, owner: f.Customer) -> None:
    account = f.account(client, owner)
    key = str(uuid.uuid4())

    responses = [_issue(client, owner, account["id"], key=key) for _ in range(3)]

    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    listed = client.get(f"/v1/cards?account_id={account['id']}", headers=owner.headers).json()
    assert listed["pagination"]["total"] == 1


def test_issue_on_closed_account_is_409(client: TestClient, owner: f.Customer) -> None:
    account = f.account(client, owner)
    client.patch(f"/v1/accounts/{account['id']}", json={"status": "closed"}, headers=owner.headers)

    response = _issue(client, owner, account["id"])

    assert response.status_code == 409 and f.error_code(response) == "account_not_active"


def test_admin_cannot_issue_cards(client: TestClient, owner: f.Customer, db_url: str) -> None:
    from bank.db.engine import make_engine
    from bank.db.uow import SqlAlchemyUnitOfWork
    from bank.services.users import create_admin

    email = f.unique_email("admin")
    engine = make_engine(db_url)
    create_admin(SqlAlchemyUnitOfWork(engine), email, f.PASSWORD, 4)
    engine.dispose()
    admin = {"Authorization": f"Bearer {f.login(client, email)['access_token']}"}
    account = f.account(client, owner)

    response = client.post(
        "/v1/cards", json={"account_id": account["id"], "type": "virtual"}, headers=admin
    )

    assert response.status_code == 403 and f.error_code(response) == "forbidden"


def test_card_changes_are_audited(client: TestClient, owner: f.Customer, db_url: str) -> None:
    account = f.account(client, owner)
    card_id = _issue(client, owner, account["id"]).json()["id"]
    client.patch(f"/v1/cards/{card_id}", json={"status": "frozen"}, headers=owner.headers)

    engine = create_engine(db_url)
    with engine.connect() as conn:
        actions = {
            row.action
            for row in conn.execute(
                text("SELECT action FROM audit_events WHERE target_id = :c"), {"c": card_id}
            )
        }
    engine.dispose()

    assert actions == {"card_issued", "card_status_changed"}


def test_list_cards_filters_by_account(client: TestClient, owner: f.Customer) -> None:
    first, second = f.account(client, owner), f.account(client, owner)
    _issue(client, owner, first["id"])
    _issue(client, owner, second["id"])

    listed = client.get(f"/v1/cards?account_id={first['id']}", headers=owner.headers).json()

    assert [c["account_id"] for c in listed["data"]] == [first["id"]]


def test_only_a_number_collision_is_retried_with_a_new_number(app: BankApp) -> None:
    # A card for an account that does not exist breaks a foreign key, not the fingerprint's
    # uniqueness: a new number would not help, so it is raised, not reported as a collision.
    card = model.Card(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        type="virtual",
        brand="visa",
        last4="4242",
        exp_month=1,
        exp_year=2030,
        status="active",
        created_at=datetime.now(UTC),
    )
    uow = SqlAlchemyUnitOfWork(app.engine)
    with uow.write(), pytest.raises(IntegrityError):
        uow.cards.add(card, uuid.uuid4().hex)
