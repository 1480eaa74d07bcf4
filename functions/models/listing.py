"""How `GET /api/models` makes a page from the two availability branches (queries/lists.py).

Most pages come from one statement; a page that crosses into the unavailable tail takes two or three.
Rows are shaped in Python (cheaper than json_build_object per row in PostgreSQL).

`data_count` is exact up to COUNT_CAP matching rows (counting stops there, so the cost is bounded);
above it the exact total comes from a count cached per filter for COUNT_TTL_S seconds, and while
that is fresh the page statement skips counting altogether. Only big totals are ever cached, so a
small list's count is always exact; a big one may lag by up to COUNT_TTL_S.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from functions.models.queries.lists import (
    COUNT_CAP,
    ModelFilters,
    available_count,
    branch_query,
    count_models,
    cursor_parts,
    list_models_query,
)
from shared.db import fetch_all
from shared.domain.common import image_prefix
from shared.domain.paging import Page
from shared.http.pagination import PageRequest, encode_cursor

COUNT_TTL_S = 30.0


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


async def list_models(filters: ModelFilters, page: PageRequest) -> Page:
    """Available models first, then unavailable ones: each part is an index-ordered branch. Most pages
    come from one statement; a page that crosses into the unavailable tail takes two or three."""
    known = count_cache.peek(filters)
    need = page.limit + 1
    in_tail = page.cursor is not None and cursor_parts(page.cursor[0])[0]
    first = list_models_query(filters, page, with_count=known is None)
    rows = await fetch_all(first.sql, first.params)
    total = known if known is not None else (rows[0]["total"] if rows else 0)
    items = [(in_tail, r) for r in rows if r["id"] is not None]
    if not in_tail and len(items) < need:
        offset = 0
        if page.cursor is None and page.offset and not items:
            offset = max(0, page.offset - await available_count(filters))
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
