"""`/api/tags`: model pins on interior images (x, y in percent), by the interior's author or an admin."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.tags import queries
from functions.tags.inputs import TagBody, tag_filters
from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import card, find_interior
from shared.domain.notify import notify_brand
from shared.domain.tags import tag_object, tags_of_interior
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body


@requires("admin")
async def list_tags(request: Request, admin: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "t.created_at"})
    condition, params = queries.tags_where(tag_filters(request.query_params))
    async with connection() as conn:
        total = await fetch_val(queries.tags_count_sql(condition), params, conn)
        rows = await fetch_all(
            queries.tags_page_sql(condition, page.order_clause("t.id")), [*params, page.limit, page.offset], conn
        )
    tags = []
    for row in rows:
        tag = tag_object(row)
        tag["interior"] = {"id": str(row["i_id"]), "name": row["i_name"], "slug": row["i_slug"],
                           "status": row["i_status"]}
        tag["user"] = (
            {"id": str(row["a_id"]), "username": row["a_username"], "full_name": row["a_full_name"]}
            if row["a_id"] else None
        )
        tags.append(tag)
    return ok({"tags": tags, "pagination": pagination(page, total)})


@requires("opt")
async def interior_tags(request: Request, user: CurrentUser | None) -> Response:
    interior = await find_interior(request.path_params["interior_id"], user)
    return ok({"tags": await tags_of_interior(str(interior["id"]))})


@requires("pub")
async def model_interiors(request: Request, _: None) -> Response:
    model_id = path_uuid(request, "model_id")
    page = page_request(request, {"created_at": "i.created_at"})
    async with connection() as conn:
        if await fetch_one(queries.LIVE_MODEL, (model_id,), conn) is None:
            raise ApiError("not_found")
        total = await fetch_val(queries.MODEL_INTERIORS_COUNT, (model_id,), conn)
        rows = await fetch_all(
            queries.model_interiors_page_sql(page.order_clause("i.id")), (model_id, page.limit, page.offset), conn
        )
    return ok({"interiors": [card(r) for r in rows], "pagination": pagination(page, total)})


@requires("user")
async def create_tag(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, TagBody)
    interior_id = field_uuid(body.interior_id, "interior_id")
    model_id = field_uuid(body.model_id, "model_id")
    image_id = field_uuid(body.interior_image_id, "interior_image_id")
    async with transaction() as conn:
        interior = await find_interior(interior_id, user, conn=conn, lock=True, must_edit=True)
        model = await fetch_one(queries.LIVE_MODEL_BRAND, (model_id,), conn)
        if model is None:
            raise ApiError("validation", errors=[FieldError("model_id", "no such model")])
        image = await fetch_one(queries.IMAGE_OF_INTERIOR, (image_id, interior_id), conn)
        if image is None:
            raise ApiError("validation", errors=[FieldError("interior_image_id", "not an image of this interior")])
        row = await fetch_one(queries.INSERT_TAG, (interior_id, image_id, model_id, user.id, body.x, body.y), conn)
        assert row is not None
        if interior["status"] == 1:  # a pending interior is not shown to the brand yet
            await notify_brand(
                conn, brand_id=str(model["brand_id"]) if model["brand_id"] else None, actor_id=user.id,
                type="tag", model_id=model_id, interior_id=interior_id,
            )
        tags = await tags_of_interior(interior_id, conn)
    tag = next((t for t in tags if t["id"] == str(row["id"])), None)
    return created({"tag": tag}, "tag_created")


@requires("user")
async def delete_tag(request: Request, user: CurrentUser) -> Response:
    tag_id = path_uuid(request)
    async with transaction() as conn:
        tag = await fetch_one(queries.TAG_INTERIOR, (tag_id,), conn)
        if tag is None:
            raise ApiError("not_found")
        await find_interior(str(tag["interior_id"]), user, conn=conn, lock=True, must_edit=True)
        await conn.execute(queries.DELETE_TAG, (tag_id,))
    return ok(None, "deleted")


routes = [
    Route("/api/tags", list_tags, methods=["GET"]),
    Route("/api/tags", create_tag, methods=["POST"]),
    Route("/api/tags/model/{model_id}/interiors", model_interiors, methods=["GET"]),
    Route("/api/tags/{interior_id}", interior_tags, methods=["GET"]),
    Route("/api/tags/{id}", delete_tag, methods=["DELETE"]),
]
