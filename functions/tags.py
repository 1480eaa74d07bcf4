"""`/api/tags`: model pins on interior images (x, y in percent), by the interior's author or an admin."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import CARD_COLUMNS, CARD_JOINS, PUBLIC, card, find_interior
from shared.domain.notify import notify_brand
from shared.domain.tags import tag_object, tags_of_interior
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body

Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class TagBody(msgspec.Struct, forbid_unknown_fields=False):
    model_id: str
    interior_id: str
    interior_image_id: str
    x: Percent
    y: Percent


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@requires("admin")
async def list_tags(request: Request, admin: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "t.created_at"})
    where, params = ["TRUE"], []
    q = request.query_params
    if value := (q.get("user_name") or "").strip():
        where.append("(a.full_name ILIKE %s OR a.username ILIKE %s)")
        params += [_like(value), _like(value)]
    if value := (q.get("model_name") or "").strip():
        where.append("m.name ILIKE %s")
        params.append(_like(value))
    if value := (q.get("interior_name") or "").strip():
        where.append("i.name ILIKE %s")
        params.append(_like(value))
    condition = " AND ".join(where)
    base = (
        "FROM interior_tags t JOIN interiors i ON i.id = t.interior_id AND NOT i.is_deleted"
        " JOIN models m ON m.id = t.model_id LEFT JOIN profiles a ON a.id = i.author_id"
        " LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main LEFT JOIN brands b ON b.id = m.brand_id"
        f" WHERE {condition}"
    )
    async with connection() as conn:
        total = await fetch_val(f"SELECT count(*) {base}", params, conn)  # noqa: S608
        rows = await fetch_all(
            "SELECT t.id, t.x, t.y, t.interior_image_id, t.created_at, m.id AS m_id, m.name AS m_name,"  # noqa: S608
            " m.slug AS m_slug, mc.image_src AS m_cover, b.id AS b_id, b.name AS b_name, b.slug AS b_slug,"
            " i.id AS i_id, i.name AS i_name, i.slug AS i_slug, i.status AS i_status,"
            f" a.id AS a_id, a.username AS a_username, a.full_name AS a_full_name {base}"
            f" ORDER BY {page.order_clause('t.id')} LIMIT %s OFFSET %s",
            [*params, page.limit, page.offset],
            conn,
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
    condition = f"{PUBLIC} AND i.id IN (SELECT interior_id FROM interior_tags WHERE model_id = %s)"  # noqa: S608
    async with connection() as conn:
        if await fetch_one("SELECT 1 FROM models WHERE id = %s AND NOT is_deleted", (model_id,), conn) is None:
            raise ApiError("not_found")
        total = await fetch_val(f"SELECT count(*) FROM interiors i WHERE {condition}", (model_id,), conn)  # noqa: S608
        rows = await fetch_all(
            f"SELECT {CARD_COLUMNS} FROM interiors i {CARD_JOINS} WHERE {condition}"  # noqa: S608
            f" ORDER BY {page.order_clause('i.id')} LIMIT %s OFFSET %s",
            (model_id, page.limit, page.offset),
            conn,
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
        model = await fetch_one("SELECT brand_id FROM models WHERE id = %s AND NOT is_deleted", (model_id,), conn)
        if model is None:
            raise ApiError("validation", errors=[FieldError("model_id", "no such model")])
        image = await fetch_one(
            "SELECT 1 FROM interior_images WHERE id = %s AND interior_id = %s", (image_id, interior_id), conn
        )
        if image is None:
            raise ApiError("validation", errors=[FieldError("interior_image_id", "not an image of this interior")])
        row = await fetch_one(
            """INSERT INTO interior_tags (interior_id, interior_image_id, model_id, user_id, x, y)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
            (interior_id, image_id, model_id, user.id, body.x, body.y),
            conn,
        )
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
        tag = await fetch_one("SELECT interior_id FROM interior_tags WHERE id = %s", (tag_id,), conn)
        if tag is None:
            raise ApiError("not_found")
        await find_interior(str(tag["interior_id"]), user, conn=conn, lock=True, must_edit=True)
        await conn.execute("DELETE FROM interior_tags WHERE id = %s", (tag_id,))
    return ok(None, "deleted")


routes = [
    Route("/api/tags", list_tags, methods=["GET"]),
    Route("/api/tags", create_tag, methods=["POST"]),
    Route("/api/tags/model/{model_id}/interiors", model_interiors, methods=["GET"]),
    Route("/api/tags/{interior_id}", interior_tags, methods=["GET"]),
    Route("/api/tags/{id}", delete_tag, methods=["DELETE"]),
]
app = build_app(routes)
handler = lambda_handler(app)
