"""Comments on models and interiors: one level of replies, plain sanitised text, likes.

Threading: a reply to a reply is attached to the top-level comment of its thread (the thread stays
one level deep, as the clients draw it) and the author of the comment replied to is notified.
Text is cleaned by `functions.engagement.inputs.sanitize`.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from functions.engagement import queries
from shared.auth.guard import CurrentUser
from shared.db import fetch_all, fetch_one
from shared.domain.interiors import can_see
from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid

SOURCES = ("models", "interiors")


async def resolve_entity(
    entity_id: str, source: str | None, user: CurrentUser | None, conn: AsyncConnection[Any] | None = None
) -> dict[str, Any]:
    """`{source, id, author_id, brand_id}` of a model or interior the caller may see; 404 otherwise."""
    uid = as_uuid(entity_id)
    if uid is None:
        raise ApiError("validation", errors=[FieldError("entity_id", "must be a UUID")])
    if source is not None and source not in SOURCES:
        raise ApiError("validation", errors=[FieldError("entity_source", "must be models or interiors")])
    if source in (None, "models"):
        row = await fetch_one(queries.ENTITY_MODEL, (uid,), conn)
        if row is not None:
            return {"source": "models", "id": uid, "author_id": None, "brand_id": row["brand_id"]}
    if source in (None, "interiors"):
        row = await fetch_one(queries.ENTITY_INTERIOR, (uid,), conn)
        if row is not None and can_see(row, user):
            return {"source": "interiors", "id": uid, "author_id": row["author_id"], "brand_id": None}
    raise ApiError("not_found")


async def find_comment(
    comment_id: str, user: CurrentUser | None, conn: AsyncConnection[Any] | None = None, *, lock: bool = False
) -> dict[str, Any]:
    """A comment whose entity the caller may see (else 404)."""
    row = await fetch_one(queries.comment_sql(lock=lock), (comment_id,), conn)
    if row is None:
        raise ApiError("not_found")
    source = "models" if row["model_id"] else "interiors"
    row["entity"] = await resolve_entity(str(row["model_id"] or row["interior_id"]), source, user, conn)
    return row


def can_edit(row: dict[str, Any], user: CurrentUser) -> bool:
    return user.is_admin or (row["user_id"] is not None and str(row["user_id"]) == user.id)


def comment_object(row: dict[str, Any]) -> dict[str, Any]:
    user = None
    if row["u_id"] is not None:
        user = {"id": str(row["u_id"]), "username": row["u_username"], "full_name": row["u_full_name"],
                "image_src": row["u_image_src"]}
    return {
        "id": str(row["id"]),
        "parent_id": str(row["parent_id"]) if row["parent_id"] else None,
        "text": row["text"],
        "user": user,
        "likes_count": row["likes_count"],
        "is_liked": bool(row["is_liked"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def top_level_page(
    entity: dict[str, Any], user: CurrentUser | None, order_clause: str, limit: int, offset: int,
    conn: AsyncConnection[Any],
) -> tuple[list[dict[str, Any]], int]:
    """A page of the entity's top-level comments, each with all its replies, and their total."""
    column = "model_id" if entity["source"] == "models" else "interior_id"
    select, params = queries.comment_select(user.id if user is not None else None)
    total_row = await fetch_one(queries.top_level_count_sql(column), (entity["id"],), conn)
    rows = await fetch_all(
        queries.top_level_page_sql(select, column, order_clause), [*params, entity["id"], limit, offset], conn
    )
    comments = [comment_object(r) | {"replies": []} for r in rows]
    if comments:
        by_id = {c["id"]: c for c in comments}
        replies = await fetch_all(queries.replies_sql(select), [*params, list(by_id)], conn)
        for reply in replies:
            by_id[str(reply["parent_id"])]["replies"].append(comment_object(reply))
    return comments, total_row["n"] if total_row else 0


async def one_comment(comment_id: str, user: CurrentUser | None, conn: AsyncConnection[Any]) -> dict[str, Any]:
    select, params = queries.comment_select(user.id if user is not None else None)
    row = await fetch_one(queries.one_comment_sql(select), [*params, comment_id], conn)
    if row is None:
        raise ApiError("not_found")
    return comment_object(row)
