"""`GET /api/models` and its siblings (count, counts, cart): filters, order, offset and keyset pages.

Live models are listed available-first as two index-ordered branches, one for models that are not
unavailable and one for unavailable ones (`(availability = 2) IS FALSE/TRUE` matches the leading
boolean of the `models_live_*` indexes, in either direction): a page reads the first branch and moves
on to the second only when the first runs out, so no page sorts. A cursor carries (unavailable, sort
value, id), so a deep page is an index seek; a deep offset walks only its own branch's index. Rows are built as
JSON by PostgreSQL, with brand, category (with parent) and cover joined for the page's rows only.

`data_count` is exact up to COUNT_CAP matching rows (counting stops there, so the cost is bounded);
above it the exact total comes from a count cached per filter for COUNT_TTL_S seconds, and while
that is fresh the page statement skips counting altogether. Only big totals are ever cached, so a
small list's count is always exact; a big one may lag by up to COUNT_TTL_S.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request

from shared.db import fetch_all, fetch_one
from shared.domain.common import image_prefix
from shared.domain.dictionaries import escape_like
from shared.domain.paging import Page, raw_array
from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid, query_uuid
from shared.http.pagination import PageRequest, encode_cursor, page_request
from shared.http.validation import query_bool, query_int, query_int_list, query_list

ORDER_COLUMNS = {
    "created_at": "m.created_at", "name": "m.name", "views": "m.views_count", "likes": "m.likes_count",
    "saves": "m.saves_count", "downloads": "m.downloads_count",
}
CURSOR_CASTS = {
    "created_at": "timestamptz", "name": "text", "views": "bigint", "likes": "integer", "saves": "integer",
    "downloads": "integer",
}
COUNT_CAP = 1_000
COUNT_TTL_S = 30.0


@dataclass
class ModelFilters:
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, sql: str, **params: Any) -> None:
        self.where.append(sql)
        self.params.update(params)

    @property
    def sql(self) -> str:
        return " AND ".join(self.where) if self.where else "TRUE"


def _uuid_list(request: Request, name: str) -> list[str]:
    values = query_list(request, name)
    parsed = [as_uuid(v) for v in values]
    if any(p is None for p in parsed):
        raise ApiError("validation", errors=[FieldError(name, "expected UUIDs")])
    return parsed  # type: ignore[return-value]


def parse_filters(request: Request, *, is_admin: bool = False, with_deleted_flag: bool = True) -> ModelFilters:
    f = ModelFilters()
    deleted = query_bool(request, "is_deleted") if with_deleted_flag else None
    if deleted and not is_admin:
        raise ApiError("access_denied")
    f.add("m.is_deleted" if deleted else "NOT m.is_deleted")
    name = (request.query_params.get("name") or "").strip()
    if name:
        if len(name) > 200:
            raise ApiError("validation", errors=[FieldError("name", "at most 200 characters")])
        f.add("m.name ILIKE %(name)s", name=f"%{escape_like(name)}%")
    top = query_bool(request, "top")
    if top is not None:
        f.add("m.top = %(top)s", top=top)
    brand_id = query_uuid(request, "brand_id")
    if brand_id:
        f.add("m.brand_id = %(brand_id)s", brand_id=brand_id)
    country_id = query_uuid(request, "country_id")
    if country_id:
        f.add("m.brand_id IN (SELECT id FROM brands WHERE country_id = %(country_id)s)", country_id=country_id)
    availability = query_int(request, "availability")
    if availability is not None:
        if availability not in (1, 2, 3):
            raise ApiError("validation", errors=[FieldError("availability", "must be 1, 2 or 3")])
        f.add("m.availability = %(availability)s", availability=availability)
    categories = query_int_list(request, "categories")
    if categories:
        f.add(
            "m.category_id IN (SELECT id FROM categories"
            " WHERE id = ANY(%(categories)s) OR parent_id = ANY(%(categories)s))",
            categories=categories,
        )
    styles = query_int_list(request, "styles")
    if styles:
        f.add("m.style_id = ANY(%(styles)s)", styles=styles)
    colors = query_int_list(request, "colors")
    if colors:
        f.add("EXISTS (SELECT 1 FROM model_colors x WHERE x.model_id = m.id AND x.color_id = ANY(%(colors)s))",
              colors=colors)
    materials = query_int_list(request, "materials")
    if materials:
        f.add("EXISTS (SELECT 1 FROM model_materials x WHERE x.model_id = m.id AND x.material_id = ANY(%(materials)s))",
              materials=materials)
    exclude = _uuid_list(request, "exclude_models")
    if exclude:
        f.add("m.id <> ALL(%(exclude)s::uuid[])", exclude=exclude)
    return f


COVER_JSON = """CASE WHEN ci.image_src IS NULL THEN '[]'::json
    ELSE json_build_array(json_build_object('image_src', ci.image_src, 'url', %(img)s || ci.image_src)) END"""
LIST_COLUMNS = """m.slug, m.name, m.availability, m.top, m.furniture_cost, m.style_id,
    m.views_count, m.likes_count, m.saves_count, m.downloads_count, m.created_at, m.is_deleted,
    b.id AS b_id, b.name AS b_name, b.slug AS b_slug, c.id AS c_id, c.name AS c_name,
    cp.id AS cp_id, cp.name AS cp_name, ci.image_src AS cover"""


def list_row(r: dict[str, Any], img: str) -> dict[str, Any]:
    """One list row, shaped in Python: cheaper than json_build_object per row in PostgreSQL."""
    cover = r["cover"]
    return {
        "id": r["id"], "slug": r["slug"], "name": r["name"], "availability": r["availability"], "top": r["top"],
        "furniture_cost": r["furniture_cost"], "style_id": r["style_id"],
        "brand": {"id": r["b_id"], "name": r["b_name"], "slug": r["b_slug"]} if r["b_id"] else None,
        "category": {
            "id": r["c_id"], "name": r["c_name"],
            "parent": {"id": r["cp_id"], "name": r["cp_name"]} if r["cp_id"] else None,
        } if r["c_id"] else None,
        "cover": [{"image_src": cover, "url": img + cover}] if cover else [],
        "counters": {"views": r["views_count"], "likes": r["likes_count"], "saves": r["saves_count"],
                     "downloads": r["downloads_count"]},
        "views_count": r["views_count"], "likes_count": r["likes_count"], "saves_count": r["saves_count"],
        "downloads_count": r["downloads_count"], "created_at": r["created_at"], "is_deleted": r["is_deleted"],
    }


ROW_JOINS = """
JOIN models m ON m.id = k.id
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN categories c ON c.id = m.category_id
LEFT JOIN categories cp ON cp.id = c.parent_id
LEFT JOIN LATERAL (SELECT image_src FROM model_images WHERE model_id = m.id AND is_main LIMIT 1) ci ON true"""


@dataclass(frozen=True)
class ListQuery:
    sql: str
    params: dict[str, Any]


def branch_query(
    filters: ModelFilters, page: PageRequest, *, unavailable: bool, seek: bool, offset: int, limit: int,
    with_count: bool,
) -> ListQuery:
    """One availability branch, index-ordered: `(availability = 2) IS FALSE|TRUE` matches the leading
    boolean of the `models_live_*` indexes, so this is an index scan in either direction, no sort.
    With `with_count` the statement also carries the (capped) total of the whole filter."""
    col, direction = page.order_sql, page.direction
    params: dict[str, Any] = {**filters.params, "count_cap": COUNT_CAP + 1, "limit": limit, "offset": offset}
    keyset = "TRUE"
    if seek and page.cursor is not None:
        op = "<" if page.descending else ">"
        keyset = f"({col}, m.id) {op} (%(cursor_value)s::{CURSOR_CASTS[page.order_key]}, %(cursor_id)s::uuid)"
        params.update(cursor_value=_cursor_parts(page.cursor[0])[1], cursor_id=page.cursor[1])
    count = (
        f"(SELECT count(*) AS total FROM (SELECT 1 FROM models m WHERE {filters.sql} LIMIT %(count_cap)s) x)"  # noqa: S608
        if with_count else "(SELECT NULL::bigint AS total)"
    )
    sql = f"""
SELECT t.total, p.* FROM
  {count} t
LEFT JOIN LATERAL (
  SELECT k.sort_value, k.id, {LIST_COLUMNS}
  FROM (
    SELECT m.id, {col} AS sort_value FROM models m
    WHERE {filters.sql} AND (m.availability = 2) IS {str(unavailable).upper()} AND {keyset}
    ORDER BY {col} {direction}, m.id {direction} LIMIT %(limit)s OFFSET %(offset)s
  ) k {ROW_JOINS}
  ORDER BY k.sort_value {direction}, k.id {direction}
) p ON true"""  # noqa: S608 - fragments are code, values are parameters
    return ListQuery(sql, params)


def list_models_query(filters: ModelFilters, page: PageRequest, *, with_count: bool = True) -> ListQuery:
    """The first statement a list request runs (what the benchmark replays against the driver)."""
    in_tail = page.cursor is not None and _cursor_parts(page.cursor[0])[0]
    return branch_query(
        filters, page, unavailable=in_tail, seek=page.cursor is not None,
        offset=0 if page.cursor is not None else page.offset, limit=page.limit + 1, with_count=with_count,
    )


def _cursor_parts(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], bool):
        raise ApiError("validation", errors=[FieldError("cursor", "malformed cursor")])
    return value[0], value[1]


class _CountCache:
    """Exact totals of big result sets, per filter, for a few seconds (safe to lose; one per process)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[float, int]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def key(filters: ModelFilters) -> str:
        return filters.sql + msgspec.json.encode(filters.params, enc_hook=str).decode()

    def peek(self, filters: ModelFilters) -> int | None:
        """A fresh cached total (only big lists are ever cached), or None."""
        hit = self.values.get(self.key(filters))
        return hit[1] if hit and hit[0] > time.monotonic() else None

    async def get(self, filters: ModelFilters) -> int:
        key = self.key(filters)
        hit = self.values.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self.values.get(key)
            if hit and hit[0] > time.monotonic():
                return hit[1]
            total = await count_models(filters)
            if len(self.values) > 1000:
                self.values.clear()
            self.values[key] = (time.monotonic() + COUNT_TTL_S, total)
            return total


count_cache = _CountCache()


async def count_models(filters: ModelFilters) -> int:
    row = await fetch_one(f"SELECT count(*) AS n FROM models m WHERE {filters.sql}", filters.params)  # noqa: S608
    return row["n"] if row else 0


async def list_models(filters: ModelFilters, page: PageRequest) -> Page:
    """Available models first, then unavailable ones: each part is an index-ordered branch. Most pages
    come from one statement; a page that crosses into the unavailable tail takes two or three."""
    known = count_cache.peek(filters)
    need = page.limit + 1
    in_tail = page.cursor is not None and _cursor_parts(page.cursor[0])[0]
    first = list_models_query(filters, page, with_count=known is None)
    rows = await fetch_all(first.sql, first.params)
    total = known if known is not None else (rows[0]["total"] if rows else 0)
    items = [(in_tail, r) for r in rows if r["id"] is not None]
    if not in_tail and len(items) < need:
        offset = 0
        if page.cursor is None and page.offset and not items:
            available = await fetch_one(
                f"SELECT count(*) AS n FROM models m WHERE {filters.sql} AND (m.availability = 2) IS FALSE",  # noqa: S608
                filters.params,
            )
            offset = max(0, page.offset - available["n"])
        tail = branch_query(filters, page, unavailable=True, seek=False, offset=offset, limit=need - len(items),
                            with_count=False)
        items += [(True, r) for r in await fetch_all(tail.sql, tail.params) if r["id"] is not None]
    if known is None and total > COUNT_CAP:
        total = await count_cache.get(filters)
    next_cursor = None
    if len(items) > page.limit:
        items = items[: page.limit]
        flag, last = items[-1]
        next_cursor = encode_cursor(page.order_key, [flag, _plain(last["sort_value"])], last["id"])
    img = image_prefix()
    return Page(total, [list_row(r, img) for _, r in items], next_cursor, page)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if not isinstance(value, int | float | str):
        return str(value)
    return value


def models_page(request: Request) -> PageRequest:
    return page_request(request, ORDER_COLUMNS)


COUNTS_SQL = """
SELECT count(*) FILTER (WHERE NOT is_deleted) AS all,
       count(*) FILTER (WHERE NOT is_deleted AND top) AS top,
       count(*) FILTER (WHERE NOT is_deleted AND availability <> 2) AS available,
       count(*) FILTER (WHERE NOT is_deleted AND availability = 2) AS not_available,
       count(*) FILTER (WHERE is_deleted) AS deleted
FROM models WHERE (%(brand_id)s::uuid IS NULL OR brand_id = %(brand_id)s::uuid)
"""


async def model_counts(brand_id: str | None, is_admin: bool) -> dict[str, int]:
    row = await fetch_one(COUNTS_SQL, {"brand_id": brand_id})
    counts = dict(row or {})
    if not is_admin:
        counts.pop("deleted", None)
    return counts


CART_SQL = """
SELECT json_build_object('id', m.id, 'name', m.name, 'slug', m.slug,
    'brand', CASE WHEN b.id IS NULL THEN NULL ELSE json_build_object('id', b.id, 'name', b.name, 'slug', b.slug) END,
    'cover', """ + COVER_JSON + """)::text AS j
FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS k (id, ord)
JOIN models m ON m.id = k.id
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN LATERAL (SELECT image_src FROM model_images WHERE model_id = m.id AND is_main LIMIT 1) ci ON true
WHERE NOT m.is_deleted
ORDER BY k.ord
"""  # noqa: S608


async def cart(ids: list[str]) -> msgspec.Raw:
    if not ids:
        return raw_array([])
    rows = await fetch_all(CART_SQL, {"ids": ids[:100], "img": image_prefix()})
    return raw_array([r["j"] for r in rows])
