from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.me_role import MeRole
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.account_holder import AccountHolder
    from ..models.user import User


T = TypeVar("T", bound="Me")


@_attrs_define
class Me:
    """
    Attributes:
        user (User):
        role (MeRole):  Example: customer.
        account_holder (AccountHolder | Unset):
    """

    user: User
    role: MeRole
    account_holder: AccountHolder | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        user = self.user.to_dict()

        role = self.role.value

        account_holder: dict[str, Any] | Unset = UNSET
        if not isinstance(self.account_holder, Unset):
            account_holder = self.account_holder.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user": user,
                "role": role,
            }
        )
        if account_holder is not UNSET:
            field_dict["account_holder"] = account_holder

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_holder import AccountHolder  # noqa: PLC0415
        from ..models.user import User  # noqa: PLC0415

        d = dict(src_dict)
        user = User.from_dict(d.pop("user"))

        role = MeRole(d.pop("role"))

        _account_holder = d.pop("account_holder", UNSET)
        account_holder: AccountHolder | Unset
        if isinstance(_account_holder, Unset):
            account_holder = UNSET
        else:
            account_holder = AccountHolder.from_dict(_account_holder)

        me = cls(
            user=user,
            role=role,
            account_holder=account_holder,
        )

        return me
