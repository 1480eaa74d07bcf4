"""What user requests carry: profile edits (JSON or a form with an avatar), bans, roles, passwords."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from shared.auth.profiles import EDITABLE_FIELDS
from shared.http.errors import ApiError, FieldError
from shared.http.fields import FullName, Password, ShortText, Url, Username
from shared.http.forms import FileRule
from shared.http.validation import convert

AVATAR_RULES: dict[str, FileRule] = {"image": FileRule(kind="image", preset="avatar")}


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=False):
    full_name: FullName | None = None
    username: Username | None = None
    company_name: ShortText | None = None
    address: ShortText | None = None
    telegram: ShortText | None = None
    instagram: ShortText | None = None
    linkedin: ShortText | None = None
    portfolio_link: Url | None = None
    phone: ShortText | None = None


class BanBody(msgspec.Struct):
    reason: ShortText | None = None
    permanent: bool = False
    until: datetime | None = None


class RoleBody(msgspec.Struct):
    role_id: int


class PasswordBody(msgspec.Struct, forbid_unknown_fields=False):
    password: Password | None = None
    newPassword: Password | None = None  # noqa: N815  (the older clients' name)


def profile_form(fields: Mapping[str, list[str]]) -> ProfileUpdate:
    """A multipart profile edit: the last value of each field."""
    return convert({name: values[-1] for name, values in fields.items()}, ProfileUpdate)


def profile_fields(body: ProfileUpdate) -> dict[str, Any]:
    """The columns the edit sets: the editable fields it carries (absent and null ones are left alone)."""
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None and k in EDITABLE_FIELDS}


def check_ban(body: BanBody) -> None:
    """A ban is permanent or ends in the future."""
    if not body.permanent:
        if body.until is None:
            raise ApiError("validation", errors=[FieldError("until", "required unless permanent is true")])
        until = body.until if body.until.tzinfo else body.until.replace(tzinfo=UTC)
        if until <= datetime.now(UTC):
            raise ApiError("validation", errors=[FieldError("until", "must be in the future")])


def new_password(body: PasswordBody) -> str:
    password = body.password or body.newPassword
    if password is None:
        raise ApiError("validation", errors=[FieldError("password", "field_required")])
    return password
