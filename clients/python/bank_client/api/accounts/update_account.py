from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.account import Account
from ...models.account_update import AccountUpdate
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    account_id: UUID,
    *,
    body: AccountUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/accounts/{account_id}".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Account | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = Account.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorEnvelope.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorEnvelope.from_dict(response.json())

        return response_415

    if response.status_code == 500:
        response_500 = ErrorEnvelope.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorEnvelope.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Account | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: AccountUpdate,
) -> Response[Account | ErrorEnvelope]:
    """Freeze, unfreeze or close an account

     `active` <-> `frozen`; `active`/`frozen` -> `closed` only at a zero balance (else 409
    `account_not_empty`); `closed` is terminal. Closing cancels the account's cards.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        body (AccountUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Account | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: AccountUpdate,
) -> Account | ErrorEnvelope | None:
    """Freeze, unfreeze or close an account

     `active` <-> `frozen`; `active`/`frozen` -> `closed` only at a zero balance (else 409
    `account_not_empty`); `closed` is terminal. Closing cancels the account's cards.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        body (AccountUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Account | ErrorEnvelope
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: AccountUpdate,
) -> Response[Account | ErrorEnvelope]:
    """Freeze, unfreeze or close an account

     `active` <-> `frozen`; `active`/`frozen` -> `closed` only at a zero balance (else 409
    `account_not_empty`); `closed` is terminal. Closing cancels the account's cards.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        body (AccountUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Account | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: AccountUpdate,
) -> Account | ErrorEnvelope | None:
    """Freeze, unfreeze or close an account

     `active` <-> `frozen`; `active`/`frozen` -> `closed` only at a zero balance (else 409
    `account_not_empty`); `closed` is terminal. Closing cancels the account's cards.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        body (AccountUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Account | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
        )
    ).parsed
