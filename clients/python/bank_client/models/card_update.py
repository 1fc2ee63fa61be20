from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.card_status import CardStatus

T = TypeVar("T", bound="CardUpdate")


@_attrs_define
class CardUpdate:
    """
    Example:
        {'status': 'frozen'}

    Attributes:
        status (CardStatus):  Example: active.
    """

    status: CardStatus

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = CardStatus(d.pop("status"))

        card_update = cls(
            status=status,
        )

        return card_update
