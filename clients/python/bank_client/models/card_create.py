from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.card_type import CardType

T = TypeVar("T", bound="CardCreate")


@_attrs_define
class CardCreate:
    """
    Example:
        {'account_id': '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'type': 'virtual'}

    Attributes:
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        type_ (CardType):  Example: virtual.
    """

    account_id: UUID
    type_: CardType

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "account_id": account_id,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        type_ = CardType(d.pop("type"))

        card_create = cls(
            account_id=account_id,
            type_=type_,
        )

        return card_create
