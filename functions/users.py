"""`/api/users`: profiles (own and public), username checks, bans and roles (admin)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.auth.profiles import EDITABLE_FIELDS, own_profile, public_profile
from shared.db import execute, fetch_one, transaction
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import ok
from shared.http.errors import ApiError, FieldError
from shared.http.fields import FullName, ShortText, Url, Username
from shared.http.validation import parse_body
from shared.users.profile_update import apply_profile_update, read_profile_update


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


def _uuid_param(request: Request, name: str = "id") -> str:
    value = request.path_params[name]
    try:
        import uuid

        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError("not_found") from None


async def _brand_of(profile: dict) -> dict | None:
    if not profile.get("brand_id"):
        return None
    try:
        return await fetch_one("SELECT id, name, slug FROM brands WHERE id = %s", (profile["brand_id"],))
    except Exception:  # the catalogue tables are not installed yet
        return None


@requires("user")
async def get_profile(request: Request, user: CurrentUser) -> Response:
    profile = await own_profile(user.id)
    if profile is None:
        raise ApiError("not_found")
    if user.role == "brand":
        profile["brand"] = await _brand_of(profile)
    return ok({"user": profile})


@requires("user")
async def put_profile(request: Request, user: CurrentUser) -> Response:
    fields, image = await read_profile_update(request, ProfileUpdate)
    profile = await apply_profile_update(user.id, fields, image)
    return ok({"user": profile}, "updated")


@requires("pub")
async def check_username(request: Request, _: None) -> Response:
    row = await fetch_one("SELECT 1 FROM profiles WHERE username = %s", (request.path_params["username"],))
    return ok({"exists": row is not None})


@requires("pub")
async def get_public_profile(request: Request, _: None) -> Response:
    profile = await public_profile(request.path_params["username"])
    if profile is None:
        raise ApiError("not_found")
    return ok({"user": profile})


@requires("admin")
async def ban_user(request: Request, admin: CurrentUser) -> Response:
    user_id = _uuid_param(request)
    body = await parse_body(request, BanBody)
    if not body.permanent:
        if body.until is None:
            raise ApiError("validation", errors=[FieldError("until", "required unless permanent is true")])
        until = body.until if body.until.tzinfo else body.until.replace(tzinfo=UTC)
        if until <= datetime.now(UTC):
            raise ApiError("validation", errors=[FieldError("until", "must be in the future")])
    if user_id == admin.id:
        raise ApiError("validation", errors=[FieldError("id", "an admin cannot ban themselves")])
    async with transaction() as conn:
        target = await fetch_one("SELECT id FROM profiles WHERE id = %s FOR UPDATE", (user_id,), conn)
        if target is None:
            raise ApiError("not_found")
        ban = await fetch_one(
            """INSERT INTO bans (user_id, reason, permanent, until, created_by)
               VALUES (%s, %s, %s, %s, %s) RETURNING id, user_id, reason, permanent, until, created_at""",
            (user_id, body.reason, body.permanent, None if body.permanent else body.until, admin.id),
            conn,
        )
        await _notify_ban(conn, user_id, admin.id, body)
    ban["user_id"] = str(ban["user_id"])
    return ok({"ban": ban}, "user_banned")


async def _notify_ban(conn, user_id: str, admin_id: str, body: BanBody) -> None:  # noqa: ANN001
    """Tell the user why (the notifications group owns the table; absent until it is installed)."""
    exists = await fetch_one("SELECT to_regclass('public.notifications') IS NOT NULL AS present", None, conn)
    if exists and exists["present"]:
        await conn.execute(
            "INSERT INTO notifications (user_id, actor_id, type, text) VALUES (%s, %s, 'ban', %s)",
            (user_id, admin_id, body.reason or ""),
        )


@requires("admin")
async def unban_user(request: Request, admin: CurrentUser) -> Response:
    user_id = _uuid_param(request)
    if await fetch_one("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) is None:
        raise ApiError("not_found")
    await execute(
        "UPDATE bans SET lifted_at = now(), lifted_by = %s WHERE user_id = %s AND lifted_at IS NULL",
        (admin.id, user_id),
    )
    return ok(None, "user_unbanned")


@requires("admin")
async def set_role(request: Request, admin: CurrentUser) -> Response:
    user_id = _uuid_param(request)
    body = await parse_body(request, RoleBody)
    if await fetch_one("SELECT 1 FROM roles WHERE id = %s", (body.role_id,)) is None:
        raise ApiError("validation", errors=[FieldError("role_id", "unknown role")])
    row = await fetch_one(
        "UPDATE profiles SET role_id = %s, updated_at = now() WHERE id = %s RETURNING id", (body.role_id, user_id)
    )
    if row is None:
        raise ApiError("not_found")
    return ok({"user": await own_profile(user_id)}, "updated")


__all__ = ["EDITABLE_FIELDS"]

routes = [
    Route("/api/users/profile", get_profile, methods=["GET"]),
    Route("/api/users/profile", put_profile, methods=["PUT"]),
    Route("/api/users/check/{username}", check_username, methods=["GET"]),
    Route("/api/users/ban/{id}", ban_user, methods=["POST"]),
    Route("/api/users/unban/{id}", unban_user, methods=["POST"]),
    Route("/api/users/role/{id}", set_role, methods=["PUT"]),
    Route("/api/users/{username}", get_public_profile, methods=["GET"]),
]
app = build_app(routes)
handler = lambda_handler(app)
