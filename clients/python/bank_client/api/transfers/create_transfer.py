from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.transfer import Transfer
from ...models.transfer_create import TransferCreate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: TransferCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/transfers",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Transfer | None:
    if response.status_code == 201:
        response_201 = Transfer.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

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
) -> Response[ErrorEnvelope | Transfer]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TransferCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Transfer]:
    """Move money between two accounts of the same currency

     One atomic movement: the transfer, a `transfer_out` row on the source and a
    `transfer_in` row on the destination, and both balances, or nothing. Customers only
    (an admin gets 403). The source must be the caller's; the destination may be any active
    account in the same currency, including another customer's. When another customer's
    destination cannot take the money, the error says which rule failed
    (`currency_mismatch`, `account_not_active`) but not that account's currency or status.

    Args:
        idempotency_key (str | Unset):  Example: 5d1b4d6e-0c8c-4a0e-8f7e-2b9f1f3f5a77.
        body (TransferCreate):  Example: {'from_account_id':
            '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'to_account_id':
            '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'amount': 2500, 'currency': 'USD', 'description':
            'Rent'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Transfer]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: TransferCreate,
    idempotency_key: str | Unset = UNSET,
) -> ErrorEnvelope | Transfer | None:
    """Move money between two accounts of the same currency

     One atomic movement: the transfer, a `transfer_out` row on the source and a
    `transfer_in` row on the destination, and both balances, or nothing. Customers only
    (an admin gets 403). The source must be the caller's; the destination may be any active
    account in the same currency, including another customer's. When another customer's
    destination cannot take the money, the error says which rule failed
    (`currency_mismatch`, `account_not_active`) but not that account's currency or status.

    Args:
        idempotency_key (str | Unset):  Example: 5d1b4d6e-0c8c-4a0e-8f7e-2b9f1f3f5a77.
        body (TransferCreate):  Example: {'from_account_id':
            '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'to_account_id':
            '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'amount': 2500, 'currency': 'USD', 'description':
            'Rent'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Transfer
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TransferCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Transfer]:
    """Move money between two accounts of the same currency

     One atomic movement: the transfer, a `transfer_out` row on the source and a
    `transfer_in` row on the destination, and both balances, or nothing. Customers only
    (an admin gets 403). The source must be the caller's; the destination may be any active
    account in the same currency, including another customer's. When another customer's
    destination cannot take the money, the error says which rule failed
    (`currency_mismatch`, `account_not_active`) but not that account's currency or status.

    Args:
        idempotency_key (str | Unset):  Example: 5d1b4d6e-0c8c-4a0e-8f7e-2b9f1f3f5a77.
        body (TransferCreate):  Example: {'from_account_id':
            '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'to_account_id':
            '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'amount': 2500, 'currency': 'USD', 'description':
            'Rent'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Transfer]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: TransferCreate,
    idempotency_key: str | Unset = UNSET,
) -> ErrorEnvelope | Transfer | None:
    """Move money between two accounts of the same currency

     One atomic movement: the transfer, a `transfer_out` row on the source and a
    `transfer_in` row on the destination, and both balances, or nothing. Customers only
    (an admin gets 403). The source must be the caller's; the destination may be any active
    account in the same currency, including another customer's. When another customer's
    destination cannot take the money, the error says which rule failed
    (`currency_mismatch`, `account_not_active`) but not that account's currency or status.

    Args:
        idempotency_key (str | Unset):  Example: 5d1b4d6e-0c8c-4a0e-8f7e-2b9f1f3f5a77.
        body (TransferCreate):  Example: {'from_account_id':
            '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'to_account_id':
            '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'amount': 2500, 'currency': 'USD', 'description':
            'Rent'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Transfer
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
