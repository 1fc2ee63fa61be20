from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.account_holder import AccountHolder
    from ..models.user import User


T = TypeVar("T", bound="SignupResponse")


@_attrs_define
class SignupResponse:
    """
    Attributes:
        user (User):
        account_holder (AccountHolder):
    """

    user: User
    account_holder: AccountHolder

    def to_dict(self) -> dict[str, Any]:
        user = self.user.to_dict()

        account_holder = self.account_holder.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user": user,
                "account_holder": account_holder,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_holder import AccountHolder  # noqa: PLC0415
        from ..models.user import User  # noqa: PLC0415

        d = dict(src_dict)
        user = User.from_dict(d.pop("user"))

        account_holder = AccountHolder.from_dict(d.pop("account_holder"))

        signup_response = cls(
            user=user,
            account_holder=account_holder,
        )

        return signup_response
