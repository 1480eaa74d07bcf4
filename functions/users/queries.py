"""The users group's SQL: public designers (rated by their work), the admin/brand user list with
download filters, bans, roles, an admin's look at one user, and profile edits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.db import execute, fetch_one
from shared.domain.dictionaries import escape_like
from shared.domain.paging import Page, paged
from shared.http.pagination import PageRequest

ACTIVE_BAN = (
    "EXISTS (SELECT 1 FROM bans x WHERE x.user_id = p.id AND x.lifted_at IS NULL"
    " AND (x.permanent OR x.until > now()))"
)
DESIGNER_ORDER = {
    "created_at": "p.created_at", "rating": "(5 * p.designs_count + 5 * p.tags_count)",
    "designs_count": "p.designs_count", "tags_count": "p.tags_count",
}
DESIGNER_CASTS = {"created_at": "timestamptz", "rating": "integer", "designs_count": "integer", "tags_count": "integer"}
USER_ORDER = {
    "created_at": "p.created_at", "full_name": "p.full_name", "username": "p.username::text",
    "downloads_count": "p.downloads_count", "designs_count": "p.designs_count",
}
USER_CASTS = {"created_at": "timestamptz", "full_name": "text", "username": "text", "downloads_count": "integer",
              "designs_count": "integer"}

DESIGNER_JSON = """json_build_object(
    'id', p.id, 'username', p.username, 'full_name', p.full_name, 'company_name', p.company_name,
    'image_src', p.image_src, 'image_url', CASE WHEN p.image_src IS NULL THEN NULL ELSE %(img)s || p.image_src END,
    'designs_count', p.designs_count, 'tags_count', p.tags_count,
    'rating', 5 * p.designs_count + 5 * p.tags_count, 'created_at', iso_utc(p.created_at))"""

USER_JSON = f"""json_build_object(
    'id', p.id, 'username', p.username, 'full_name', p.full_name, 'email', p.email, 'role_id', p.role_id,
    'image_src', p.image_src, 'image_url', CASE WHEN p.image_src IS NULL THEN NULL ELSE %(img)s || p.image_src END,
    'is_banned', {ACTIVE_BAN}, 'designs_count', p.designs_count, 'downloads_count', p.downloads_count,
    'tags_count', p.tags_count, 'created_at', iso_utc(p.created_at))"""


async def designers_page(page: PageRequest, full_name: str | None, img: str) -> Page:
    where, params = ["p.role_id = 3"], {"img": img}
    if full_name:
        where.append("p.full_name ILIKE %(full_name)s")
        params["full_name"] = f"%{escape_like(full_name)}%"
    return await paged(
        base=f"FROM profiles p WHERE {' AND '.join(where)}", params=params, page=page, row_json=DESIGNER_JSON,
        id_sql="p.id", cast=DESIGNER_CASTS[page.order_key],
    )


async def users_page(page: PageRequest, filters: dict[str, Any], img: str) -> Page:
    where, params = ["TRUE"], {"img": img}
    if filters.get("key"):
        where.append("(p.full_name ILIKE %(key)s OR p.email::text ILIKE %(key)s OR p.username::text ILIKE %(key)s)")
        params["key"] = f"%{escape_like(filters['key'])}%"
    if filters.get("role_id") is not None:
        where.append("p.role_id = %(role_id)s")
        params["role_id"] = filters["role_id"]
    if filters.get("is_banned") is not None:
        where.append(ACTIVE_BAN if filters["is_banned"] else f"NOT {ACTIVE_BAN}")
    if filters.get("downloaded_model"):
        where.append("EXISTS (SELECT 1 FROM downloads d WHERE d.user_id = p.id AND d.model_id = %(model)s)")
        params["model"] = filters["downloaded_model"]
    if filters.get("brand_id"):
        where.append(
            "EXISTS (SELECT 1 FROM downloads d JOIN models m ON m.id = d.model_id"
            " WHERE d.user_id = p.id AND m.brand_id = %(brand)s)"
        )
        params["brand"] = filters["brand_id"]
    return await paged(
        base=f"FROM profiles p WHERE {' AND '.join(where)}", params=params, page=page, row_json=USER_JSON,
        id_sql="p.id", cast=USER_CASTS[page.order_key],
    )



# Profiles --------------------------------------------------------------------------------------------
async def profile_exists(user_id: str) -> bool:
    return await fetch_one("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) is not None


async def username_exists(username: str) -> bool:
    return await fetch_one("SELECT 1 FROM profiles WHERE username = %s", (username,)) is not None


async def profile_id(username: str) -> str | None:
    row = await fetch_one("SELECT id FROM profiles WHERE username = %s", (username,))
    return None if row is None else str(row["id"])


async def brand_of(brand_id: Any) -> dict[str, Any] | None:
    """A brand account's brand (id, name, slug), or None."""
    try:
        return await fetch_one("SELECT id, name, slug FROM brands WHERE id = %s", (brand_id,))
    except Exception:  # the catalogue tables are not installed yet
        return None


async def model_brand(model_id: str) -> dict[str, Any] | None:
    """`{"brand_id": ...}` of a model, or None when there is no such model."""
    return await fetch_one("SELECT brand_id FROM models WHERE id = %s", (model_id,))


INFO_SQL = """
SELECT p.id, p.username, p.full_name, p.email, p.company_name, p.image_src, p.phone, p.role_id, p.brand_id,
       p.designs_count, p.tags_count, p.downloads_count, p.created_at,
       (SELECT count(*) FROM download_requests r WHERE r.user_id = p.id) AS download_requests_count,
       (SELECT count(*) FROM download_requests r WHERE r.user_id = p.id
          AND r.created_at > now() - interval '1 day') AS downloads_last_24h
FROM profiles p WHERE p.username = %s
"""


async def user_info(username: str) -> dict[str, Any] | None:
    """What an admin sees of one user: the profile, its counters and its recent download requests."""
    return await fetch_one(INFO_SQL, (username,))


async def locked_avatar(conn: Any, user_id: str) -> str | None:
    """The profile's current avatar key, the row locked until the commit."""
    cur = await conn.execute("SELECT image_src FROM profiles WHERE id = %s FOR UPDATE", (user_id,))
    row = await cur.fetchone()
    return row["image_src"] if row else None


async def update_profile_row(conn: Any, user_id: str, fields: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    await conn.execute(
        f"UPDATE profiles SET {assignments}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
        {**fields, "id": user_id},
    )


# Bans and roles --------------------------------------------------------------------------------------
async def locked_profile(conn: Any, user_id: str) -> bool:
    """Whether the profile exists (locked until the commit)."""
    return await fetch_one("SELECT id FROM profiles WHERE id = %s FOR UPDATE", (user_id,), conn) is not None


async def insert_ban(
    conn: Any, user_id: str, reason: str | None, permanent: bool, until: datetime | None, admin_id: str
) -> dict[str, Any]:
    return await fetch_one(
        """INSERT INTO bans (user_id, reason, permanent, until, created_by)
           VALUES (%s, %s, %s, %s, %s) RETURNING id, user_id, reason, permanent, until, created_at""",
        (user_id, reason, permanent, until, admin_id),
        conn,
    )


async def notify_ban(conn: Any, user_id: str, admin_id: str, reason: str | None) -> None:
    """Tell the user why (the notifications group owns the table; absent until it is installed)."""
    exists = await fetch_one("SELECT to_regclass('public.notifications') IS NOT NULL AS present", None, conn)
    if exists and exists["present"]:
        await conn.execute(
            "INSERT INTO notifications (user_id, actor_id, type, text) VALUES (%s, %s, 'ban', %s)",
            (user_id, admin_id, reason or ""),
        )


async def lift_bans(user_id: str, admin_id: str) -> None:
    await execute(
        "UPDATE bans SET lifted_at = now(), lifted_by = %s WHERE user_id = %s AND lifted_at IS NULL",
        (admin_id, user_id),
    )


async def role_exists(role_id: int) -> bool:
    return await fetch_one("SELECT 1 FROM roles WHERE id = %s", (role_id,)) is not None


async def set_role(user_id: str, role_id: int) -> bool:
    """Whether the profile exists (and now has the role)."""
    row = await fetch_one(
        "UPDATE profiles SET role_id = %s, updated_at = now() WHERE id = %s RETURNING id", (role_id, user_id)
    )
    return row is not None
