import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.statement import Statement
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    params["limit"] = limit

    params["offset"] = offset

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/statements/{account_id}".format(
            account_id=quote(str(account_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Statement | None:
    if response.status_code == 200:
        response_200 = Statement.from_dict(response.json())

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

    if response.status_code == 406:
        response_406 = ErrorEnvelope.from_dict(response.json())

        return response_406

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
) -> Response[ErrorEnvelope | Statement]:
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
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> Response[ErrorEnvelope | Statement]:
    """An account statement for a period

     The period is `from` (inclusive) to `to` (exclusive); `from` defaults to the account's
    opening (or `to`, if that is earlier), `to` to now (or `from`, if only a future `from`
    is given: an empty period). `opening_balance + total_credits - total_debits =
    closing_balance` over the whole period; `transactions` is one page of the period's
    rows in chronological order.

    The same page comes as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when
    they hold a comma, quote, CR or LF; free text that starts with `=`, `+`, `-`, `@`, tab
    or CR is prefixed with `'` so spreadsheets do not run it) when `Accept` prefers
    `text/csv`. `Accept` is negotiated with its quality values; JSON is the default and
    wins ties; 406 `not_acceptable` when `Accept` allows neither type.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        from_ (datetime.datetime | Unset):  Example: 2026-11-01T00:00:00Z.
        to (datetime.datetime | Unset):  Example: 2026-12-01T00:00:00Z.
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Statement]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        from_=from_,
        to=to,
        limit=limit,
        offset=offset,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> ErrorEnvelope | Statement | None:
    """An account statement for a period

     The period is `from` (inclusive) to `to` (exclusive); `from` defaults to the account's
    opening (or `to`, if that is earlier), `to` to now (or `from`, if only a future `from`
    is given: an empty period). `opening_balance + total_credits - total_debits =
    closing_balance` over the whole period; `transactions` is one page of the period's
    rows in chronological order.

    The same page comes as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when
    they hold a comma, quote, CR or LF; free text that starts with `=`, `+`, `-`, `@`, tab
    or CR is prefixed with `'` so spreadsheets do not run it) when `Accept` prefers
    `text/csv`. `Accept` is negotiated with its quality values; JSON is the default and
    wins ties; 406 `not_acceptable` when `Accept` allows neither type.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        from_ (datetime.datetime | Unset):  Example: 2026-11-01T00:00:00Z.
        to (datetime.datetime | Unset):  Example: 2026-12-01T00:00:00Z.
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Statement
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        from_=from_,
        to=to,
        limit=limit,
        offset=offset,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> Response[ErrorEnvelope | Statement]:
    """An account statement for a period

     The period is `from` (inclusive) to `to` (exclusive); `from` defaults to the account's
    opening (or `to`, if that is earlier), `to` to now (or `from`, if only a future `from`
    is given: an empty period). `opening_balance + total_credits - total_debits =
    closing_balance` over the whole period; `transactions` is one page of the period's
    rows in chronological order.

    The same page comes as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when
    they hold a comma, quote, CR or LF; free text that starts with `=`, `+`, `-`, `@`, tab
    or CR is prefixed with `'` so spreadsheets do not run it) when `Accept` prefers
    `text/csv`. `Accept` is negotiated with its quality values; JSON is the default and
    wins ties; 406 `not_acceptable` when `Accept` allows neither type.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        from_ (datetime.datetime | Unset):  Example: 2026-11-01T00:00:00Z.
        to (datetime.datetime | Unset):  Example: 2026-12-01T00:00:00Z.
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Statement]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        from_=from_,
        to=to,
        limit=limit,
        offset=offset,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> ErrorEnvelope | Statement | None:
    """An account statement for a period

     The period is `from` (inclusive) to `to` (exclusive); `from` defaults to the account's
    opening (or `to`, if that is earlier), `to` to now (or `from`, if only a future `from`
    is given: an empty period). `opening_balance + total_credits - total_debits =
    closing_balance` over the whole period; `transactions` is one page of the period's
    rows in chronological order.

    The same page comes as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when
    they hold a comma, quote, CR or LF; free text that starts with `=`, `+`, `-`, `@`, tab
    or CR is prefixed with `'` so spreadsheets do not run it) when `Accept` prefers
    `text/csv`. `Accept` is negotiated with its quality values; JSON is the default and
    wins ties; 406 `not_acceptable` when `Accept` allows neither type.

    Args:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        from_ (datetime.datetime | Unset):  Example: 2026-11-01T00:00:00Z.
        to (datetime.datetime | Unset):  Example: 2026-12-01T00:00:00Z.
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Statement
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            from_=from_,
            to=to,
            limit=limit,
            offset=offset,
        )
    ).parsed
