"""`/api/interiors` (and `/api/myinteriors`): designers' interiors, moderation, images, likes, views."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from psycopg import AsyncConnection, errors
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.community.interior_forms import (
    GALLERY_FILES,
    MAX_GALLERY,
    InteriorCreate,
    check_references,
    is_multipart,
    read_create,
    read_update,
)
from shared.community.interior_lists import list_filters, list_page
from shared.community.views import record_view, viewer_key
from shared.db import fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import find_interior, interior_detail
from shared.domain.notify import notify
from shared.domain.text import slugify
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.forms import StreamedForm, parse_streamed_form
from shared.http.ids import as_uuid, path_uuid
from shared.http.validation import parse_body
from shared.storage import delete_image, get_storage

STATUS_NOTIFICATION = {1: "interior_approved", 2: "interior_rejected"}


class StatusBody(msgspec.Struct):
    status: Annotated[int, msgspec.Meta(ge=0, le=2)]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


# Lists ------------------------------------------------------------------------------------------------


@requires("opt")
async def list_interiors(request: Request, user: CurrentUser | None) -> Response:
    where, params = list_filters(request, user)
    interiors, page = await list_page(request, where, params)
    return ok({"interiors": interiors, "pagination": page})


@requires("user")
async def my_interiors(request: Request, user: CurrentUser) -> Response:
    where, params = list_filters(request, user, own=True)
    interiors, page = await list_page(request, where, params)
    return ok({"interiors": interiors, "pagination": page})


@requires("opt")
async def interior_counts(request: Request, user: CurrentUser | None) -> Response:
    row = await fetch_one(
        """SELECT count(*) FILTER (WHERE status = 1) AS approved, count(*) FILTER (WHERE status = 0) AS pending,
                  count(*) FILTER (WHERE status = 2) AS rejected, count(*) AS all
           FROM interiors WHERE NOT is_deleted"""
        if user is not None and user.is_admin
        else "SELECT count(*) AS approved FROM interiors WHERE status = 1 AND NOT is_deleted"
    )
    assert row is not None
    if user is not None and user.is_admin:
        counts = {key: row[key] for key in ("all", "approved", "pending", "rejected")}
    else:
        counts = {"all": row["approved"], "approved": row["approved"]}
    return ok({"counts": counts})


# One interior -----------------------------------------------------------------------------------------


@requires("opt")
async def get_interior(request: Request, user: CurrentUser | None) -> Response:
    row = await find_interior(request.path_params["identifier"], user)
    interior = await interior_detail(str(row["id"]), user)
    response = ok({"interior": interior})
    response.background = BackgroundTask(record_view, str(row["id"]), viewer_key(request, user))
    return response


async def _unique_slug(conn: AsyncConnection[Any], name: str, exclude: str | None = None) -> str:
    base = slugify(name, max_length=120)
    slug = base
    for _ in range(5):
        taken = await fetch_one(
            "SELECT 1 FROM interiors WHERE slug = %s AND id IS DISTINCT FROM %s", (slug, exclude), conn
        )
        if taken is None:
            return slug
        slug = f"{base}-{secrets.token_hex(3)}"
    return f"{base}-{secrets.token_hex(8)}"


async def _insert_images(
    conn: AsyncConnection[Any], interior_id: str, form: StreamedForm, *, start: int, cover: bool
) -> None:
    rows: list[tuple[str, str, bool, int]] = []
    if cover and form.file("cover") is not None:
        rows.append((interior_id, form.file("cover").key, True, 0))  # type: ignore[union-attr]
    for offset, stored in enumerate(form.filelist("images")):
        rows.append((interior_id, stored.key, False, start + offset))
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO interior_images (interior_id, image_src, is_main, position) VALUES (%s, %s, %s, %s)",
                rows,
            )


@requires("designer", "admin")
async def create_interior(request: Request, user: CurrentUser) -> Response:
    body, form = await read_create(request)
    try:
        async with transaction() as conn:
            await check_references(
                conn, category_id=body.category_id, style_id=body.style_id,
                render_platform_id=body.render_platform_id,
            )
            interior_id = await _insert_interior(conn, body, user)
            await _insert_images(conn, interior_id, form, start=1, cover=True)
    except BaseException:
        await form.cleanup()
        raise
    return created({"interior": await interior_detail(interior_id, user)}, "interior_created")


async def _insert_interior(conn: AsyncConnection[Any], body: InteriorCreate, user: CurrentUser) -> str:
    for _ in range(3):
        slug = await _unique_slug(conn, body.name)
        try:
            async with conn.transaction():
                row = await fetch_one(
                    """INSERT INTO interiors (slug, name, description, author_id, category_id, style_id,
                                              render_platform_id)
                       VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                    (slug, body.name, body.description, user.id, body.category_id, body.style_id,
                     as_uuid(body.render_platform_id)),
                    conn,
                )
            assert row is not None
            return str(row["id"])
        except errors.UniqueViolation:
            continue
    raise ApiError("conflict", errors=[FieldError("name", "could not find a free slug")])


@requires("user")
async def update_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    await find_interior(interior_id, user, must_edit=True)  # 404/403 before a form is stored
    body, form = await read_update(request)
    removed_keys: list[str] = []
    try:
        async with transaction() as conn:
            current = await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
            await check_references(
                conn, category_id=body.category_id, style_id=body.style_id,
                render_platform_id=body.render_platform_id,
            )
            sets: dict[str, Any] = {}
            for name in ("name", "description", "category_id", "style_id"):
                value = getattr(body, name)
                if value is not None:
                    sets[name] = value
            if body.render_platform_id is not None:
                sets["render_platform_id"] = as_uuid(body.render_platform_id)
            if body.name is not None and body.name != current["name"]:
                sets["slug"] = await _unique_slug(conn, body.name, exclude=interior_id)
            if sets:
                assignments = ", ".join(f"{k} = %({k})s" for k in sets)
                await conn.execute(
                    f"UPDATE interiors SET {assignments}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
                    {**sets, "id": interior_id},
                )
            removed_keys = await _remove_images(conn, interior_id, body.removed_images)
            if form is not None:
                removed_keys += await _apply_form_images(conn, interior_id, form)
            await _ensure_cover(conn, interior_id)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    for key in removed_keys:
        await _delete_image_quietly(key)
    return ok({"interior": await interior_detail(interior_id, user)}, "updated")


async def _remove_images(conn: AsyncConnection[Any], interior_id: str, ids: list[str]) -> list[str]:
    if not ids:
        return []
    parsed = [as_uuid(v) for v in ids]
    if any(v is None for v in parsed):
        raise ApiError("validation", errors=[FieldError("removed_images", "must be image ids")])
    rows = await fetch_all(
        "DELETE FROM interior_images WHERE interior_id = %s AND id = ANY(%s::uuid[]) RETURNING image_src",
        (interior_id, parsed),
        conn,
    )
    if len(rows) != len(set(parsed)):
        raise ApiError("validation", errors=[FieldError("removed_images", "not images of this interior")])
    return [r["image_src"] for r in rows]


async def _apply_form_images(conn: AsyncConnection[Any], interior_id: str, form: StreamedForm) -> list[str]:
    replaced: list[str] = []
    if form.file("cover") is not None:
        old = await fetch_all(
            "DELETE FROM interior_images WHERE interior_id = %s AND is_main RETURNING image_src", (interior_id,), conn
        )
        replaced = [r["image_src"] for r in old]
    start = await fetch_val(
        "SELECT coalesce(max(position), 0) + 1 FROM interior_images WHERE interior_id = %s", (interior_id,), conn
    )
    await _insert_images(conn, interior_id, form, start=start, cover=True)
    await _check_gallery_size(conn, interior_id)
    return replaced


async def _check_gallery_size(conn: AsyncConnection[Any], interior_id: str) -> None:
    gallery = await fetch_val(
        "SELECT count(*) FROM interior_images WHERE interior_id = %s AND NOT is_main", (interior_id,), conn
    )
    if gallery > MAX_GALLERY:
        raise ApiError("validation", errors=[FieldError("images", f"at most {MAX_GALLERY} images per interior")])


async def _ensure_cover(conn: AsyncConnection[Any], interior_id: str) -> None:
    """Keep exactly one cover while any image remains; an interior never loses its last image."""
    images = await fetch_all(
        "SELECT id, is_main FROM interior_images WHERE interior_id = %s ORDER BY is_main DESC, position, created_at",
        (interior_id,),
        conn,
    )
    if not images:
        raise ApiError("validation", errors=[FieldError("removed_images", "an interior keeps at least one image")])
    if not images[0]["is_main"]:
        await conn.execute("UPDATE interior_images SET is_main = true WHERE id = %s", (images[0]["id"],))


async def _delete_image_quietly(key: str) -> None:
    """After commit, best effort: what fails here the storage sweep finds as an orphan."""
    await delete_image(get_storage(), key)


@requires("user")
async def delete_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    async with transaction() as conn:
        await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
        await conn.execute(
            "UPDATE interiors SET is_deleted = true, deleted_at = now(), updated_at = now() WHERE id = %s",
            (interior_id,),
        )
    return ok(None, "deleted")


# Moderation -----------------------------------------------------------------------------------------------


@requires("admin")
async def set_status(request: Request, admin: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    body = await parse_body(request, StatusBody)
    async with transaction() as conn:
        row = await find_interior(interior_id, admin, conn=conn, lock=True)
        await conn.execute(
            "UPDATE interiors SET status = %s, updated_at = now() WHERE id = %s", (body.status, interior_id)
        )
        kind = STATUS_NOTIFICATION.get(body.status)
        if kind and row["status"] != body.status and row["author_id"] is not None:
            await notify(
                conn, recipient_id=str(row["author_id"]), actor_id=admin.id, type=kind,
                interior_id=interior_id, text=body.reason,
            )
    return ok({"interior": await interior_detail(interior_id, admin)}, "updated")


# Images -------------------------------------------------------------------------------------------------


@requires("user")
async def add_images(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    await find_interior(interior_id, user, must_edit=True)
    if not is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    form = await parse_streamed_form(request, GALLERY_FILES)
    try:
        async with transaction() as conn:
            await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
            start = await fetch_val(
                "SELECT coalesce(max(position), 0) + 1 FROM interior_images WHERE interior_id = %s",
                (interior_id,), conn,
            )
            await _insert_images(conn, interior_id, form, start=start, cover=False)
            await _check_gallery_size(conn, interior_id)
            await _ensure_cover(conn, interior_id)
    except BaseException:
        await form.cleanup()
        raise
    return created({"interior": await interior_detail(interior_id, user)})


@requires("user")
async def delete_image_route(request: Request, user: CurrentUser) -> Response:
    image_id = path_uuid(request, "image_id")
    image = await fetch_one("SELECT interior_id FROM interior_images WHERE id = %s", (image_id,))
    if image is None:
        raise ApiError("not_found")
    interior_id = str(image["interior_id"])
    async with transaction() as conn:
        await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
        keys = await _remove_images(conn, interior_id, [image_id])
        await _ensure_cover(conn, interior_id)
    for key in keys:
        await _delete_image_quietly(key)
    return ok({"interior": await interior_detail(interior_id, user)}, "deleted")


# Likes ---------------------------------------------------------------------------------------------------


@requires("user")
async def like(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_interior(interior_id, user, conn=conn)
        inserted = await fetch_one(
            "INSERT INTO interior_likes (interior_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (interior_id, user.id), conn,
        )
        if inserted and row["author_id"] is not None:
            await notify(
                conn, recipient_id=str(row["author_id"]), actor_id=user.id, type="interior_like",
                interior_id=interior_id,
            )
    count = await fetch_val("SELECT likes_count FROM interiors WHERE id = %s", (interior_id,))
    return ok({"is_liked": True, "likes_count": count}, "liked")


@requires("user")
async def unlike(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    await find_interior(interior_id, user)
    await fetch_all(
        "DELETE FROM interior_likes WHERE interior_id = %s AND user_id = %s RETURNING 1", (interior_id, user.id)
    )
    count = await fetch_val("SELECT likes_count FROM interiors WHERE id = %s", (interior_id,))
    return ok({"is_liked": False, "likes_count": count}, "unliked")


routes = [
    Route("/api/interiors", list_interiors, methods=["GET"]),
    Route("/api/interiors", create_interior, methods=["POST"]),
    Route("/api/interiors/counts", interior_counts, methods=["GET"]),
    Route("/api/interiors/myinteriors", my_interiors, methods=["GET"]),
    Route("/api/myinteriors", my_interiors, methods=["GET"]),
    Route("/api/interiors/status/{id}", set_status, methods=["PUT"]),
    Route("/api/interiors/images/{id}", add_images, methods=["POST"]),
    Route("/api/interiors/images/{image_id}", delete_image_route, methods=["DELETE"]),
    Route("/api/interiors/lk/{id}", like, methods=["POST"]),
    Route("/api/interiors/lk/{id}", unlike, methods=["DELETE"]),
    Route("/api/interiors/{identifier}", get_interior, methods=["GET"]),
    Route("/api/interiors/{id}", update_interior, methods=["PUT"]),
    Route("/api/interiors/{id}", delete_interior, methods=["DELETE"]),
]
app = build_app(routes)
handler = lambda_handler(app)
