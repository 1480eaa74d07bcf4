"""`/api/users`: profiles (own and public), designers, the user list, bans, roles, passwords, deletion."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.users import inputs, queries
from functions.users.profile_update import apply_profile_update
from shared.auth.guard import CurrentUser, requires
from shared.auth.profiles import own_profile, public_profile, with_image_url
from shared.auth.provider import get_provider
from shared.db import transaction
from shared.domain import downloads as dl
from shared.domain.common import image_prefix
from shared.domain.deletion import delete_user_everywhere
from shared.http.bodies import is_multipart
from shared.http.envelope import ok
from shared.http.errors import ApiError, FieldError
from shared.http.forms import parse_streamed_form
from shared.http.ids import path_uuid, query_uuid
from shared.http.pagination import page_request
from shared.http.validation import parse_body, query_bool, query_int


async def _read_profile_update(request: Request) -> tuple[dict[str, Any], Any | None]:
    """JSON, or multipart with an `image` avatar (stored while streaming): (columns to set, avatar)."""
    if is_multipart(request):
        form = await parse_streamed_form(request, files=inputs.AVATAR_RULES)
        try:
            body = inputs.profile_form(form.fields)
        except BaseException:
            await form.cleanup()  # the avatar was stored while streaming: no orphan on a 400
            raise
        stored = form.file("image")
        image = stored.image if stored else None
    else:
        body, image = await parse_body(request, inputs.ProfileUpdate), None
    return inputs.profile_fields(body), image


@requires("user")
async def get_profile(request: Request, user: CurrentUser) -> Response:
    profile = await own_profile(user.id)
    if profile is None:
        raise ApiError("not_found")
    if user.role == "brand":
        profile["brand"] = await queries.brand_of(profile["brand_id"]) if profile.get("brand_id") else None
    return ok({"user": profile})


@requires("user")
async def put_profile(request: Request, user: CurrentUser) -> Response:
    fields, image = await _read_profile_update(request)
    profile = await apply_profile_update(user.id, fields, image)
    return ok({"user": profile}, "updated")


@requires("pub")
async def check_username(request: Request, _: None) -> Response:
    return ok({"exists": await queries.username_exists(request.path_params["username"])})


@requires("pub")
async def get_public_profile(request: Request, _: None) -> Response:
    profile = await public_profile(request.path_params["username"])
    if profile is None:
        raise ApiError("not_found")
    return ok({"user": profile})


@requires("admin")
async def ban_user(request: Request, admin: CurrentUser) -> Response:
    user_id = path_uuid(request)
    body = await parse_body(request, inputs.BanBody)
    inputs.check_ban(body)
    if user_id == admin.id:
        raise ApiError("validation", errors=[FieldError("id", "an admin cannot ban themselves")])
    async with transaction() as conn:
        if not await queries.locked_profile(conn, user_id):
            raise ApiError("not_found")
        ban = await queries.insert_ban(
            conn, user_id, body.reason, body.permanent, None if body.permanent else body.until, admin.id
        )
        await queries.notify_ban(conn, user_id, admin.id, body.reason)
    ban["user_id"] = str(ban["user_id"])
    return ok({"ban": ban}, "user_banned")


@requires("admin")
async def unban_user(request: Request, admin: CurrentUser) -> Response:
    user_id = path_uuid(request)
    if not await queries.profile_exists(user_id):
        raise ApiError("not_found")
    await queries.lift_bans(user_id, admin.id)
    return ok(None, "user_unbanned")


@requires("admin")
async def set_role(request: Request, admin: CurrentUser) -> Response:
    user_id = path_uuid(request)
    body = await parse_body(request, inputs.RoleBody)
    if not await queries.role_exists(body.role_id):
        raise ApiError("validation", errors=[FieldError("role_id", "unknown role")])
    if not await queries.set_role(user_id, body.role_id):
        raise ApiError("not_found")
    return ok({"user": await own_profile(user_id)}, "updated")


@requires("pub")
async def list_designers(request: Request, _: None) -> Response:
    page = page_request(request, queries.DESIGNER_ORDER)
    full_name = request.query_params.get("full_name") or request.query_params.get("key") or None
    result = await queries.designers_page(page, full_name, image_prefix())
    return ok(result.answer("designers"))


@requires("admin", "brand")
async def list_users(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, queries.USER_ORDER)
    model = query_uuid(request, "downloaded_model")
    filters = {
        "key": request.query_params.get("key") or None, "role_id": query_int(request.query_params, "role_id"),
        "is_banned": query_bool(request.query_params, "is_banned"), "downloaded_model": model,
    }
    if not user.is_admin:
        if not user.brand_id:
            raise ApiError("access_denied")
        if model:
            owner = await queries.model_brand(filters["downloaded_model"])
            if owner is None:
                raise ApiError("not_found")
            if str(owner["brand_id"]) != user.brand_id:
                raise ApiError("access_denied")
        filters["brand_id"] = user.brand_id  # a brand sees the users who downloaded its models
    result = await queries.users_page(page, filters, image_prefix())
    return ok(result.answer("users"))


@requires("admin")
async def user_info(request: Request, _: CurrentUser) -> Response:
    row = await queries.user_info(request.path_params["username"])
    if row is None:
        raise ApiError("not_found")
    return ok({"user": with_image_url(row)})


@requires("admin")
async def user_downloads(request: Request, _: CurrentUser) -> Response:
    user_id = await queries.profile_id(request.path_params["username"])
    if user_id is None:
        raise ApiError("not_found")
    page = page_request(request, dl.ORDER_COLUMNS)
    result = await dl.list_downloads(page, {"user_id": user_id})
    return ok(result.answer("downloads"))


@requires("admin")
async def put_other_profile(request: Request, _: CurrentUser) -> Response:
    user_id = path_uuid(request)
    if not await queries.profile_exists(user_id):
        raise ApiError("not_found")
    fields, image = await _read_profile_update(request)
    profile = await apply_profile_update(user_id, fields, image)
    return ok({"user": profile}, "updated")


@requires("admin")
async def set_password(request: Request, _: CurrentUser) -> Response:
    user_id = path_uuid(request)
    body = await parse_body(request, inputs.PasswordBody)
    password = inputs.new_password(body)
    if not await queries.profile_exists(user_id):
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
