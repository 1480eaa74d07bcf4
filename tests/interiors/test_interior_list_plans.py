"""The interiors list plans index-ordered for every viewer, orderBy and direction once the table is big.

20,000 interiors (mostly approved, some pending/rejected, the signed-in author owning a few of each),
ANALYZEd, and the statement `interiors_page` would run EXPLAINed as built: no Seq Scan on interiors in the
page, no Sort over interiors anywhere, and the signed-in and admin pages merge their branches (Merge
Append). The old single-condition statement is EXPLAINed too, to show the data is big enough to matter.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from functions.interiors.inputs import list_filters
from functions.interiors.queries import ORDER_COLUMNS, branches_of, list_where, page_sql
from shared.auth.guard import CurrentUser
from shared.http.pagination import encode_cursor, page_request

ROWS = 20_000


def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/api/interiors", "headers": [],
                    "query_string": query.encode()})


def viewer(user_id: str, role: str) -> CurrentUser:
    return CurrentUser(user_id, "x@example.com", "x", "X", role, 1 if role == "admin" else 2, None, "", {})


def nodes(plan: dict[str, Any], ancestors: tuple[dict[str, Any], ...] = ()) -> list[tuple[dict, tuple]]:
    out = [(plan, ancestors)]
    for child in plan.get("Plans", []):
        out += nodes(child, (*ancestors, plan))
    return out


def scans_interiors(plan: dict[str, Any]) -> bool:
    return any(n.get("Relation Name") == "interiors" for n, _ in nodes(plan))


def sorted_unbounded(ancestors: tuple[dict[str, Any], ...]) -> bool:
    """A Sort above this scan with no Limit in between: the rows are sorted, not read in index order.
    Sorting the page's 16 rows after the joins (above the Limit) is fine, and so is an Incremental Sort
    (the index gives the order; it only orders ids within equal sort values, as it reads)."""
    for node in reversed(ancestors):
        if node["Node Type"] == "Limit":
            return False
        if node["Node Type"] == "Sort":
            return True
    return False


def explain(sql: Any, statement: str, params: list[Any]) -> dict[str, Any]:
    return sql("EXPLAIN (FORMAT JSON) " + statement, params)[0]["QUERY PLAN"][0]["Plan"]


def shape(plan: dict[str, Any]) -> str:
    return " / ".join(f"{n['Node Type']}{' ' + n['Index Name'] if 'Index Name' in n else ''}" for n, _ in nodes(plan))


_BIG: dict[str, dict[str, str]] = {}  # per module database: the rows are made once


@pytest.fixture
async def big(make_user: Any, sql: Any, database: str) -> dict[str, str]:
    if database not in _BIG:
        _BIG[database] = await make_big(make_user, sql)
    return _BIG[database]


async def make_big(make_user: Any, sql: Any) -> dict[str, str]:
    me, other = await make_user(), await make_user()
    sql(
        "INSERT INTO interiors (slug, name, author_id, status, is_deleted, views_count, likes_count, saves_count,"
        " created_at)"
        " SELECT 'big-' || g, 'Big ' || g, CASE WHEN g %% 2 = 0 THEN %(other)s::uuid END,"
        "  CASE WHEN g %% 20 = 0 THEN 0 WHEN g %% 33 = 0 THEN 2 ELSE 1 END, g %% 97 = 0,"
        "  (g::bigint * 7919) %% 5000, (g::bigint * 104729) %% 300, (g::bigint * 1299709) %% 120,"
        "  timestamptz '2025-01-01' + g * interval '17 minutes'"
        " FROM generate_series(1, %(rows)s) g",
        {"other": other["id"], "rows": ROWS},
    )
    sql(
        "INSERT INTO interiors (slug, name, author_id, status, views_count, likes_count, saves_count, created_at)"
        " SELECT 'mine-' || g, 'Mine ' || g, %(me)s::uuid, g %% 3, g * 31, g, g %% 4,"
        "  timestamptz '2025-03-01' + g * interval '5 days'"
        " FROM generate_series(1, 24) g",
        {"me": me["id"]},
    )
    sql("ANALYZE interiors")
    return {"me": me["id"]}


def statements(user: CurrentUser | None, order_by: str, direction: str, *, known: bool) -> list[tuple[str, list]]:
    """The list's statement for the first page, page 3 (offset) and a cursor page."""
    out = []
    cursor = encode_cursor(order_by, "2025-06-01T00:00:00.000000Z" if order_by == "created_at" else "50",
                           "80000000-0000-0000-0000-000000000000")
    for extra in ("", "&page=3", f"&cursor={cursor}"):
        req = request(f"orderBy={order_by}&order={direction}&limit=16{extra}")
        where, params = list_where(list_filters(req.query_params), user)
        branches = branches_of(where, params)
        out.append(page_sql(page_request(req, ORDER_COLUMNS), branches, [99_999 if known else None] * len(branches)))
    return out


@pytest.mark.parametrize("role", ["author", "admin", "anonymous"])
async def test_list_pages_are_index_ordered_on_a_big_table(sql, big, role):
    user = None if role == "anonymous" else viewer(big["me"], "admin" if role == "admin" else "designer")
    for order_by in ORDER_COLUMNS:
        for direction in ("desc", "asc"):
            for known in (True, False):
                for statement, params in statements(user, order_by, direction, known=known):
                    plan = explain(sql, statement, params)
                    where = f"{role} {order_by} {direction} known_total={known}: {shape(plan)}"
                    for node, ancestors in nodes(plan):
                        if node.get("Relation Name") != "interiors":
                            continue
                        assert not sorted_unbounded(ancestors), f"Sort over interiors: {where}"
                        if node["Node Type"] == "Seq Scan":
                            # only the capped inline count may read rows in table order, and stops at its LIMIT
                            assert not known and any(a["Node Type"] == "Limit" for a in ancestors), where
                            assert all(a["Node Type"] != "Merge Append" for a in ancestors), where
                    if role != "anonymous":
                        assert any(n["Node Type"] == "Merge Append" for n, _ in nodes(plan)), where


async def test_the_old_signed_in_condition_sorted_the_table(sql, big):
    """The data is big enough to matter: the single `status = 1 OR author_id = me` condition sorts it."""
    req = request("orderBy=likes&limit=16")
    statement, params = page_sql(
        page_request(req, ORDER_COLUMNS),
        branches_of(["NOT i.is_deleted AND (i.status = 1 OR i.author_id = %s)"], [big["me"]]), [99_999],
    )
    plan = explain(sql, statement, params)
    scans = [a for n, a in nodes(plan) if n.get("Relation Name") == "interiors"]
    assert any(sorted_unbounded(a) for a in scans), shape(plan)
