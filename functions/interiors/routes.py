"""`/api/interiors` (and `/api/myinteriors`): designers' interiors, moderation, images, likes, views."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.interiors import queries, writes
from functions.interiors.inputs import (
    CREATE_FILES,
    GALLERY_FILES,
    UPDATE_FILES,
    InteriorCreate,
    InteriorUpdate,
    StatusBody,
    create_body,
    list_filters,
    update_body,
)
from functions.interiors.views import record_view, viewer_key
from shared.auth.guard import CurrentUser, requires
from shared.db import fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import find_interior, interior_detail
from shared.domain.notify import notify
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.forms import StreamedForm, parse_streamed_form
from shared.http.ids import path_uuid
from shared.http.pagination import page_request
from shared.http.validation import parse_body

STATUS_NOTIFICATION = {1: "interior_approved", 2: "interior_rejected"}


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def _read_create(request: Request) -> tuple[InteriorCreate, StreamedForm]:
    if not _is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    form = await parse_streamed_form(request, CREATE_FILES)
    try:
        body = create_body(form)
    except BaseException:
        await form.cleanup()
        raise
    return body, form


async def _read_update(request: Request) -> tuple[InteriorUpdate, StreamedForm | None]:
    if not _is_multipart(request):
        return await parse_body(request, InteriorUpdate), None
    form = await parse_streamed_form(request, UPDATE_FILES)
    try:
        body = update_body(form)
    except BaseException:
        await form.cleanup()
        raise
    return body, form


# Lists ------------------------------------------------------------------------------------------------


@requires("opt")
async def list_interiors(request: Request, user: CurrentUser | None) -> Response:
    where, params = queries.list_where(list_filters(request.query_params), user)
    interiors, page = await queries.interiors_page(page_request(request, queries.ORDER_COLUMNS), where, params)
    return ok({"interiors": interiors, "pagination": page})


@requires("user")
async def my_interiors(request: Request, user: CurrentUser) -> Response:
    where, params = queries.list_where(list_filters(request.query_params), user, own=True)
    interiors, page = await queries.interiors_page(page_request(request, queries.ORDER_COLUMNS), where, params)
    return ok({"interiors": interiors, "pagination": page})


@requires("opt")
async def interior_counts(request: Request, user: CurrentUser | None) -> Response:
    admin = user is not None and user.is_admin
    row = await fetch_one(queries.COUNTS_BY_STATUS if admin else queries.APPROVED_COUNT)
    assert row is not None
    if admin:
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
    viewer = viewer_key(
        user,
        peer=request.client.host if request.client else "",
        forwarded_for=request.headers.get("x-forwarded-for", ""),
        user_agent=request.headers.get("user-agent", ""),
    )
    response.background = BackgroundTask(record_view, str(row["id"]), viewer)
    return response


@requires("designer", "admin")
async def create_interior(request: Request, user: CurrentUser) -> Response:
    body, form = await _read_create(request)
    try:
        async with transaction() as conn:
            await writes.check_references(
                conn, category_id=body.category_id, style_id=body.style_id,
                render_platform_id=body.render_platform_id,
            )
            interior_id = await writes.insert_interior(conn, body, user)
            await writes.insert_images(conn, interior_id, form, start=1, cover=True)
    except BaseException:
        await form.cleanup()
        raise
    return created({"interior": await interior_detail(interior_id, user)}, "interior_created")


@requires("user")
async def update_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    await find_interior(interior_id, user, must_edit=True)  # 404/403 before a form is stored
    body, form = await _read_update(request)
    removed_keys: list[str] = []
    try:
        async with transaction() as conn:
            current = await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
            await writes.check_references(
                conn, category_id=body.category_id, style_id=body.style_id,
                render_platform_id=body.render_platform_id,
            )
            await writes.update_fields(conn, interior_id, current, body)
            removed_keys = await writes.remove_images(conn, interior_id, body.removed_images)
            if form is not None:
                removed_keys += await writes.apply_form_images(conn, interior_id, form)
            await writes.ensure_cover(conn, interior_id)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    for key in removed_keys:
        await writes.delete_image_quietly(key)
    return ok({"interior": await interior_detail(interior_id, user)}, "updated")


@requires("user")
async def delete_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    async with transaction() as conn:
        await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
        await conn.execute(queries.SOFT_DELETE, (interior_id,))
    return ok(None, "deleted")


# Moderation -----------------------------------------------------------------------------------------------


@requires("admin")
async def set_status(request: Request, admin: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    body = await parse_body(request, StatusBody)
    async with transaction() as conn:
        row = await find_interior(interior_id, admin, conn=conn, lock=True)
        await conn.execute(queries.SET_STATUS, (body.status, interior_id))
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
    if not _is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    form = await parse_streamed_form(request, GALLERY_FILES)
    try:
        async with transaction() as conn:
            await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
            start = await writes.next_image_position(conn, interior_id)
            await writes.insert_images(conn, interior_id, form, start=start, cover=False)
            await writes.check_gallery_size(conn, interior_id)
            await writes.ensure_cover(conn, interior_id)
    except BaseException:
        await form.cleanup()
        raise
    return created({"interior": await interior_detail(interior_id, user)})


@requires("user")
async def delete_image_route(request: Request, user: CurrentUser) -> Response:
    image_id = path_uuid(request, "image_id")
    image = await fetch_one(queries.IMAGE_INTERIOR, (image_id,))
    if image is None:
        raise ApiError("not_found")
    interior_id = str(image["interior_id"])
    async with transaction() as conn:
        await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
        keys = await writes.remove_images(conn, interior_id, [image_id])
        await writes.ensure_cover(conn, interior_id)
    for key in keys:
        await writes.delete_image_quietly(key)
    return ok({"interior": await interior_detail(interior_id, user)}, "deleted")


# Likes ---------------------------------------------------------------------------------------------------


@requires("user")
async def like(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_interior(interior_id, user, conn=conn)
        inserted = await fetch_one(queries.INSERT_LIKE, (interior_id, user.id), conn)
        if inserted and row["author_id"] is not None:
            await notify(
                conn, recipient_id=str(row["author_id"]), actor_id=user.id, type="interior_like",
                interior_id=interior_id,
            )
    count = await fetch_val(queries.LIKES_COUNT, (interior_id,))
    return ok({"is_liked": True, "likes_count": count}, "liked")


@requires("user")
async def unlike(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request)
    await find_interior(interior_id, user)
    await fetch_all(queries.DELETE_LIKE, (interior_id, user.id))
    count = await fetch_val(queries.LIKES_COUNT, (interior_id,))
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
