from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.health_unavailable_status import HealthUnavailableStatus

if TYPE_CHECKING:
    from ..models.error_body import ErrorBody
    from ..models.health_checks import HealthChecks


T = TypeVar("T", bound="HealthUnavailable")


@_attrs_define
class HealthUnavailable:
    """The readiness answer when a dependency is down; carries the error envelope too.

    Attributes:
        status (HealthUnavailableStatus):  Example: unavailable.
        checks (HealthChecks):
        error (ErrorBody):
    """

    status: HealthUnavailableStatus
    checks: HealthChecks
    error: ErrorBody

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        checks = self.checks.to_dict()

        error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "checks": checks,
                "error": error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_body import ErrorBody  # noqa: PLC0415
        from ..models.health_checks import HealthChecks  # noqa: PLC0415

        d = dict(src_dict)
        status = HealthUnavailableStatus(d.pop("status"))

        checks = HealthChecks.from_dict(d.pop("checks"))

        error = ErrorBody.from_dict(d.pop("error"))

        health_unavailable = cls(
            status=status,
            checks=checks,
            error=error,
        )

        return health_unavailable
