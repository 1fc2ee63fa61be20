from enum import StrEnum


class CardStatus(StrEnum):
    ACTIVE = "active"
    CANCELED = "canceled"
    FROZEN = "frozen"

    def __str__(self) -> str:
        return str(self.value)
