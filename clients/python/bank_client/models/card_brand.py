from enum import StrEnum


class CardBrand(StrEnum):
    VISA = "visa"

    def __str__(self) -> str:
        return str(self.value)
