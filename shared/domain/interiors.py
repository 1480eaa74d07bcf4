"""Interior queries every community route shares: who may see one, and the card shape lists use.

Visibility is one rule in one place: the public sees approved, live interiors; the author also sees
their own in any status; admins see every live one. Routes that can reveal an interior (lists,
detail, counts, tags, comments, saved, `used_interiors`, statistics) build their WHERE from here.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from shared.auth.guard import CurrentUser
from shared.db import connection, fetch_all, fetch_one
from shared.domain.media import image_object
from shared.domain.tags import tags_of_interior
from shared.http.errors import ApiError
from shared.http.ids import as_uuid

PUBLIC = "i.status = 1 AND NOT i.is_deleted"


def visible_sql(user: CurrentUser | None, alias: str = "i") -> tuple[str, list[Any]]:
    """WHERE fragment (and its params) for interiors this caller may see."""
    if user is not None and user.is_admin:
        return f"NOT {alias}.is_deleted", []
    if user is not None:
        return f"NOT {alias}.is_deleted AND ({alias}.status = 1 OR {alias}.author_id = %s)", [user.id]
    return f"{alias}.status = 1 AND NOT {alias}.is_deleted", []


def can_see(row: dict[str, Any], user: CurrentUser | None) -> bool:
    if row["is_deleted"]:
        return False
    if row["status"] == 1:
        return True
    return user is not None and (user.is_admin or str(row["author_id"]) == user.id)


def can_edit(row: dict[str, Any], user: CurrentUser) -> bool:
    return user.is_admin or (row["author_id"] is not None and str(row["author_id"]) == user.id)


_FIND = """
SELECT id, slug, name, author_id, status, is_deleted, category_id, style_id, render_platform_id
FROM interiors WHERE {column} = %s {lock}
"""


async def find_interior(
    identifier: str,
    user: CurrentUser | None,
    *,
    conn: AsyncConnection[Any] | None = None,
    lock: bool = False,
    must_edit: bool = False,
) -> dict[str, Any]:
    """The interior by id or slug if the caller may see it (else 404); 403 if `must_edit` and not theirs."""
    uid = as_uuid(identifier)
    column = "id" if uid else "slug"
    sql = _FIND.format(column=column, lock="FOR UPDATE" if lock else "")
    row = await fetch_one(sql, (uid or identifier,), conn)
    if row is None or not can_see(row, user):
        raise ApiError("not_found")
    if must_edit and (user is None or not can_edit(row, user)):
        raise ApiError("access_denied")
    return row


CARD_COLUMNS = """
i.id, i.slug, i.name, i.status, i.views_count, i.likes_count, i.saves_count, i.created_at,
i.category_id, i.style_id, i.render_platform_id,
cov.image_src AS cover_src, a.id AS a_id, a.username AS a_username, a.full_name AS a_full_name,
a.image_src AS a_image_src
"""
CARD_JOINS = """
LEFT JOIN profiles a ON a.id = i.author_id
LEFT JOIN interior_images cov ON cov.interior_id = i.id AND cov.is_main
"""


def author_object(row: dict[str, Any], prefix: str = "a_") -> dict[str, Any] | None:
    if row.get(f"{prefix}id") is None:
        return None
    image = row.get(f"{prefix}image_src")
    return {
        "id": str(row[f"{prefix}id"]),
        "username": row[f"{prefix}username"],
        "full_name": row[f"{prefix}full_name"],
        "image_src": image,
        "image_url": image_object(image)["url"] if image else None,
    }


def card(row: dict[str, Any]) -> dict[str, Any]:
    """The interior as lists show it: cover as an array of image objects, author, counters."""
    cover = image_object(row.get("cover_src"))
    return {
        "id": str(row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "status": row["status"],
        "category_id": row["category_id"],
        "style_id": row["style_id"],
        "render_platform_id": str(row["render_platform_id"]) if row["render_platform_id"] else None,
        "cover": [cover] if cover else [],
        "author": author_object(row),
        "counters": {"views": row["views_count"], "likes": row["likes_count"], "saves": row["saves_count"]},
        "views_count": row["views_count"],
        "likes_count": row["likes_count"],
        "saves_count": row["saves_count"],
        "created_at": row["created_at"],
    }


_DETAIL = f"""
SELECT {CARD_COLUMNS}, i.description, i.author_id, i.is_deleted, i.comments_count, i.updated_at,
       c.name AS category_name, c.parent_id AS category_parent_id, s.name AS style_name,
       pl.name AS platform_name
FROM interiors i {CARD_JOINS}
LEFT JOIN categories c ON c.id = i.category_id
LEFT JOIN styles s ON s.id = i.style_id
LEFT JOIN platforms pl ON pl.id = i.render_platform_id
WHERE i.id = %s
"""  # noqa: S608  (trusted fragments only)
_IMAGES = """
SELECT id, image_src, is_main, position FROM interior_images
WHERE interior_id = %s ORDER BY is_main DESC, position, created_at, id
"""
_VIEWER_FLAGS = """
SELECT EXISTS (SELECT 1 FROM interior_likes WHERE interior_id = %(i)s AND user_id = %(u)s) AS is_liked,
       EXISTS (SELECT 1 FROM saved_interiors WHERE interior_id = %(i)s AND user_id = %(u)s) AS is_saved
"""


async def interior_detail(
    interior_id: str, viewer: CurrentUser | None, conn: AsyncConnection[Any] | None = None
) -> dict[str, Any]:
    """The full interior: card fields plus description, category, style, platform, images, tags, flags."""

    async def run(c: AsyncConnection[Any]) -> dict[str, Any]:
        row = await fetch_one(_DETAIL, (interior_id,), c)
        if row is None:
            raise ApiError("not_found")
        images = await fetch_all(_IMAGES, (interior_id,), c)
        tags = await tags_of_interior(interior_id, c)
        flags = {"is_liked": False, "is_saved": False}
        if viewer is not None:
            flags = await fetch_one(_VIEWER_FLAGS, {"i": interior_id, "u": viewer.id}, c) or flags
        out = card(row)
        out.update(
            description=row["description"],
            comments_count=row["comments_count"],
            updated_at=row["updated_at"],
            category={"id": row["category_id"], "name": row["category_name"], "parent_id": row["category_parent_id"]}
            if row["category_id"] is not None else None,
            style={"id": row["style_id"], "name": row["style_name"]} if row["style_id"] is not None else None,
            render_platform={"id": str(row["render_platform_id"]), "name": row["platform_name"]}
            if row["render_platform_id"] else None,
            images=[image_object(r["image_src"], id=str(r["id"]), is_main=r["is_main"]) for r in images],
            tags=tags,
            is_liked=bool(flags["is_liked"]),
            is_saved=bool(flags["is_saved"]),
        )
        return out

    if conn is not None:
        return await run(conn)
    async with connection() as c:
        return await run(c)
