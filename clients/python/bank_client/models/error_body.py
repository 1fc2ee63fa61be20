from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.error_body_details import ErrorBodyDetails


T = TypeVar("T", bound="ErrorBody")


@_attrs_define
class ErrorBody:
    """
    Attributes:
        code (str): A stable, machine-readable code from the table in the API description. Example: insufficient_funds.
        message (str): A human-readable explanation. Do not parse it. Example: The balance is lower than the amount..
        details (ErrorBodyDetails): Structured context, such as the offending field. Example: {'account_id':
            '3fa85f64-5717-4562-b3fc-2c963f66afa6'}.
        request_id (str): The request's id, as in the `X-Request-Id` header. Example: 7f1c0e2a9b3d4c5e8f6a1b2c3d4e5f60.
    """

    code: str
    message: str
    details: ErrorBodyDetails
    request_id: str

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        details = self.details.to_dict()

        request_id = self.request_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "message": message,
                "details": details,
                "request_id": request_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_body_details import ErrorBodyDetails  # noqa: PLC0415

        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        details = ErrorBodyDetails.from_dict(d.pop("details"))

        request_id = d.pop("request_id")

        error_body = cls(
            code=code,
            message=message,
            details=details,
            request_id=request_id,
        )

        return error_body
