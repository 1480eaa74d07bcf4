"""Engagement: saved models and interiors (`/api/saved/*`), comments and comment likes (`/api/comments`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.engagement import queries
from functions.engagement.comments import can_edit, find_comment, one_comment, resolve_entity, top_level_page
from functions.engagement.inputs import CommentBody, CommentEdit, SaveInteriorBody, SaveModelBody, sanitize
from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.interiors import card, find_interior, visible_sql
from shared.domain.media import image_object
from shared.domain.notify import notify, notify_brand
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body

# Saved models -------------------------------------------------------------------------------------------


@requires("user")
async def list_saved_models(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "s.created_at"})
    async with connection() as conn:
        total = await fetch_val(queries.SAVED_MODELS_COUNT, (user.id,), conn)
        rows = await fetch_all(queries.SAVED_MODELS_PAGE, (user.id, page.limit, page.offset), conn)
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
    if await fetch_one(queries.LIVE_MODEL, (model_id,)) is None:
        raise ApiError("not_found")
    await fetch_all(queries.SAVE_MODEL, (user.id, model_id))
    count = await fetch_val(queries.MODEL_SAVES_COUNT, (model_id,))
    return ok({"is_saved": True, "saves_count": count}, "saved")


@requires("user")
async def unsave_model(request: Request, user: CurrentUser) -> Response:
    model_id = path_uuid(request, "model_id")
    await fetch_all(queries.UNSAVE_MODEL, (user.id, model_id))
    count = await fetch_val(queries.MODEL_SAVES_COUNT, (model_id,))
    if count is None:
        raise ApiError("not_found")
    return ok({"is_saved": False, "saves_count": count}, "unsaved")


# Saved interiors -----------------------------------------------------------------------------------------


@requires("user")
async def list_saved_interiors(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "s.created_at"})
    visible, params = visible_sql(user)
    async with connection() as conn:
        total = await fetch_val(queries.saved_interiors_count_sql(visible), [*params, user.id], conn)
        rows = await fetch_all(
            queries.saved_interiors_page_sql(visible), [*params, user.id, page.limit, page.offset], conn
        )
    interiors = [card(r) | {"saved_at": r["saved_at"]} for r in rows]
    return ok({"interiors": interiors, "pagination": pagination(page, total)})


@requires("user")
async def save_interior(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, SaveInteriorBody)
    interior_id = field_uuid(body.interior_id, "interior_id")
    await find_interior(interior_id, user)
    await fetch_all(queries.SAVE_INTERIOR, (user.id, interior_id))
    count = await fetch_val(queries.INTERIOR_SAVES_COUNT, (interior_id,))
    return ok({"is_saved": True, "saves_count": count}, "saved")


@requires("user")
async def unsave_interior(request: Request, user: CurrentUser) -> Response:
    interior_id = path_uuid(request, "interior_id")
    await fetch_all(queries.UNSAVE_INTERIOR, (user.id, interior_id))
    count = await fetch_val(queries.INTERIOR_SAVES_COUNT, (interior_id,))
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
            parent = await fetch_one(queries.PARENT_COMMENT, (field_uuid(body.parent_id, "parent_id"),), conn)
            if parent is None or str(parent["model_id"] or parent["interior_id"]) != entity["id"]:
                raise ApiError("validation", errors=[FieldError("parent_id", "not a comment on this entity")])
            parent_id = str(parent["parent_id"] or parent["id"])  # replies to replies join the thread's root
            replied_to = parent["user_id"]
        column = "model_id" if entity["source"] == "models" else "interior_id"
        row = await fetch_one(queries.insert_comment_sql(column), (entity["id"], parent_id, user.id, text), conn)
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
        await conn.execute(queries.UPDATE_COMMENT_TEXT, (text, comment_id))
        comment = await one_comment(comment_id, user, conn)
    return ok({"comment": comment}, "updated")


@requires("user")
async def delete_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_comment(comment_id, user, conn, lock=True)
        if not can_edit(row, user):
            raise ApiError("access_denied")
        await conn.execute(queries.DELETE_COMMENT, (comment_id,))
    return ok(None, "deleted")


@requires("user")
async def like_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    async with transaction() as conn:
        row = await find_comment(comment_id, user, conn)
        inserted = await fetch_one(queries.LIKE_COMMENT, (comment_id, user.id), conn)
        if inserted and row["user_id"] is not None:
            entity = row["entity"]
            column = "model_id" if entity["source"] == "models" else "interior_id"
            await notify(
                conn, recipient_id=str(row["user_id"]), actor_id=user.id, type="comment_like",
                comment_id=comment_id, **{column: entity["id"]},
            )
    count = await fetch_val(queries.COMMENT_LIKES_COUNT, (comment_id,))
    return ok({"is_liked": True, "likes_count": count}, "liked")


@requires("user")
async def unlike_comment(request: Request, user: CurrentUser) -> Response:
    comment_id = path_uuid(request)
    await find_comment(comment_id, user)
    await fetch_all(queries.UNLIKE_COMMENT, (comment_id, user.id))
    count = await fetch_val(queries.COMMENT_LIKES_COUNT, (comment_id,))
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
