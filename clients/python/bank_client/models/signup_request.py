from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="SignupRequest")


@_attrs_define
class SignupRequest:
    """
    Example:
        {'email': 'ada@example.com', 'password': 'correct-horse-battery', 'first_name': 'Ada', 'last_name': 'Lovelace',
            'dob': '1990-12-10'}

    Attributes:
        email (str): Trimmed and lower-cased before it is stored; unique regardless of case. It must be a
            deliverable address: at most 64 characters before the `@`, and special-use domains
            (`.test`, `.local`, `.localhost`, `.invalid`, `.example`, `.alt`, `.internal`, ...)
            are refused with 400 `validation_error`.
             Example: ada@example.com.
        password (str): 8 characters at least, 72 bytes of UTF-8 at most; no NUL characters. Example: correct-horse-
            battery.
        first_name (str): Not blank; no NUL characters. Example: Ada.
        last_name (str): Not blank; no NUL characters. Example: Lovelace.
        dob (datetime.date): Date of birth: a real calendar date from 1900-01-01 up to yesterday (a date today or
            in the future is 400 `validation_error`).
             Example: 1990-12-10.
    """

    email: str
    password: str
    first_name: str
    last_name: str
    dob: datetime.date

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        password = self.password

        first_name = self.first_name

        last_name = self.last_name

        dob = self.dob.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "password": password,
                "first_name": first_name,
                "last_name": last_name,
                "dob": dob,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        password = d.pop("password")

        first_name = d.pop("first_name")

        last_name = d.pop("last_name")

        dob = datetime.date.fromisoformat(d.pop("dob"))

        signup_request = cls(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            dob=dob,
        )

        return signup_request
