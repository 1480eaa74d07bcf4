"""The interiors list query: filters, visibility, order, offset or keyset paging, total in one round trip."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from shared.auth.guard import CurrentUser
from shared.community.ids import field_uuid, query_uuid_list
from shared.community.interiors import CARD_COLUMNS, CARD_JOINS, card, visible_sql
from shared.db import connection, fetch_all, fetch_val
from shared.http.errors import ApiError, FieldError
from shared.http.pagination import PageRequest, encode_cursor, page_request, pagination
from shared.http.validation import query_int_list, query_list

ORDER_COLUMNS = {
    "created_at": "i.created_at",
    "views": "i.views_count",
    "likes": "i.likes_count",
    "saves": "i.saves_count",
}
ORDER_ROW_KEYS = {"created_at": "created_at", "views": "views_count", "likes": "likes_count", "saves": "saves_count"}


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


async def list_page(
    request: Request, where: list[str], params: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of cards and the pagination block; count and page share one round trip."""
    page: PageRequest = page_request(request, ORDER_COLUMNS)
    condition = " AND ".join(where) or "TRUE"
    keyset, keyset_params = page.keyset_condition("i.id")
    offset = 0 if page.cursor is not None else page.offset
    sql = (
        f"SELECT {CARD_COLUMNS}, (SELECT count(*) FROM interiors i WHERE {condition}) AS total_count"  # noqa: S608
        f" FROM interiors i {CARD_JOINS} WHERE {condition} AND {keyset}"
        f" ORDER BY {page.order_clause('i.id')} LIMIT %s OFFSET %s"
    )
    async with connection() as conn:
        rows = await fetch_all(sql, [*params, *params, *keyset_params, page.limit, offset], conn)
        if rows:
            total = rows[0]["total_count"]
        else:
            total = await fetch_val(f"SELECT count(*) FROM interiors i WHERE {condition}", params, conn)  # noqa: S608
    next_cursor = None
    if len(rows) == page.limit:
        last = rows[-1]
        next_cursor = encode_cursor(page.order_key, last[ORDER_ROW_KEYS[page.order_key]], last["id"])
    return [card(r) for r in rows], pagination(page, total, next_cursor)
