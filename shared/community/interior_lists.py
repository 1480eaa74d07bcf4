"""The interiors list query: filters, visibility, order, offset or keyset paging, total in one round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request

from shared.auth.guard import CurrentUser
from shared.community.cache import TTLCache
from shared.community.interiors import CARD_JOINS, visible_sql
from shared.db import fetch_all, fetch_val
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, query_uuid_list
from shared.http.pagination import PageRequest, encode_cursor, page_request, pagination
from shared.http.validation import query_int_list, query_list
from shared.media import image_url

ORDER_COLUMNS = {
    "created_at": "i.created_at",
    "views": "i.views_count",
    "likes": "i.likes_count",
    "saves": "i.saves_count",
}
COUNT_CAP = 1000  # totals above this come from a short per-process cache (see list_page)


count_cache = TTLCache(ttl=10.0)


def list_filters(request: Request, user: CurrentUser | None, *, own: bool = False) -> tuple[list[str], list[Any]]:
    """WHERE parts for GET /api/interiors (and the caller's own list when `own`)."""
    q = request.query_params
    where: list[str] = []
    params: list[Any] = []
    if own:
        assert user is not None
        where.append("NOT i.is_deleted AND i.author_id = %s")
        params.append(user.id)
    else:
        clause, extra = visible_sql(user)
        where.append(clause)
        params += extra
    status = q.get("status")
    if status not in (None, ""):
        if status not in ("0", "1", "2"):
            raise ApiError("validation", errors=[FieldError("status", "must be 0, 1 or 2")])
        # Only admins (and authors on their own list) filter by status; for anyone else the
        # visibility rule already decides, so the filter can only narrow what they may see.
        where.append("i.status = %s")
        params.append(int(status))
    if name := (q.get("name") or "").strip():
        where.append("i.name ILIKE %s")
        params.append("%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if categories := query_int_list(request, "categories"):
        where.append("i.category_id = ANY(%s)")
        params.append(categories)
    if styles := query_int_list(request, "styles"):
        where.append("i.style_id = ANY(%s)")
        params.append(styles)
    if platforms := query_list(request, "platforms"):
        where.append("i.render_platform_id = ANY(%s::uuid[])")
        params.append(query_uuid_list(platforms, "platforms"))
    if author := (q.get("author") or "").strip():
        where.append("i.author_id = (SELECT id FROM profiles WHERE username = %s)")
        params.append(author)
    if brand := (q.get("has_models_of_brand") or "").strip():
        where.append(
            "EXISTS (SELECT 1 FROM interior_tags t JOIN models m ON m.id = t.model_id"
            " WHERE t.interior_id = i.id AND m.brand_id = %s)"
        )
        params.append(field_uuid(brand, "has_models_of_brand"))
    return where, params


ROW_COLUMNS = """i.id::text AS id, i.slug, i.name, i.status, i.category_id, i.style_id,
    i.render_platform_id::text AS render_platform_id, i.views_count, i.likes_count, i.saves_count, i.created_at,
    cov.image_src AS cover_src, a.id::text AS a_id, a.username AS a_username, a.full_name AS a_full_name,
    a.image_src AS a_image_src"""
CURSOR_CASTS = {"created_at": "timestamptz", "views": "bigint", "likes": "bigint", "saves": "bigint"}


def image_prefix() -> str:
    """What `image_url(key)` puts before a key, so image URLs are built by concatenation."""
    return (image_url("x") or "x")[:-1]


def iso_utc(value: datetime) -> str:
    """The contract's time format, as SQL's iso_utc() writes it: UTC, always microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def card_row(r: dict[str, Any], img: str, created_at: str) -> dict[str, Any]:
    """One list card, shaped in Python (cheaper than json_build_object per row in PostgreSQL)."""
    cover, avatar = r["cover_src"], r["a_image_src"]
    views, likes, saves = r["views_count"], r["likes_count"], r["saves_count"]
    return {
        "id": r["id"], "slug": r["slug"], "name": r["name"], "status": r["status"], "category_id": r["category_id"],
        "style_id": r["style_id"], "render_platform_id": r["render_platform_id"],
        "cover": [{"image_src": cover, "url": img + cover}] if cover is not None else [],
        "author": None if r["a_id"] is None else {
            "id": r["a_id"], "username": r["a_username"], "full_name": r["a_full_name"], "image_src": avatar,
            "image_url": None if avatar is None else img + avatar,
        },
        "counters": {"views": views, "likes": likes, "saves": saves},
        "views_count": views, "likes_count": likes, "saves_count": saves,
        "created_at": created_at,
    }


def _count_sql(condition: str) -> str:
    return f"SELECT count(*) FROM interiors i WHERE {condition}"  # noqa: S608 - fragments are code


async def list_page(
    request: Request, where: list[str], params: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of cards and the pagination block, in one round trip.

    Rows come in index order (one partial index per public orderBy) and are shaped in Python. The
    total is counted inline up to COUNT_CAP; a bigger total is counted exactly once per process and
    then served from `count_cache`, refreshed in the background every 10 s (stale-while-revalidate),
    so no request ever waits on a full count after the first.
    """
    page: PageRequest = page_request(request, ORDER_COLUMNS)
    condition = " AND ".join(where) or "TRUE"
    keyset, keyset_params = "TRUE", []
    if page.cursor is not None:
        op = "<" if page.descending else ">"
        keyset = f"({page.order_sql}, i.id) {op} (%s::{CURSOR_CASTS[page.order_key]}, %s::uuid)"
        keyset_params = [page.cursor[0], page.cursor[1]]
    offset = 0 if page.cursor is not None else page.offset
    count_sql = _count_sql(condition)
    count_key = (count_sql, msgspec.json.encode(params, enc_hook=str))
    # A big total counted before: skip even the capped count (a stale one is refreshed in the background).
    known_total = count_cache.stale(
        count_key, lambda: fetch_val(count_sql, params), keep=lambda n: n is not None and n > COUNT_CAP
    )
    counter = (
        "SELECT NULL::bigint AS total" if known_total is not None
        else f"SELECT count(*) AS total FROM (SELECT 1 FROM interiors i WHERE {condition} LIMIT {COUNT_CAP + 1}) c"  # noqa: S608
    )
    count_params = [] if known_total is not None else params
    sql = (
        f"SELECT t.total, p.* FROM ({counter}) t"  # noqa: S608 - fragments are code, values are parameters
        f" LEFT JOIN LATERAL (SELECT {ROW_COLUMNS} FROM interiors i {CARD_JOINS} WHERE {condition} AND {keyset}"
        f" ORDER BY {page.order_clause('i.id')} LIMIT %s OFFSET %s) p ON true"
    )
    rows = await fetch_all(sql, [*count_params, *params, *keyset_params, page.limit, offset])
    total = known_total if known_total is not None else (rows[0]["total"] if rows else 0)
    if total > COUNT_CAP and known_total is None:
        total = await count_cache.get(count_key, lambda: fetch_val(count_sql, params))
    img = image_prefix()
    items: list[dict[str, Any]] = []
    last_created = ""
    for r in rows:
        if r["id"] is not None:
            last_created = iso_utc(r["created_at"])
            items.append(card_row(r, img, last_created))
    next_cursor = None
    if len(items) == page.limit:
        last = items[-1]
        sort_value = last_created if page.order_key == "created_at" else str(last[f"{page.order_key}_count"])
        next_cursor = encode_cursor(page.order_key, sort_value, last["id"])
    return items, pagination(page, total, next_cursor)
