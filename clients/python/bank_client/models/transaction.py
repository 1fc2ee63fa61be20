from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.currency import Currency
from ..models.transaction_type import TransactionType

T = TypeVar("T", bound="Transaction")


@_attrs_define
class Transaction:
    """
    Attributes:
        id (UUID):  Example: 0b6a4c1e-3f55-4f0e-9d55-1c2b8b7c9a11.
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        type_ (TransactionType):  Example: deposit.
        amount (int): An amount in minor units (cents for USD). Example: 2500.
        currency (Currency): ISO 4217 currency code. Example: USD.
        balance_after (int): A balance in minor units; never negative. Example: 125000.
        transfer_id (None | UUID): The transfer this row belongs to (`transfer_in` / `transfer_out`), else null.
        description (None | str):  Example: Salary.
        created_at (datetime.datetime): When the row was posted (UTC). Per account, never earlier than the account's
            previous row or its opening, even if the server's clock steps back: an account's
            rows in `created_at` order are in posting order, and statements add up.
             Example: 2026-11-28T09:30:00Z.
    """

    id: UUID
    account_id: UUID
    type_: TransactionType
    amount: int
    currency: Currency
    balance_after: int
    transfer_id: None | UUID
    description: None | str
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        account_id = str(self.account_id)

        type_ = self.type_.value

        amount = self.amount

        currency = self.currency.value

        balance_after = self.balance_after

        transfer_id: None | str
        if isinstance(self.transfer_id, UUID):
            transfer_id = str(self.transfer_id)
        else:
            transfer_id = self.transfer_id

        description: None | str
        description = self.description

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "account_id": account_id,
                "type": type_,
                "amount": amount,
                "currency": currency,
                "balance_after": balance_after,
                "transfer_id": transfer_id,
                "description": description,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        account_id = UUID(d.pop("account_id"))

        type_ = TransactionType(d.pop("type"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        balance_after = d.pop("balance_after")

        def _parse_transfer_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                transfer_id_type_0 = UUID(data)

                return transfer_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        transfer_id = _parse_transfer_id(d.pop("transfer_id"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        transaction = cls(
            id=id,
            account_id=account_id,
            type_=type_,
            amount=amount,
            currency=currency,
            balance_after=balance_after,
            transfer_id=transfer_id,
            description=description,
            created_at=created_at,
        )

        return transaction
