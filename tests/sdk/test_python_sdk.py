"""The generated Python SDK (`bank_client`) against a live service, over real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus

from bank_client import AuthenticatedClient, Client
from bank_client.api.accounts import create_account, get_account, list_accounts
from bank_client.api.auth import get_me, login, signup
from bank_client.api.cards import create_card, update_card
from bank_client.api.health import get_liveness
from bank_client.api.statements import get_statement
from bank_client.api.transactions import create_transaction
from bank_client.api.transfers import create_transfer
from bank_client.models import (
    Account,
    AccountCreate,
    AccountList,
    AccountType,
    Card,
    CardCreate,
    CardStatus,
    CardType,
    CardUpdate,
    Currency,
    ErrorEnvelope,
    Liveness,
    LoginRequest,
    Me,
    SignupRequest,
    SignupResponse,
    Statement,
    TokenPair,
    Transaction,
    TransactionCreate,
    TransactionCreateType,
    TransactionType,
    Transfer,
    TransferCreate,
)

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Customer:
    email: str
    signup: SignupResponse
    tokens: TokenPair
    client: AuthenticatedClient


def new_email() -> str:
    return f"sdk-{uuid.uuid4().hex[:12]}@example.com"


def signup_customer(base_url: str, email: str) -> SignupResponse:
    body = SignupRequest(
        email=email,
        password=PASSWORD,
        first_name="Ada",
        last_name="Lovelace",
        dob=date(1990, 12, 10),
    )
    with Client(base_url=f"{base_url}/v1") as client:
        created = signup.sync(client=client, body=body)
    assert isinstance(created, SignupResponse), created
    return created


def login_customer(base_url: str, email: str) -> TokenPair:
    with Client(base_url=f"{base_url}/v1") as client:
        tokens = login.sync(client=client, body=LoginRequest(email=email, password=PASSWORD))
    assert isinstance(tokens, TokenPair), tokens
    return tokens


def new_customer(base_url: str) -> Customer:
    email = new_email()
    created = signup_customer(base_url, email)
    tokens = login_customer(base_url, email)
    client = AuthenticatedClient(base_url=f"{base_url}/v1", token=tokens.access_token)
    return Customer(email=email, signup=created, tokens=tokens, client=client)


def open_account(customer: Customer, currency: Currency = Currency.USD) -> Account:
    account = create_account.sync(
        client=customer.client,
        body=AccountCreate(type_=AccountType.CHECKING, currency=currency),
        idempotency_key=str(uuid.uuid4()),
    )
    assert isinstance(account, Account), account
    return account


def deposit(customer: Customer, account: Account, amount: int) -> Transaction:
    posted = create_transaction.sync(
        client=customer.client,
        body=TransactionCreate(
            account_id=account.id,
            type_=TransactionCreateType.DEPOSIT,
            amount=amount,
            currency=account.currency,
            description="Salary",
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert isinstance(posted, Transaction), posted
    return posted


def balance_of(customer: Customer, account: Account) -> int:
    fetched = get_account.sync(account.id, client=customer.client)
    assert isinstance(fetched, Account), fetched
    return fetched.balance


def test_liveness_answers_ok(live_server: str) -> None:
    with Client(base_url=f"{live_server}/v1") as client:
        response = get_liveness.sync_detailed(client=client)

    assert response.status_code == HTTPStatus.OK
    assert isinstance(response.parsed, Liveness)
    assert response.parsed.status == "ok"


def test_signup_returns_user_and_account_holder(live_server: str) -> None:
    email = new_email()

    created = signup_customer(live_server, email)

    assert created.user.email == email
    assert created.account_holder.user_id == created.user.id
    assert created.account_holder.dob == date(1990, 12, 10)


def test_login_returns_bearer_token_pair_usable_on_protected_routes(live_server: str) -> None:
    customer = new_customer(live_server)

    me = get_me.sync(client=customer.client)

    assert customer.tokens.token_type == "Bearer"
    assert customer.tokens.expires_in > 0
    assert customer.tokens.refresh_token
    assert isinstance(me, Me)
    assert me.user.id == customer.signup.user.id
    assert me.role == "customer"


def test_protected_route_without_token_is_unauthorized_envelope(live_server: str) -> None:
    with Client(base_url=f"{live_server}/v1") as client:
        response = list_accounts.sync_detailed(client=client)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(response.parsed, ErrorEnvelope)
    assert response.parsed.error.code == "unauthorized"
    assert response.parsed.error.request_id == response.headers["x-request-id"]


def test_wrong_password_is_invalid_credentials_envelope(live_server: str) -> None:
    customer = new_customer(live_server)

    with Client(base_url=f"{live_server}/v1") as client:
        response = login.sync_detailed(
            client=client, body=LoginRequest(email=customer.email, password="wrong-password")
        )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(response.parsed, ErrorEnvelope)
    assert response.parsed.error.code == "invalid_credentials"


def test_create_account_opens_active_account_with_zero_balance(live_server: str) -> None:
    customer = new_customer(live_server)

    account = open_account(customer, Currency.EUR)

    assert account.balance == 0
    assert account.status == "active"
    assert account.currency == Currency.EUR
    assert account.holder_id == customer.signup.account_holder.id
    listed = list_accounts.sync(client=customer.client)
    assert isinstance(listed, AccountList)
    assert [a.id for a in listed.data] == [account.id]
    assert listed.pagination.total == 1


def test_deposit_raises_balance_and_reports_balance_after(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)

    posted = deposit(customer, account, 12_550)

    assert posted.type_ == TransactionType.DEPOSIT
    assert posted.amount == 12_550
    assert posted.balance_after == 12_550
    assert posted.transfer_id is None
    assert balance_of(customer, account) == 12_550


def test_retry_with_same_idempotency_key_replays_without_posting_twice(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)
    body = TransactionCreate(
        account_id=account.id,
        type_=TransactionCreateType.DEPOSIT,
        amount=500,
        currency=Currency.USD,
    )
    key = str(uuid.uuid4())

    first = create_transaction.sync_detailed(client=customer.client, body=body, idempotency_key=key)
    again = create_transaction.sync_detailed(client=customer.client, body=body, idempotency_key=key)

    assert first.status_code == again.status_code == HTTPStatus.CREATED
    assert again.headers.get("idempotent-replayed") == "true"
    assert isinstance(first.parsed, Transaction)
    assert isinstance(again.parsed, Transaction)
    assert again.parsed.id == first.parsed.id
    assert balance_of(customer, account) == 500


def test_transfer_to_another_customer_moves_the_amount(live_server: str) -> None:
    alice, bob = new_customer(live_server), new_customer(live_server)
    source, target = open_account(alice), open_account(bob)
    deposit(alice, source, 10_000)

    transfer = create_transfer.sync(
        client=alice.client,
        body=TransferCreate(
            from_account_id=source.id,
            to_account_id=target.id,
            amount=2_500,
            currency=Currency.USD,
            description="Rent",
        ),
        idempotency_key=str(uuid.uuid4()),
    )

    assert isinstance(transfer, Transfer), transfer
    assert (transfer.from_account_id, transfer.to_account_id) == (source.id, target.id)
    assert transfer.amount == 2_500
    assert balance_of(alice, source) == 7_500
    assert balance_of(bob, target) == 2_500


def test_withdrawal_over_balance_is_typed_insufficient_funds_error(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)
    deposit(customer, account, 1_000)

    response = create_transaction.sync_detailed(
        client=customer.client,
        body=TransactionCreate(
            account_id=account.id,
            type_=TransactionCreateType.WITHDRAWAL,
            amount=1_001,
            currency=Currency.USD,
        ),
        idempotency_key=str(uuid.uuid4()),
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert isinstance(response.parsed, ErrorEnvelope)
    assert response.parsed.error.code == "insufficient_funds"
    assert response.parsed.error.message
    assert response.parsed.error.request_id
    assert balance_of(customer, account) == 1_000


def test_transfer_over_balance_is_typed_insufficient_funds_error(live_server: str) -> None:
    alice, bob = new_customer(live_server), new_customer(live_server)
    source, target = open_account(alice), open_account(bob)

    failed = create_transfer.sync(
        client=alice.client,
        body=TransferCreate(
            from_account_id=source.id,
            to_account_id=target.id,
            amount=1,
            currency=Currency.USD,
        ),
        idempotency_key=str(uuid.uuid4()),
    )

    assert isinstance(failed, ErrorEnvelope)
    assert failed.error.code == "insufficient_funds"
    assert balance_of(alice, source) == 0
    assert balance_of(bob, target) == 0


def test_statement_lists_period_rows_with_running_balance(live_server: str) -> None:
    alice, bob = new_customer(live_server), new_customer(live_server)
    source, target = open_account(alice), open_account(bob)
    deposit(alice, source, 10_000)
    create_transfer.sync(
        client=alice.client,
        body=TransferCreate(
            from_account_id=source.id,
            to_account_id=target.id,
            amount=4_000,
            currency=Currency.USD,
        ),
        idempotency_key=str(uuid.uuid4()),
    )

    statement = get_statement.sync(source.id, client=alice.client)

    assert isinstance(statement, Statement), statement
    assert [(t.type_, t.amount, t.balance_after) for t in statement.transactions] == [
        (TransactionType.DEPOSIT, 10_000, 10_000),
        (TransactionType.TRANSFER_OUT, 4_000, 6_000),
    ]
    assert statement.opening_balance == 0
    assert statement.total_credits == 10_000
    assert statement.total_debits == 4_000
    assert statement.closing_balance == statement.current_balance == 6_000
    assert statement.pagination.total == 2


def test_other_customers_account_is_not_found(live_server: str) -> None:
    alice, bob = new_customer(live_server), new_customer(live_server)
    account = open_account(alice)

    response = get_account.sync_detailed(account.id, client=bob.client)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(response.parsed, ErrorEnvelope)
    assert response.parsed.error.code == "not_found"


def test_issue_card_then_freeze_it(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)

    card = create_card.sync(
        client=customer.client,
        body=CardCreate(account_id=account.id, type_=CardType.VIRTUAL),
        idempotency_key=str(uuid.uuid4()),
    )
    assert isinstance(card, Card), card
    frozen = update_card.sync(card.id, client=customer.client, body=CardUpdate(CardStatus.FROZEN))

    assert card.status == CardStatus.ACTIVE
    assert card.account_id == account.id
    assert len(card.last4) == 4 and card.last4.isdigit()
    assert card.brand == "visa"
    assert isinstance(frozen, Card)
    assert frozen.status == CardStatus.FROZEN


def test_freezing_a_frozen_card_is_invalid_state_transition(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)
    card = create_card.sync(
        client=customer.client,
        body=CardCreate(account_id=account.id, type_=CardType.PHYSICAL),
        idempotency_key=str(uuid.uuid4()),
    )
    assert isinstance(card, Card), card
    update_card.sync(card.id, client=customer.client, body=CardUpdate(CardStatus.FROZEN))

    again = update_card.sync_detailed(
        card.id, client=customer.client, body=CardUpdate(CardStatus.FROZEN)
    )

    assert again.status_code == HTTPStatus.CONFLICT
    assert isinstance(again.parsed, ErrorEnvelope)
    assert again.parsed.error.code == "invalid_state_transition"


def test_async_client_lists_accounts(live_server: str) -> None:
    customer = new_customer(live_server)
    account = open_account(customer)

    async def fetch() -> AccountList | ErrorEnvelope | None:
        async with AuthenticatedClient(
            base_url=f"{live_server}/v1", token=customer.tokens.access_token
        ) as client:
            return await list_accounts.asyncio(client=client)

    listed = asyncio.run(fetch())

    assert isinstance(listed, AccountList)
    assert [a.id for a in listed.data] == [account.id]
