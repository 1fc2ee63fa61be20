from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.health_checks_database import HealthChecksDatabase

T = TypeVar("T", bound="HealthChecks")


@_attrs_define
class HealthChecks:
    """
    Attributes:
        database (HealthChecksDatabase):  Example: ok.
    """

    database: HealthChecksDatabase

    def to_dict(self) -> dict[str, Any]:
        database = self.database.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "database": database,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        database = HealthChecksDatabase(d.pop("database"))

        health_checks = cls(
            database=database,
        )

        return health_checks
