"""`/api/users`: profiles (own and public), designers, the user list, bans, roles, passwords, deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.auth.profiles import EDITABLE_FIELDS, own_profile, public_profile
from shared.auth.provider import get_provider
from shared.catalogue import people
from shared.db import execute, fetch_one, transaction
from shared.domain import downloads as dl
from shared.domain.common import image_prefix
from shared.domain.deletion import delete_user_everywhere
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import ok
from shared.http.errors import ApiError, FieldError
from shared.http.fields import FullName, Password, ShortText, Url, Username
from shared.http.ids import path_uuid, query_uuid
from shared.http.pagination import page_request
from shared.http.validation import parse_body, query_bool, query_int
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
    user_id = path_uuid(request)
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
    user_id = path_uuid(request)
    if await fetch_one("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) is None:
        raise ApiError("not_found")
    await execute(
        "UPDATE bans SET lifted_at = now(), lifted_by = %s WHERE user_id = %s AND lifted_at IS NULL",
        (admin.id, user_id),
    )
    return ok(None, "user_unbanned")


@requires("admin")
async def set_role(request: Request, admin: CurrentUser) -> Response:
    user_id = path_uuid(request)
    body = await parse_body(request, RoleBody)
    if await fetch_one("SELECT 1 FROM roles WHERE id = %s", (body.role_id,)) is None:
        raise ApiError("validation", errors=[FieldError("role_id", "unknown role")])
    row = await fetch_one(
        "UPDATE profiles SET role_id = %s, updated_at = now() WHERE id = %s RETURNING id", (body.role_id, user_id)
    )
    if row is None:
        raise ApiError("not_found")
    return ok({"user": await own_profile(user_id)}, "updated")


@requires("pub")
async def list_designers(request: Request, _: None) -> Response:
    page = page_request(request, people.DESIGNER_ORDER)
    full_name = request.query_params.get("full_name") or request.query_params.get("key") or None
    result = await people.list_designers(page, full_name, image_prefix())
    return ok(result.answer("designers"))


@requires("admin", "brand")
async def list_users(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, people.USER_ORDER)
    model = query_uuid(request, "downloaded_model")
    filters = {
        "key": request.query_params.get("key") or None, "role_id": query_int(request, "role_id"),
        "is_banned": query_bool(request, "is_banned"), "downloaded_model": model,
    }
    if not user.is_admin:
        if not user.brand_id:
            raise ApiError("access_denied")
        if model:
            owner = await fetch_one("SELECT brand_id FROM models WHERE id = %s", (filters["downloaded_model"],))
            if owner is None:
                raise ApiError("not_found")
            if str(owner["brand_id"]) != user.brand_id:
                raise ApiError("access_denied")
        filters["brand_id"] = user.brand_id  # a brand sees the users who downloaded its models
    result = await people.list_users(page, filters, image_prefix())
    return ok(result.answer("users"))


INFO_SQL = """
SELECT p.id, p.username, p.full_name, p.email, p.company_name, p.image_src, p.phone, p.role_id, p.brand_id,
       p.designs_count, p.tags_count, p.downloads_count, p.created_at,
       (SELECT count(*) FROM download_requests r WHERE r.user_id = p.id) AS download_requests_count,
       (SELECT count(*) FROM download_requests r WHERE r.user_id = p.id
          AND r.created_at > now() - interval '1 day') AS downloads_last_24h
FROM profiles p WHERE p.username = %s
"""


@requires("admin")
async def user_info(request: Request, _: CurrentUser) -> Response:
    row = await fetch_one(INFO_SQL, (request.path_params["username"],))
    if row is None:
        raise ApiError("not_found")
    from shared.auth.profiles import with_image_url

    return ok({"user": with_image_url(row)})


@requires("admin")
async def user_downloads(request: Request, _: CurrentUser) -> Response:
    row = await fetch_one("SELECT id FROM profiles WHERE username = %s", (request.path_params["username"],))
    if row is None:
        raise ApiError("not_found")
    page = page_request(request, dl.ORDER_COLUMNS)
    result = await dl.list_downloads(page, {"user_id": str(row["id"])})
    return ok(result.answer("downloads"))


@requires("admin")
async def put_other_profile(request: Request, _: CurrentUser) -> Response:
    user_id = path_uuid(request)
    if await fetch_one("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) is None:
        raise ApiError("not_found")
    fields, image = await read_profile_update(request, ProfileUpdate)
    profile = await apply_profile_update(user_id, fields, image)
    return ok({"user": profile}, "updated")


class PasswordBody(msgspec.Struct, forbid_unknown_fields=False):
    password: Password | None = None
    newPassword: Password | None = None  # noqa: N815  (the older clients' name)


@requires("admin")
async def set_password(request: Request, _: CurrentUser) -> Response:
    user_id = path_uuid(request)
    body = await parse_body(request, PasswordBody)
    password = body.password or body.newPassword
    if password is None:
        raise ApiError("validation", errors=[FieldError("password", "field_required")])
    if await fetch_one("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) is None:
        raise ApiError("not_found")
    await get_provider().set_password(user_id, password)
    return ok(None, "password_updated")


@requires("admin")
async def delete_user(request: Request, admin: CurrentUser) -> Response:
    user_id = path_uuid(request)
    if user_id == admin.id:
        raise ApiError("validation", errors=[FieldError("id", "an admin cannot delete themselves")])
    if not await delete_user_everywhere(user_id):
        raise ApiError("not_found")
    return ok(None, "deleted")


__all__ = ["EDITABLE_FIELDS"]

routes = [
    Route("/api/users", list_users, methods=["GET"]),
    Route("/api/users/designers", list_designers, methods=["GET"]),
    Route("/api/users/profile/{id}", put_other_profile, methods=["PUT"]),
    Route("/api/users/pwd/{id}", set_password, methods=["PUT"]),
    Route("/api/users/profile", get_profile, methods=["GET"]),
    Route("/api/users/profile", put_profile, methods=["PUT"]),
    Route("/api/users/check/{username}", check_username, methods=["GET"]),
    Route("/api/users/ban/{id}", ban_user, methods=["POST"]),
    Route("/api/users/unban/{id}", unban_user, methods=["POST"]),
    Route("/api/users/role/{id}", set_role, methods=["PUT"]),
    Route("/api/users/{username}/info", user_info, methods=["GET"]),
    Route("/api/users/{username}/downloads", user_downloads, methods=["GET"]),
    Route("/api/users/{username}", get_public_profile, methods=["GET"]),
    Route("/api/users/{id}", delete_user, methods=["DELETE"]),
]
app = build_app(routes)
handler = lambda_handler(app)
