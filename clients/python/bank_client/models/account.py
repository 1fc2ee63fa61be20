from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.account_status import AccountStatus
from ..models.account_type import AccountType
from ..models.currency import Currency

T = TypeVar("T", bound="Account")


@_attrs_define
class Account:
    """
    Attributes:
        id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        holder_id (UUID):  Example: 9b2d6c1f-2a41-4f0b-8f3e-6c1d2e3f4a5b.
        type_ (AccountType):  Example: checking.
        currency (Currency): ISO 4217 currency code. Example: USD.
        balance (int): A balance in minor units; never negative. Example: 125000.
        status (AccountStatus):  Example: active.
        created_at (datetime.datetime):  Example: 2026-11-28T09:30:00Z.
    """

    id: UUID
    holder_id: UUID
    type_: AccountType
    currency: Currency
    balance: int
    status: AccountStatus
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        holder_id = str(self.holder_id)

        type_ = self.type_.value

        currency = self.currency.value

        balance = self.balance

        status = self.status.value

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "holder_id": holder_id,
                "type": type_,
                "currency": currency,
                "balance": balance,
                "status": status,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        holder_id = UUID(d.pop("holder_id"))

        type_ = AccountType(d.pop("type"))

        currency = Currency(d.pop("currency"))

        balance = d.pop("balance")

        status = AccountStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        account = cls(
            id=id,
            holder_id=holder_id,
            type_=type_,
            currency=currency,
            balance=balance,
            status=status,
            created_at=created_at,
        )

        return account
