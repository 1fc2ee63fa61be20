from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.account_type import AccountType
from ..models.currency import Currency
from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountCreate")


@_attrs_define
class AccountCreate:
    """
    Example:
        {'type': 'checking', 'currency': 'USD'}

    Attributes:
        type_ (AccountType):  Example: checking.
        currency (Currency): ISO 4217 currency code. Example: USD.
        holder_id (UUID | Unset): Required for admins; a customer may name only its own holder. Example:
            9b2d6c1f-2a41-4f0b-8f3e-6c1d2e3f4a5b.
    """

    type_: AccountType
    currency: Currency
    holder_id: UUID | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        currency = self.currency.value

        holder_id: str | Unset = UNSET
        if not isinstance(self.holder_id, Unset):
            holder_id = str(self.holder_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "currency": currency,
            }
        )
        if holder_id is not UNSET:
            field_dict["holder_id"] = holder_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = AccountType(d.pop("type"))

        currency = Currency(d.pop("currency"))

        _holder_id = d.pop("holder_id", UNSET)
        holder_id: UUID | Unset
        if isinstance(_holder_id, Unset):
            holder_id = UNSET
        else:
            holder_id = UUID(_holder_id)

        account_create = cls(
            type_=type_,
            currency=currency,
            holder_id=holder_id,
        )

        return account_create
