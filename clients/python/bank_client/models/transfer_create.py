from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.currency import Currency
from ..types import UNSET, Unset

T = TypeVar("T", bound="TransferCreate")


@_attrs_define
class TransferCreate:
    """
    Example:
        {'from_account_id': '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'to_account_id':
            '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'amount': 2500, 'currency': 'USD', 'description': 'Rent'}

    Attributes:
        from_account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        to_account_id (UUID):  Example: 7c9e6679-7425-40de-944b-e07fc1f90ae7.
        amount (int): An amount in minor units (cents for USD). Example: 2500.
        currency (Currency): ISO 4217 currency code. Example: USD.
        description (str | Unset):  Example: Rent.
    """

    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: Currency
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from_account_id = str(self.from_account_id)

        to_account_id = str(self.to_account_id)

        amount = self.amount

        currency = self.currency.value

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from_account_id": from_account_id,
                "to_account_id": to_account_id,
                "amount": amount,
                "currency": currency,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        from_account_id = UUID(d.pop("from_account_id"))

        to_account_id = UUID(d.pop("to_account_id"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        description = d.pop("description", UNSET)

        transfer_create = cls(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=amount,
            currency=currency,
            description=description,
        )

        return transfer_create
