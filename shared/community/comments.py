"""Comments on models and interiors: one level of replies, plain sanitised text, likes.

Threading: a reply to a reply is attached to the top-level comment of its thread (the thread stays
one level deep, as the clients draw it) and the author of the comment replied to is notified.

Text: tags are removed with nh3 (script/style content dropped); `<` and `>` stay escaped so the
text is safe even where a client renders it as HTML, while `&` is kept literal so plain-text clients
show what the user typed. Length is checked after sanitising: 1..2048.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import AsyncConnection

from shared.auth.guard import CurrentUser
from shared.db import fetch_all, fetch_one
from shared.domain.interiors import can_see
from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid

MAX_TEXT = 2048
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SOURCES = ("models", "interiors")


def sanitize(text: str) -> str:
    import nh3

    cleaned = nh3.clean(_CONTROL.sub("", text), tags=set()).replace("&amp;", "&").strip()
    if not cleaned:
        raise ApiError("validation", errors=[FieldError("text", "must not be empty")])
    if len(cleaned) > MAX_TEXT:
        raise ApiError("validation", errors=[FieldError("text", f"at most {MAX_TEXT} characters")])
    return cleaned


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
        row = await fetch_one("SELECT id, brand_id FROM models WHERE id = %s AND NOT is_deleted", (uid,), conn)
        if row is not None:
            return {"source": "models", "id": uid, "author_id": None, "brand_id": row["brand_id"]}
    if source in (None, "interiors"):
        row = await fetch_one("SELECT id, author_id, status, is_deleted FROM interiors WHERE id = %s", (uid,), conn)
        if row is not None and can_see(row, user):
            return {"source": "interiors", "id": uid, "author_id": row["author_id"], "brand_id": None}
    raise ApiError("not_found")


_COMMENT = """
SELECT c.id, c.model_id, c.interior_id, c.parent_id, c.user_id, c.text, c.likes_count, c.created_at, c.updated_at
FROM comments c WHERE c.id = %s {lock}
"""


async def find_comment(
    comment_id: str, user: CurrentUser | None, conn: AsyncConnection[Any] | None = None, *, lock: bool = False
) -> dict[str, Any]:
    """A comment whose entity the caller may see (else 404)."""
    row = await fetch_one(_COMMENT.format(lock="FOR UPDATE" if lock else ""), (comment_id,), conn)
    if row is None:
        raise ApiError("not_found")
    source = "models" if row["model_id"] else "interiors"
    row["entity"] = await resolve_entity(str(row["model_id"] or row["interior_id"]), source, user, conn)
    return row


def can_edit(row: dict[str, Any], user: CurrentUser) -> bool:
    return user.is_admin or (row["user_id"] is not None and str(row["user_id"]) == user.id)


_SELECT = """
SELECT c.id, c.parent_id, c.text, c.likes_count, c.created_at, c.updated_at,
       u.id AS u_id, u.username AS u_username, u.full_name AS u_full_name, u.image_src AS u_image_src,
       {liked} AS is_liked
FROM comments c LEFT JOIN profiles u ON u.id = c.user_id
"""


def _select(user: CurrentUser | None) -> tuple[str, list[Any]]:
    if user is None:
        return _SELECT.format(liked="false"), []
    liked = "EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = c.id AND l.user_id = %s)"
    return _SELECT.format(liked=liked), [user.id]


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
    column = "model_id" if entity["source"] == "models" else "interior_id"
    select, params = _select(user)
    total_row = await fetch_one(
        f"SELECT count(*) AS n FROM comments WHERE {column} = %s AND parent_id IS NULL",  # noqa: S608
        (entity["id"],), conn,
    )
    rows = await fetch_all(
        f"{select} WHERE c.{column} = %s AND c.parent_id IS NULL ORDER BY {order_clause} LIMIT %s OFFSET %s",
        [*params, entity["id"], limit, offset],
        conn,
    )
    comments = [comment_object(r) | {"replies": []} for r in rows]
    if comments:
        by_id = {c["id"]: c for c in comments}
        replies = await fetch_all(
            f"{select} WHERE c.parent_id = ANY(%s::uuid[]) ORDER BY c.created_at, c.id",
            [*params, list(by_id)],
            conn,
        )
        for reply in replies:
            by_id[str(reply["parent_id"])]["replies"].append(comment_object(reply))
    return comments, total_row["n"] if total_row else 0


async def one_comment(comment_id: str, user: CurrentUser | None, conn: AsyncConnection[Any]) -> dict[str, Any]:
    select, params = _select(user)
    row = await fetch_one(f"{select} WHERE c.id = %s", [*params, comment_id], conn)
    if row is None:
        raise ApiError("not_found")
    return comment_object(row)
