"""The interiors list query: filters, visibility, order, offset or keyset paging, total in one round trip."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request

from shared.auth.guard import CurrentUser
from shared.community.cache import TTLCache
from shared.community.ids import field_uuid, query_uuid_list
from shared.community.interiors import CARD_JOINS, visible_sql
from shared.db import fetch_all, fetch_val
from shared.http.errors import ApiError, FieldError
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


CARD_JSON = """json_build_object(
    'id', i.id, 'slug', i.slug, 'name', i.name, 'status', i.status, 'category_id', i.category_id,
    'style_id', i.style_id, 'render_platform_id', i.render_platform_id,
    'cover', CASE WHEN cov.image_src IS NULL THEN '[]'::json
        ELSE json_build_array(json_build_object('image_src', cov.image_src, 'url', %s || cov.image_src)) END,
    'author', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('id', a.id, 'username', a.username,
        'full_name', a.full_name, 'image_src', a.image_src,
        'image_url', CASE WHEN a.image_src IS NULL THEN NULL ELSE %s || a.image_src END) END,
    'counters', json_build_object('views', i.views_count, 'likes', i.likes_count, 'saves', i.saves_count),
    'views_count', i.views_count, 'likes_count', i.likes_count, 'saves_count', i.saves_count,
    'created_at', iso_utc(i.created_at))"""
CURSOR_CASTS = {"created_at": "timestamptz", "views": "bigint", "likes": "bigint", "saves": "bigint"}


def image_prefix() -> str:
    """What `image_url(key)` puts before a key, so SQL builds image URLs itself."""
    return (image_url("x") or "x")[:-1]


async def list_page(request: Request, where: list[str], params: list[Any]) -> tuple[msgspec.Raw, dict[str, Any]]:
    """One page of cards (JSON built by PostgreSQL) and the pagination block, in one round trip.

    The total is counted up to COUNT_CAP inline; bigger totals come from a 10 s per-process cache,
    because an exact count of a big set scans every matching row on every request.
    """
    page: PageRequest = page_request(request, ORDER_COLUMNS)
    condition = " AND ".join(where) or "TRUE"
    keyset, keyset_params = "TRUE", []
    if page.cursor is not None:
        op = "<" if page.descending else ">"
        keyset = f"({page.order_sql}, i.id) {op} (%s::{CURSOR_CASTS[page.order_key]}, %s::uuid)"
        keyset_params = [page.cursor[0], page.cursor[1]]
    offset = 0 if page.cursor is not None else page.offset
    sort_text = "iso_utc(i.created_at)" if page.order_key == "created_at" else f"{page.order_sql}::text"
    img = image_prefix()
    count_sql = f"SELECT count(*) FROM interiors i WHERE {condition}"  # noqa: S608
    count_key = (count_sql, msgspec.json.encode(params, enc_hook=str))
    known_total = count_cache.peek(count_key)  # a big total counted recently: skip even the capped count
    counter = (
        "SELECT NULL::bigint AS total" if known_total is not None
        else f"SELECT count(*) AS total FROM (SELECT 1 FROM interiors i WHERE {condition} LIMIT {COUNT_CAP + 1}) c"  # noqa: S608
    )
    count_params = [] if known_total is not None else params
    sql = (
        f"SELECT t.total, p.j, p.sort_text, p.id_text FROM ({counter}) t"  # noqa: S608
        f" LEFT JOIN LATERAL (SELECT {CARD_JSON}::text AS j, {sort_text} AS sort_text, i.id::text AS id_text"
        f" FROM interiors i {CARD_JOINS} WHERE {condition} AND {keyset}"
        f" ORDER BY {page.order_clause('i.id')} LIMIT %s OFFSET %s) p ON true"
    )
    rows = await fetch_all(sql, [*count_params, img, img, *params, *keyset_params, page.limit, offset])
    items = [r for r in rows if r["j"] is not None]
    total = known_total if known_total is not None else (rows[0]["total"] if rows else 0)
    if total > COUNT_CAP and known_total is None:
        total = await count_cache.get(count_key, lambda: fetch_val(count_sql, params))
    next_cursor = None
    if len(items) == page.limit:
        next_cursor = encode_cursor(page.order_key, items[-1]["sort_text"], items[-1]["id_text"])
    raw = msgspec.Raw(("[" + ",".join(r["j"] for r in items) + "]").encode())
    return raw, pagination(page, total, next_cursor)
