from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.currency import Currency

T = TypeVar("T", bound="Transfer")


@_attrs_define
class Transfer:
    """
    Attributes:
        id (UUID):  Example: 6e0f3a2b-1c4d-4e5f-8a9b-0c1d2e3f4a5b.
        from_account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        to_account_id (UUID):  Example: 7c9e6679-7425-40de-944b-e07fc1f90ae7.
        amount (int): An amount in minor units (cents for USD). Example: 2500.
        currency (Currency): ISO 4217 currency code. Example: USD.
        description (None | str):  Example: Rent.
        created_at (datetime.datetime): When the transfer was posted (UTC); its two rows carry their own accounts'
            stamps, and this is the later of them. Example: 2026-11-28T09:30:00Z.
    """

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: Currency
    description: None | str
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        from_account_id = str(self.from_account_id)

        to_account_id = str(self.to_account_id)

        amount = self.amount

        currency = self.currency.value

        description: None | str
        description = self.description

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "from_account_id": from_account_id,
                "to_account_id": to_account_id,
                "amount": amount,
                "currency": currency,
                "description": description,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        from_account_id = UUID(d.pop("from_account_id"))

        to_account_id = UUID(d.pop("to_account_id"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        transfer = cls(
            id=id,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=amount,
            currency=currency,
            description=description,
            created_at=created_at,
        )

        return transfer
