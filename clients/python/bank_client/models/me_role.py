from enum import StrEnum


class MeRole(StrEnum):
    ADMIN = "admin"
    CUSTOMER = "customer"

    def __str__(self) -> str:
        return str(self.value)
