from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.currency import Currency
from ..models.transaction_create_type import TransactionCreateType
from ..types import UNSET, Unset

T = TypeVar("T", bound="TransactionCreate")


@_attrs_define
class TransactionCreate:
    """
    Example:
        {'account_id': '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'type': 'deposit', 'amount': 10000, 'currency': 'USD',
            'description': 'Salary'}

    Attributes:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        type_ (TransactionCreateType):  Example: deposit.
        amount (int): An amount in minor units (cents for USD). Example: 2500.
        currency (Currency): ISO 4217 currency code. Example: USD.
        description (str | Unset):  Example: Salary.
    """

    account_id: UUID
    type_: TransactionCreateType
    amount: int
    currency: Currency
    description: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        type_ = self.type_.value

        amount = self.amount

        currency = self.currency.value

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "account_id": account_id,
                "type": type_,
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
        account_id = UUID(d.pop("account_id"))

        type_ = TransactionCreateType(d.pop("type"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        description = d.pop("description", UNSET)

        transaction_create = cls(
            account_id=account_id,
            type_=type_,
            amount=amount,
            currency=currency,
            description=description,
        )

        return transaction_create
