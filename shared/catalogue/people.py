"""User lists: public designers (rated by their work) and the admin/brand user list with download filters."""

from __future__ import annotations

from typing import Any

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


async def list_designers(page: PageRequest, full_name: str | None, img: str) -> Page:
    where, params = ["p.role_id = 3"], {"img": img}
    if full_name:
        where.append("p.full_name ILIKE %(full_name)s")
        params["full_name"] = f"%{escape_like(full_name)}%"
    return await paged(
        base=f"FROM profiles p WHERE {' AND '.join(where)}", params=params, page=page, row_json=DESIGNER_JSON,
        id_sql="p.id", cast=DESIGNER_CASTS[page.order_key],
    )


async def list_users(page: PageRequest, filters: dict[str, Any], img: str) -> Page:
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


USER_DOWNLOADS_ORDER = {"created_at": "d.created_at"}
