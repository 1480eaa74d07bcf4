"""The models list's statements: filters as SQL, the availability branches, counts and the cart.

Live models are listed available-first as two index-ordered branches, one for models that are not
unavailable and one for unavailable ones (`(availability = 2) IS FALSE/TRUE` matches the leading
boolean of the `models_live_*` indexes, in either direction): a page reads the first branch and moves
on to the second only when the first runs out, so no page sorts. A cursor carries (unavailable, sort
value, id), so a deep page is an index seek; a deep offset walks only its own branch's index. Rows are
read with brand, category (with parent) and cover joined for the page's rows only. How the branches
make a page (and the cached big totals) is in functions/models/listing.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from functions.models.inputs import ListFilter
from shared.db import fetch_all, fetch_one
from shared.domain.common import image_prefix
from shared.domain.dictionaries import escape_like
from shared.domain.paging import raw_array
from shared.http.errors import ApiError, FieldError
from shared.http.pagination import PageRequest

ORDER_COLUMNS = {
    "created_at": "m.created_at", "name": "m.name", "views": "m.views_count", "likes": "m.likes_count",
    "saves": "m.saves_count", "downloads": "m.downloads_count",
}
CURSOR_CASTS = {
    "created_at": "timestamptz", "name": "text", "views": "bigint", "likes": "integer", "saves": "integer",
    "downloads": "integer",
}
COUNT_CAP = 1_000


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


def model_filters(f: ListFilter) -> ModelFilters:
    """The WHERE clause (on `models m`) and its parameters for parsed list filters."""
    out = ModelFilters()
    out.add("m.is_deleted" if f.deleted else "NOT m.is_deleted")
    if f.name:
        out.add("m.name ILIKE %(name)s", name=f"%{escape_like(f.name)}%")
    if f.top is not None:
        out.add("m.top = %(top)s", top=f.top)
    if f.brand_id:
        out.add("m.brand_id = %(brand_id)s", brand_id=f.brand_id)
    if f.country_id:
        out.add("m.brand_id IN (SELECT id FROM brands WHERE country_id = %(country_id)s)", country_id=f.country_id)
    if f.availability is not None:
        out.add("m.availability = %(availability)s", availability=f.availability)
    if f.categories:
        out.add(
            "m.category_id IN (SELECT id FROM categories"
            " WHERE id = ANY(%(categories)s) OR parent_id = ANY(%(categories)s))",
            categories=f.categories,
        )
    if f.styles:
        out.add("m.style_id = ANY(%(styles)s)", styles=f.styles)
    if f.colors:
        out.add("EXISTS (SELECT 1 FROM model_colors x WHERE x.model_id = m.id AND x.color_id = ANY(%(colors)s))",
                colors=f.colors)
    if f.materials:
        out.add(
            "EXISTS (SELECT 1 FROM model_materials x WHERE x.model_id = m.id AND x.material_id = ANY(%(materials)s))",
            materials=f.materials,
        )
    if f.exclude:
        out.add("m.id <> ALL(%(exclude)s::uuid[])", exclude=f.exclude)
    return out


COVER_JSON = """CASE WHEN ci.image_src IS NULL THEN '[]'::json
    ELSE json_build_array(json_build_object('image_src', ci.image_src, 'url', %(img)s || ci.image_src)) END"""
LIST_COLUMNS = """m.slug, m.name, m.availability, m.top, m.furniture_cost, m.style_id,
    m.views_count, m.likes_count, m.saves_count, m.downloads_count, m.created_at, m.is_deleted,
    b.id AS b_id, b.name AS b_name, b.slug AS b_slug, c.id AS c_id, c.name AS c_name,
    cp.id AS cp_id, cp.name AS cp_name, ci.image_src AS cover"""


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
        params.update(cursor_value=cursor_parts(page.cursor[0])[1], cursor_id=page.cursor[1])
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
    in_tail = page.cursor is not None and cursor_parts(page.cursor[0])[0]
    return branch_query(
        filters, page, unavailable=in_tail, seek=page.cursor is not None,
        offset=0 if page.cursor is not None else page.offset, limit=page.limit + 1, with_count=with_count,
    )


def cursor_parts(value: Any) -> tuple[bool, Any]:
    """(in the unavailable branch, sort value) from a decoded cursor; 400 when it is not ours."""
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], bool):
        raise ApiError("validation", errors=[FieldError("cursor", "malformed cursor")])
    return value[0], value[1]


async def count_models(filters: ModelFilters) -> int:
    row = await fetch_one(f"SELECT count(*) AS n FROM models m WHERE {filters.sql}", filters.params)  # noqa: S608
    return row["n"] if row else 0


async def available_count(filters: ModelFilters) -> int:
    """How many matching models the first (available) branch holds: where an offset page's tail starts."""
    row = await fetch_one(
        f"SELECT count(*) AS n FROM models m WHERE {filters.sql} AND (m.availability = 2) IS FALSE",  # noqa: S608
        filters.params,
    )
    return row["n"]


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
