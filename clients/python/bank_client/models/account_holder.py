from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="AccountHolder")


@_attrs_define
class AccountHolder:
    """
    Attributes:
        id (UUID):  Example: 9b2d6c1f-2a41-4f0b-8f3e-6c1d2e3f4a5b.
        user_id (UUID):  Example: 5c3e1d2b-7a8f-4e6d-9c0b-1a2b3c4d5e6f.
        first_name (str):  Example: Ada.
        last_name (str):  Example: Lovelace.
        dob (datetime.date):  Example: 1990-12-10.
        created_at (datetime.datetime):  Example: 2026-11-28T09:30:00Z.
    """

    id: UUID
    user_id: UUID
    first_name: str
    last_name: str
    dob: datetime.date
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        user_id = str(self.user_id)

        first_name = self.first_name

        last_name = self.last_name

        dob = self.dob.isoformat()

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "user_id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "dob": dob,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        user_id = UUID(d.pop("user_id"))

        first_name = d.pop("first_name")

        last_name = d.pop("last_name")

        dob = datetime.date.fromisoformat(d.pop("dob"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        account_holder = cls(
            id=id,
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            dob=dob,
            created_at=created_at,
        )

        return account_holder
