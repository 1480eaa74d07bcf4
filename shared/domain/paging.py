"""One statement per list page: the total and the page's rows (JSON built by PostgreSQL).

The rows come back as JSON text and are embedded in the answer with `msgspec.Raw`, so Python neither
parses nor re-encodes them. Keyset cursors carry the last row's (sort value, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from shared.db import fetch_all
from shared.http.pagination import PageRequest, encode_cursor, pagination


@dataclass(frozen=True)
class Page:
    total: int
    rows: msgspec.Raw | list[Any]
    next_cursor: str | None
    page: PageRequest

    def answer(self, key: str) -> dict[str, Any]:
        return {key: self.rows, "pagination": pagination(self.page, self.total, self.next_cursor)}


def raw_array(items: list[str]) -> msgspec.Raw:
    return msgspec.Raw(("[" + ",".join(items) + "]").encode())


async def paged(
    *, base: str, params: dict[str, Any], page: PageRequest, row_json: str, id_sql: str, cast: str,
    id_cast: str = "uuid",
) -> Page:
    """`base` is `FROM ... WHERE ...`; `row_json` builds one row; `cast` types the cursor value."""
    op = "<" if page.descending else ">"
    keyset = "TRUE"
    values = {**params, "limit": page.limit + 1, "offset": 0 if page.cursor else page.offset}
    if page.cursor is not None:
        keyset = f"({page.order_sql}, {id_sql}) {op} (%(cursor_value)s::{cast}, %(cursor_id)s::{id_cast})"
        values.update(cursor_value=page.cursor[0], cursor_id=page.cursor[1])
    sql = f"""
SELECT t.total, p.j::text AS j, p.sort_value, p.row_id FROM (SELECT count(*) AS total {base}) t
LEFT JOIN LATERAL (
    SELECT {row_json} AS j, {page.order_sql} AS sort_value, {id_sql} AS row_id {base} AND {keyset}
    ORDER BY {page.order_clause(id_sql)} LIMIT %(limit)s OFFSET %(offset)s
) p ON true"""  # noqa: S608 - fragments are code, values are parameters
    rows = await fetch_all(sql, values)
    total = rows[0]["total"] if rows else 0
    items = [r for r in rows if r["j"] is not None]
    next_cursor = None
    if len(items) > page.limit:
        items = items[: page.limit]
        last = items[-1]
        next_cursor = encode_cursor(page.order_key, last["sort_value"], last["row_id"])
    return Page(total, raw_array([r["j"] for r in items]), next_cursor, page)
