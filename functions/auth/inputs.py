"""Request bodies of the auth routes, and the small rules that turn them into plain values."""

from __future__ import annotations

import msgspec

from shared.http.errors import ApiError, FieldError
from shared.http.fields import Email, FullName, Password, ShortText

SIGNIN_ROLES = ("admin", "brand", "designer")


class SignUp(msgspec.Struct):
    full_name: FullName
    email: Email
    password: Password
    company_name: ShortText | None = None


class SignIn(msgspec.Struct):
    password: str
    email: str | None = None
    username: str | None = None


class Refresh(msgspec.Struct):
    token: str | None = None
    refresh_token: str | None = None


class EmailOnly(msgspec.Struct):
    email: Email


class ResetPassword(msgspec.Struct, rename={"new_password": "newPassword"}):
    token: str
    new_password: Password


class UpdatePassword(msgspec.Struct, rename={"new_password": "newPassword"}):
    new_password: Password
    password: str | None = None
    current_password: str | None = None
    oldPassword: str | None = None  # noqa: N815  (the older clients' name)


def valid_signin_role(role: str) -> str:
    """The `{role}` of `/signin/{role}`, one of SIGNIN_ROLES; 400 naming `role` otherwise."""
    if role not in SIGNIN_ROLES:
        raise ApiError("validation", errors=[FieldError("role", "must be one of: admin, brand, designer")])
    return role


def login_of(body: SignIn) -> str:
    """The email or username the caller signs in with (either field); 400 naming `email` if none."""
    login = (body.email or body.username or "").strip()
    if not login:
        raise ApiError("validation", errors=[FieldError("email", "field_required")])
    return login


def refresh_token_of(body: Refresh) -> str:
    """The refresh token, under either of its names; 400 naming `token` if missing."""
    token = body.token or body.refresh_token
    if not token:
        raise ApiError("validation", errors=[FieldError("token", "field_required")])
    return token


def current_password_of(body: UpdatePassword) -> str:
    """The current password, under any of its three names; 400 naming `password` if missing.

    Both providers ask for it: a stolen access token alone must not be enough to take the account over.
    """
    current = body.password or body.current_password or body.oldPassword
    if not current:
        raise ApiError("validation", errors=[FieldError("password", "field_required")])
    return current
