"""Engagement: saved models and interiors (`/api/saved/*`), comments and comment likes (`/api/comments`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.community.comments import (
    can_edit,
    find_comment,
    one_comment,
    resolve_entity,
    sanitize,
    top_level_page,
)
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import CARD_COLUMNS, CARD_JOINS, card, find_interior, visible_sql
from shared.domain.media import image_object
from shared.domain.notify import notify, notify_brand
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body

RawText = Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]


class SaveModelBody(msgspec.Struct, forbid_unknown_fields=False):
    model_id: str


class SaveInteriorBody(msgspec.Struct, forbid_unknown_fields=False):
    interior_id: str


class CommentBody(msgspec.Struct, forbid_unknown_fields=False):
    entity_id: str
    text: RawText
    entity_source: str | None = None
    parent_id: str | None = None


class CommentEdit(msgspec.Struct, forbid_unknown_fields=False):
    text: RawText


# Saved models -------------------------------------------------------------------------------------------

_SAVED_MODELS = """
SELECT m.id, m.slug, m.name, m.brand_id, b.name AS brand_name, b.slug AS brand_slug, mc.image_src AS cover_src,
       m.saves_count, s.created_at AS saved_at
FROM saved_models s
JOIN models m ON m.id = s.model_id AND NOT m.is_deleted
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main
WHERE s.user_id = %s
ORDER BY s.created_at DESC, s.model_id DESC
LIMIT %s OFFSET %s
"""


@requires("user")
async def list_saved_models(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "s.created_at"})
    async with connection() as conn:
        total = await fetch_val(
            "SELECT count(*) FROM saved_models s JOIN models m ON m.id = s.model_id AND NOT m.is_deleted"
            " WHERE s.user_id = %s", (user.id,), conn,
        )
        rows = await fetch_all(_SAVED_MODELS, (user.id, page.limit, page.offset), conn)
    models = []
    for r in rows:
        cover = image_object(r["cover_src"])
        models.append({
            "id": str(r["id"]), "slug": r["slug"], "name": r["name"], "cover": [cover] if cover else [],
            "brand": {"id": str(r["brand_id"]), "name": r["brand_name"], "slug": r["brand_slug"]}
            if r["brand_id"] else None,
            "saves_count": r["saves_count"], "saved_at": r["saved_at"],
        })
    return ok({"models": models, "pagination": pagination(page, total)})


@requires("user")
async def save_model(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, SaveModelBody)
    model_id = field_uuid(body.model_id, "model_id")
    if await fetch_one("SELECT 1 FROM models WHERE id = %s AND NOT is_deleted", (model_id,)) is None:
        raise ApiError("not_found")
    await fetch_all(
        "INSERT INTO saved_models (user_id, model_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (user.id, model_id),
    )
    count = await fetch_val("SELECT saves_count FROM models WHERE id = %s", (model_id,))
    return ok({"is_saved": True, "saves_count": count}, "saved")


@requires("user")
async def unsave_model(request: Request, user: CurrentUser) -> Response:
    model_id = path_uuid(request, "model_id")
    await fetch_all(
        "DELETE FROM saved_models WHERE user_id = %s AND model_id = %s RETURNING 1", (user.id, model_id)
    )
    count = await fetch_val("SELECT saves_count FROM models WHERE id = %s", (model_id,))
    if count is None:
        raise ApiError("not_found")
    return ok({"is_saved": False, "saves_count": count}, "unsaved")


# Saved interiors -----------------------------------------------------------------------------------------


@requires("user")
async def list_saved_interiors(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "s.created_at"})
    visible, params = visible_sql(user)
    base = f"FROM saved_interiors s JOIN interiors i ON i.id = s.interior_id AND {visible} WHERE s.user_id = %s"
    async with connection() as conn:
        total = await fetch_val(f"SELECT count(*) {base}", [*params, user.id], conn)  # noqa: S608
        rows = await fetch_all(
            f"SELECT {CARD_COLUMNS}, s.created_at AS saved_at FROM saved_interiors s"  # noqa: S608
            f" JOIN interiors i ON i.id = s.interior_id AND {visible} {CARD_JOINS}"
            " WHERE s.user_id = %s ORDER BY s.created_at DESC, s.interior_id DESC LIMIT %s OFFSET %s",
            [*params, user.id, page.limit, page.offset],
            conn,
        )
    interiors = [card(r) | {"saved_at": r["saved_at"]} for r in rows]
    return ok({"interiors": interiors, "pagination": pagination(page, total)})


@requires("user")
async def save_interior(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, SaveInteriorBody)
    interior_id = field_uuid(body.interior_id, "interior_id")
    await find_interior(interior_id, user)
    await fetch_all(
        "INSERT INTO saved_interiors (user_id, interior_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (user.id, interior_id),
    )
    count = await fetch_val("SELECT saves_count FROM interiors WHERE id = %s", (interior_id,))
    return ok({"is_saved": True, "saves_count": count}, "saved")


@requires("user")
async def unsave_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request, "interior_id")
    await fetch_all(
        "DELETE FROM saved_interiors WHERE user_id = %s AND interior_id = %s RETURNING 1", (user.id, interior_id)
    )
    count = await fetch_val("SELECT saves_count FROM interiors WHERE id = %s", (interior_id,))
    if count is None:
        raise ApiError("not_found")
    return ok({"is_saved": False, "saves_count": count}, "unsaved")


# Comments ------------------------------------------------------------------------------------------------


@requires("opt")
async def list_comments(request: Request, user: CurrentUser | None) -> Response:
    entity_id = request.query_params.get("entity_id")
    if not entity_id:
        raise ApiError("validation", errors=[FieldError("entity_id", "field_required")])
    page = page_request(request, {"created_at": "c.created_at", "likes": "c.likes_count"})
    async with connection() as conn:
        entity = await resolve_entity(entity_id, request.query_params.get("entity_source") or None, user, conn)
        comments, total = await top_level_page(
            entity, user, page.order_clause("c.id"), page.limit, page.offset, conn
        )
    return ok({"comments": comments, "pagination": pagination(page, total)})


@requires("user")
async def create_comment(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, CommentBody)
    text = sanitize(body.text)
    async with transaction() as conn:
        entity = await resolve_entity(body.entity_id, body.entity_source, user, conn)
        parent_id = None
        replied_to = None
        if body.parent_id:
            parent = await fetch_one(
                "SELECT id, parent_id, user_id, model_id, interior_id FROM comments WHERE id = %s",
                (field_uuid(body.parent_id, "parent_id"),), conn,
            )
            if parent is None or str(parent["model_id"] or parent["interior_id"]) != entity["id"]:
                raise ApiError("validation", errors=[FieldError("parent_id", "not a comment on this entity")])
            parent_id = str(parent["parent_id"] or parent["id"])  # replies to replies join the thread's root
            replied_to = parent["user_id"]
        column = "model_id" if entity["source"] == "models" else "interior_id"
        row = await fetch_one(
            f"INSERT INTO comments ({column}, parent_id, user_id, text) VALUES (%s, %s, %s, %s) RETURNING id",  # noqa: S608
            (entity["id"], parent_id, user.id, text), conn,
        )
        assert row is not None
        comment_id = str(row["id"])
        link = {column: entity["id"], "comment_id": comment_id}
        if replied_to is not None:
            await notify(conn, recipient_id=str(replied_to), actor_id=user.id, type="reply", **link)
        if entity["author_id"] is not None and entity["author_id"] != replied_to:
            await notify(conn, recipient_id=str(entity["author_id"]), actor_id=user.id, type="comment", **link)
        elif entity["source"] == "models":
            await notify_brand(
                conn, brand_id=str(entity["brand_id"]) if entity["brand_id"] else None, actor_id=user.id,
                type="comment", **link,
            )
        comment = await one_comment(comment_id, user, conn)
    return created({"comment": comment | {"replies": []}}, "comment_created")


@requires("user")
async def edit_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    body = await parse_body(request, CommentEdit)
    text = sanitize(body.text)
    async with transaction() as conn:
        row = await find_comment(comment_id, user, conn, lock=True)
        if not can_edit(row, user):
            raise ApiError("access_denied")
        await conn.execute("UPDATE comments SET text = %s, updated_at = now() WHERE id = %s", (text, comment_id))
        comment = await one_comment(comment_id, user, conn)
    return ok({"comment": comment}, "updated")


@requires("user")
async def delete_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_comment(comment_id, user, conn, lock=True)
        if not can_edit(row, user):
            raise ApiError("access_denied")
        await conn.execute("DELETE FROM comments WHERE id = %s", (comment_id,))
    return ok(None, "deleted")


@requires("user")
async def like_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_comment(comment_id, user, conn)
        inserted = await fetch_one(
            "INSERT INTO comment_likes (comment_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (comment_id, user.id), conn,
        )
        if inserted and row["user_id"] is not None:
            entity = row["entity"]
            column = "model_id" if entity["source"] == "models" else "interior_id"
            await notify(
                conn, recipient_id=str(row["user_id"]), actor_id=user.id, type="comment_like",
                comment_id=comment_id, **{column: entity["id"]},
            )
    count = await fetch_val("SELECT likes_count FROM comments WHERE id = %s", (comment_id,))
    return ok({"is_liked": True, "likes_count": count}, "liked")


@requires("user")
async def unlike_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    await find_comment(comment_id, user)
    await fetch_all(
        "DELETE FROM comment_likes WHERE comment_id = %s AND user_id = %s RETURNING 1", (comment_id, user.id)
    )
    count = await fetch_val("SELECT likes_count FROM comments WHERE id = %s", (comment_id,))
    return ok({"is_liked": False, "likes_count": count}, "unliked")


routes = [
    Route("/api/saved/models", list_saved_models, methods=["GET"]),
    Route("/api/saved/models", save_model, methods=["POST"]),
    Route("/api/saved/models/{model_id}", unsave_model, methods=["DELETE"]),
    Route("/api/saved/interiors", list_saved_interiors, methods=["GET"]),
    Route("/api/saved/interiors", save_interior, methods=["POST"]),
    Route("/api/saved/interiors/{interior_id}", unsave_interior, methods=["DELETE"]),
    Route("/api/comments", list_comments, methods=["GET"]),
    Route("/api/comments", create_comment, methods=["POST"]),
    Route("/api/comments/{id}/like", like_comment, methods=["POST"]),
    Route("/api/comments/{id}/like", unlike_comment, methods=["DELETE"]),
    Route("/api/comments/{id}", edit_comment, methods=["PUT"]),
    Route("/api/comments/{id}", delete_comment, methods=["DELETE"]),
]
app = build_app(routes)
handler = lambda_handler(app)
