from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.card import Card
from ...models.card_update import CardUpdate
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    card_id: UUID,
    *,
    body: CardUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/cards/{card_id}".format(
            card_id=quote(str(card_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Card | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = Card.from_dict(response.json())

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
) -> Response[Card | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    card_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CardUpdate,
) -> Response[Card | ErrorEnvelope]:
    """Freeze, unfreeze or cancel a card

     `active` <-> `frozen`; `active`/`frozen` -> `canceled`; `canceled` is terminal. Any
    other pair is 409 `invalid_state_transition`.

    Args:
        card_id (UUID):  Example: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        body (CardUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Card | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        card_id=card_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    card_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CardUpdate,
) -> Card | ErrorEnvelope | None:
    """Freeze, unfreeze or cancel a card

     `active` <-> `frozen`; `active`/`frozen` -> `canceled`; `canceled` is terminal. Any
    other pair is 409 `invalid_state_transition`.

    Args:
        card_id (UUID):  Example: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        body (CardUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Card | ErrorEnvelope
    """

    return sync_detailed(
        card_id=card_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    card_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CardUpdate,
) -> Response[Card | ErrorEnvelope]:
    """Freeze, unfreeze or cancel a card

     `active` <-> `frozen`; `active`/`frozen` -> `canceled`; `canceled` is terminal. Any
    other pair is 409 `invalid_state_transition`.

    Args:
        card_id (UUID):  Example: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        body (CardUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Card | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        card_id=card_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    card_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CardUpdate,
) -> Card | ErrorEnvelope | None:
    """Freeze, unfreeze or cancel a card

     `active` <-> `frozen`; `active`/`frozen` -> `canceled`; `canceled` is terminal. Any
    other pair is 409 `invalid_state_transition`.

    Args:
        card_id (UUID):  Example: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        body (CardUpdate):  Example: {'status': 'frozen'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Card | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            card_id=card_id,
            client=client,
            body=body,
        )
    ).parsed
