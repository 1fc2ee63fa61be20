from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.account import Account
    from ..models.pagination import Pagination
    from ..models.transaction import Transaction


T = TypeVar("T", bound="Statement")


@_attrs_define
class Statement:
    """
    Attributes:
        account (Account):
        from_ (datetime.datetime): Start of the period, inclusive. Example: 2026-11-01T00:00:00Z.
        to (datetime.datetime): End of the period, exclusive. Example: 2026-12-01T00:00:00Z.
        opening_balance (int): A balance in minor units; never negative. Example: 125000.
        closing_balance (int): A balance in minor units; never negative. Example: 125000.
        total_credits (int): Sum of deposits and transfers in over the whole period. Example: 150000.
        total_debits (int): Sum of withdrawals and transfers out over the whole period. Example: 25000.
        current_balance (int): A balance in minor units; never negative. Example: 125000.
        transactions (list[Transaction]): One page of the period's transactions, oldest first.
        pagination (Pagination):  Example: {'limit': 20, 'offset': 0, 'total': 42}.
    """

    account: Account
    from_: datetime.datetime
    to: datetime.datetime
    opening_balance: int
    closing_balance: int
    total_credits: int
    total_debits: int
    current_balance: int
    transactions: list[Transaction]
    pagination: Pagination

    def to_dict(self) -> dict[str, Any]:
        account = self.account.to_dict()

        from_ = self.from_.isoformat()

        to = self.to.isoformat()

        opening_balance = self.opening_balance

        closing_balance = self.closing_balance

        total_credits = self.total_credits

        total_debits = self.total_debits

        current_balance = self.current_balance

        transactions = []
        for transactions_item_data in self.transactions:
            transactions_item = transactions_item_data.to_dict()
            transactions.append(transactions_item)

        pagination = self.pagination.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "account": account,
                "from": from_,
                "to": to,
                "opening_balance": opening_balance,
                "closing_balance": closing_balance,
                "total_credits": total_credits,
                "total_debits": total_debits,
                "current_balance": current_balance,
                "transactions": transactions,
                "pagination": pagination,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account import Account  # noqa: PLC0415
        from ..models.pagination import Pagination  # noqa: PLC0415
        from ..models.transaction import Transaction  # noqa: PLC0415

        d = dict(src_dict)
        account = Account.from_dict(d.pop("account"))

        from_ = datetime.datetime.fromisoformat(d.pop("from"))

        to = datetime.datetime.fromisoformat(d.pop("to"))

        opening_balance = d.pop("opening_balance")

        closing_balance = d.pop("closing_balance")

        total_credits = d.pop("total_credits")

        total_debits = d.pop("total_debits")

        current_balance = d.pop("current_balance")

        transactions = []
        _transactions = d.pop("transactions")
        for transactions_item_data in _transactions:
            transactions_item = Transaction.from_dict(transactions_item_data)

            transactions.append(transactions_item)

        pagination = Pagination.from_dict(d.pop("pagination"))

        statement = cls(
            account=account,
            from_=from_,
            to=to,
            opening_balance=opening_balance,
            closing_balance=closing_balance,
            total_credits=total_credits,
            total_debits=total_debits,
            current_balance=current_balance,
            transactions=transactions,
            pagination=pagination,
        )

        return statement
