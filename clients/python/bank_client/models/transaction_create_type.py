from enum import StrEnum


class TransactionCreateType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"

    def __str__(self) -> str:
        return str(self.value)
