"""The interiors group's SQL: the list (below), counts, and the statements of writes, likes and views.

The list query: filters, visibility, order, offset or keyset paging, total in one round trip.

Visibility is split into disjoint branches, each of which a partial index serves in every list order
(see `visibility`): the public sees one branch (approved), a signed-in user two (approved, plus their
own pending and rejected), an admin three (one per status). The page is their UNION ALL under one
ORDER BY ... LIMIT, which PostgreSQL runs as a merge append of index scans, so no list sorts the table
however big it gets; the total is the sum of per-branch counts (the approved one shared by everyone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec

from functions.interiors.inputs import ListFilters
from shared.auth.guard import CurrentUser
from shared.db import fetch_all, fetch_val
from shared.domain.cache import TTLCache
from shared.domain.interiors import CARD_JOINS, PUBLIC
from shared.domain.media import image_url
from shared.http.pagination import PageRequest, encode_cursor, pagination

ORDER_COLUMNS = {
    "created_at": "i.created_at",
    "views": "i.views_count",
    "likes": "i.likes_count",
    "saves": "i.saves_count",
}
COUNT_CAP = 1000  # totals above this come from a short per-process cache (see interiors_page)


count_cache = TTLCache(ttl=10.0)

OWN_UNAPPROVED = "NOT i.is_deleted AND i.status <> 1 AND i.author_id = %s"  # interiors_own_* (migration 0700)


class Visibility(str):
    """The visibility WHERE part as disjoint branches, each `(sql, params)`.

    As a string it is the plain OR of the branches (so it still reads as an ordinary WHERE part, and
    its params are `self.params`, first in the list's params); `interiors_page` runs each branch as its own
    UNION ALL arm instead, because PostgreSQL has no index-ordered plan for `status = 1 OR author_id = x`.
    """

    branches: tuple[tuple[str, tuple[Any, ...]], ...]

    def __new__(cls, branches: list[tuple[str, list[Any]]]) -> Visibility:
        self = super().__new__(cls, "(" + (" OR ".join(f"({sql})" for sql, _ in branches) or "FALSE") + ")")
        self.branches = tuple((sql, tuple(params)) for sql, params in branches)
        return self

    @property
    def params(self) -> list[Any]:
        return [p for _, params in self.branches for p in params]


def visibility(user: CurrentUser | None, *, own: bool = False, status: int | None = None) -> Visibility:
    """Who sees what (the rule of `shared.domain.interiors.visible_sql`), as index-served branches.

    The public sees approved, live interiors; a signed-in user also their own in any status; an admin
    every live one (a branch per status, so `status` picks one and the others merge index-ordered);
    `own` is the caller's list. A `status` filter drops the branches it excludes and narrows the rest.
    """
    branches: list[tuple[str, list[Any], frozenset[int]]]
    if own:
        assert user is not None
        branches = [("NOT i.is_deleted AND i.author_id = %s", [user.id], frozenset({0, 1, 2}))]
    elif user is None:
        branches = [(PUBLIC, [], frozenset({1}))]
    elif user.is_admin:
        branches = [(f"i.status = {s} AND NOT i.is_deleted", [], frozenset({s})) for s in (0, 1, 2)]
    else:
        branches = [(PUBLIC, [], frozenset({1})), (OWN_UNAPPROVED, [user.id], frozenset({0, 2}))]
    kept: list[tuple[str, list[Any]]] = []
    for sql, params, statuses in branches:
        if status is None or statuses == {status}:
            kept.append((sql, params))
        elif status in statuses:
            kept.append((f"{sql} AND i.status = %s", [*params, status]))
    return Visibility(kept)


def list_where(
    filters: ListFilters, user: CurrentUser | None, *, own: bool = False
) -> tuple[list[str], list[Any]]:
    """WHERE parts for GET /api/interiors (and the caller's own list when `own`).

    The first part is the `Visibility` (its params first); the others are filters every branch shares.
    Anyone may filter by status: the visibility rule already decides, so it can only narrow.
    """
    visible = visibility(user, own=own, status=filters.status)
    where: list[str] = [visible]
    params: list[Any] = visible.params
    if name := filters.name:
        where.append("i.name ILIKE %s")
        params.append("%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if categories := filters.categories:
        where.append("i.category_id = ANY(%s)")
        params.append(categories)
    if styles := filters.styles:
        where.append("i.style_id = ANY(%s)")
        params.append(styles)
    if platforms := filters.platforms:
        where.append("i.render_platform_id = ANY(%s::uuid[])")
        params.append(platforms)
    if author := filters.author:
        where.append("i.author_id = (SELECT id FROM profiles WHERE username = %s)")
        params.append(author)
    if brand := filters.has_models_of_brand:
        where.append(
            "EXISTS (SELECT 1 FROM interior_tags t JOIN models m ON m.id = t.model_id"
            " WHERE t.interior_id = i.id AND m.brand_id = %s)"
        )
        params.append(brand)
    return where, params


BRANCH_COLUMNS = """i.id, i.slug, i.name, i.status, i.category_id, i.style_id, i.render_platform_id,
    i.views_count, i.likes_count, i.saves_count, i.created_at, i.author_id"""
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


def branches_of(where: list[str], params: list[Any]) -> list[tuple[str, list[Any]]]:
    """The list's WHERE as disjoint (condition, params) branches: the visibility's, each AND the filters."""
    if where and isinstance(where[0], Visibility):
        visible, rest = where[0], where[1:]
        rest_params = params[len(visible.params):]
        arms = [(sql, list(arm_params)) for sql, arm_params in visible.branches] or [("FALSE", [])]
        return [(" AND ".join([sql, *rest]), [*arm_params, *rest_params]) for sql, arm_params in arms]
    return [(" AND ".join(where) or "TRUE", list(params))]


def page_sql(
    page: PageRequest, branches: list[tuple[str, list[Any]]], known_totals: list[int | None]
) -> tuple[str, list[Any]]:
    """The page query: a capped count per branch whose total is not known yet, then the page's rows.

    Each branch is one UNION ALL arm with the keyset, ORDER BY and LIMIT (offset + limit) inside it: an
    arm with a WHERE is planned as its own subquery, which only knows to follow an index when it has its
    own ORDER BY ... LIMIT. The ORDER BY ... LIMIT over the union then merges the arms (a Merge Append,
    no Sort); the branches are disjoint, so no row comes twice.
    """
    keyset, keyset_params = "TRUE", []
    if page.cursor is not None:
        op = "<" if page.descending else ">"
        keyset = f"({page.order_sql}, i.id) {op} (%s::{CURSOR_CASTS[page.order_key]}, %s::uuid)"
        keyset_params = [page.cursor[0], page.cursor[1]]
    counters: list[str] = []
    params: list[Any] = []
    for k, ((condition, branch_params), known) in enumerate(zip(branches, known_totals, strict=True)):
        if known is not None:
            counters.append(f"NULL::bigint AS total{k}")
        else:
            counters.append(
                f"(SELECT count(*) FROM (SELECT 1 FROM interiors i WHERE {condition} LIMIT {COUNT_CAP + 1}) c)"  # noqa: S608
                f" AS total{k}"
            )
            params += branch_params
    order = page.order_clause("i.id")
    offset = 0 if page.cursor is not None else page.offset
    arms = []
    for condition, branch_params in branches:
        arms.append(
            f"(SELECT {BRANCH_COLUMNS} FROM interiors i WHERE {condition} AND {keyset}"  # noqa: S608
            f" ORDER BY {order} LIMIT %s)"
        )
        params += [*branch_params, *keyset_params, offset + page.limit]
    params += [page.limit, offset]
    union = " UNION ALL ".join(arms)
    sql = (
        f"SELECT t.*, p.* FROM (SELECT {', '.join(counters)}) t"  # noqa: S608 - fragments are code, values are params
        f" LEFT JOIN LATERAL (SELECT {ROW_COLUMNS} FROM"
        f" (SELECT * FROM ({union}) i ORDER BY {order} LIMIT %s OFFSET %s) i {CARD_JOINS}"
        f" ORDER BY {order}) p ON true"
    )
    return sql, params


async def interiors_page(
    page: PageRequest, where: list[str], params: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of cards and the pagination block, in one round trip.

    Rows come in index order (a merge of one index scan per visibility branch, see `page_sql`) and
    are shaped in Python. Each branch's total is counted inline up to COUNT_CAP; a bigger one is
    counted exactly once per process and then served from `count_cache`, refreshed in the background
    every 10 s (stale-while-revalidate), so no request ever waits on a full count after the first. The
    approved branch's count is the same statement for everyone, so signed-in users share the public's.
    """
    branches = branches_of(where, params)
    count_keys: list[tuple[str, bytes]] = []
    known_totals: list[int | None] = []
    for condition, branch_params in branches:
        count_sql = _count_sql(condition)
        key = (count_sql, msgspec.json.encode(branch_params, enc_hook=str))
        count_keys.append(key)
        # A big total counted before: skip even the capped count (a stale one is refreshed in the background).
        known_totals.append(count_cache.stale(
            key, lambda s=count_sql, p=branch_params: fetch_val(s, p), keep=lambda n: n is not None and n > COUNT_CAP
        ))
    sql, sql_params = page_sql(page, branches, known_totals)
    rows = await fetch_all(sql, sql_params)
    total = 0
    for k, (known, (condition, branch_params)) in enumerate(zip(known_totals, branches, strict=True)):
        if known is not None:
            total += known
            continue
        counted = rows[0][f"total{k}"] if rows else 0
        if counted > COUNT_CAP:
            count_sql = _count_sql(condition)
            counted = await count_cache.get(count_keys[k], lambda s=count_sql, p=branch_params: fetch_val(s, p))
        total += counted
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


# Counts -------------------------------------------------------------------------------------------------

COUNTS_BY_STATUS = """
SELECT count(*) FILTER (WHERE status = 1) AS approved, count(*) FILTER (WHERE status = 0) AS pending,
       count(*) FILTER (WHERE status = 2) AS rejected, count(*) AS all
FROM interiors WHERE NOT is_deleted"""
APPROVED_COUNT = "SELECT count(*) AS approved FROM interiors WHERE status = 1 AND NOT is_deleted"


# Writes -------------------------------------------------------------------------------------------------

SLUG_TAKEN = "SELECT 1 FROM interiors WHERE slug = %s AND id IS DISTINCT FROM %s"
INSERT_INTERIOR = """INSERT INTO interiors (slug, name, description, author_id, category_id, style_id,
                                              render_platform_id)
                       VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id"""


def update_interior_sql(columns: Iterable[str]) -> str:
    """UPDATE of the given columns (each a `%(name)s` param) and `updated_at`, for `%(id)s`."""
    assignments = ", ".join(f"{k} = %({k})s" for k in columns)
    return f"UPDATE interiors SET {assignments}, updated_at = now() WHERE id = %(id)s"  # noqa: S608 - names are code


SOFT_DELETE = "UPDATE interiors SET is_deleted = true, deleted_at = now(), updated_at = now() WHERE id = %s"
SET_STATUS = "UPDATE interiors SET status = %s, updated_at = now() WHERE id = %s"

# References an interior points at, each with its kind
CATEGORY_TYPE = "SELECT type FROM categories WHERE id = %s"
STYLE_TYPE = "SELECT type FROM styles WHERE id = %s"
PLATFORM_TYPE = "SELECT type FROM platforms WHERE id = %s"


# Images -------------------------------------------------------------------------------------------------

INSERT_IMAGE = "INSERT INTO interior_images (interior_id, image_src, is_main, position) VALUES (%s, %s, %s, %s)"
DELETE_IMAGES = "DELETE FROM interior_images WHERE interior_id = %s AND id = ANY(%s::uuid[]) RETURNING image_src"
DELETE_COVER = "DELETE FROM interior_images WHERE interior_id = %s AND is_main RETURNING image_src"
NEXT_IMAGE_POSITION = "SELECT coalesce(max(position), 0) + 1 FROM interior_images WHERE interior_id = %s"
GALLERY_SIZE = "SELECT count(*) FROM interior_images WHERE interior_id = %s AND NOT is_main"
IMAGES_COVER_FIRST = (
    "SELECT id, is_main FROM interior_images WHERE interior_id = %s ORDER BY is_main DESC, position, created_at"
)
MAKE_COVER = "UPDATE interior_images SET is_main = true WHERE id = %s"
IMAGE_INTERIOR = "SELECT interior_id FROM interior_images WHERE id = %s"


# Likes and views ----------------------------------------------------------------------------------------

INSERT_LIKE = "INSERT INTO interior_likes (interior_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
DELETE_LIKE = "DELETE FROM interior_likes WHERE interior_id = %s AND user_id = %s RETURNING 1"
LIKES_COUNT = "SELECT likes_count FROM interiors WHERE id = %s"
INSERT_VIEW = "INSERT INTO interior_views (interior_id, viewer) VALUES (%s, %s) ON CONFLICT DO NOTHING"
