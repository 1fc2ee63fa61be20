from enum import StrEnum


class HealthUnavailableStatus(StrEnum):
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return str(self.value)
