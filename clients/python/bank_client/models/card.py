from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.card_brand import CardBrand
from ..models.card_status import CardStatus
from ..models.card_type import CardType

T = TypeVar("T", bound="Card")


@_attrs_define
class Card:
    """
    Attributes:
        id (UUID):  Example: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        account_id (UUID):  Example: 3fa85f64-5717-4562-b3fc-2c963f66afa6.
        type_ (CardType):  Example: virtual.
        brand (CardBrand):  Example: visa.
        last4 (str):  Example: 4242.
        exp_month (int):  Example: 11.
        exp_year (int):  Example: 2029.
        status (CardStatus):  Example: active.
        created_at (datetime.datetime):  Example: 2026-11-28T09:30:00Z.
    """

    id: UUID
    account_id: UUID
    type_: CardType
    brand: CardBrand
    last4: str
    exp_month: int
    exp_year: int
    status: CardStatus
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        account_id = str(self.account_id)

        type_ = self.type_.value

        brand = self.brand.value

        last4 = self.last4

        exp_month = self.exp_month

        exp_year = self.exp_year

        status = self.status.value

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "account_id": account_id,
                "type": type_,
                "brand": brand,
                "last4": last4,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "status": status,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        account_id = UUID(d.pop("account_id"))

        type_ = CardType(d.pop("type"))

        brand = CardBrand(d.pop("brand"))

        last4 = d.pop("last4")

        exp_month = d.pop("exp_month")

        exp_year = d.pop("exp_year")

        status = CardStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        card = cls(
            id=id,
            account_id=account_id,
            type_=type_,
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
            status=status,
            created_at=created_at,
        )

        return card
