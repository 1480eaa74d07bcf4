"""GET /api/interiors as the visibility branches merge: every order, both directions, page and cursor paging
give exactly the rows (and total) of the plain reference query `WHERE <visible> ORDER BY col, id`.

Kept small (under the count cache's cap) and in its own module, so totals are always counted inline.
"""

from __future__ import annotations

from typing import Any

import pytest

ORDERS = {"created_at": "created_at", "views": "views_count", "likes": "likes_count", "saves": "saves_count"}
LIMIT = 7


def seed(sql: Any, me: str, other: str) -> None:
    """60 interiors: every status, authors me / other / none, some deleted, many ties in every order column."""
    sql(
        "INSERT INTO interiors (slug, name, author_id, status, is_deleted, views_count, likes_count, saves_count,"
        " created_at)"
        " SELECT 'merge-' || g, 'Merge ' || g,"
        "  CASE WHEN g %% 3 = 0 THEN %(me)s::uuid WHEN g %% 3 = 1 THEN %(other)s::uuid END,"
        "  (g / 3) %% 3, g %% 11 = 0, g %% 4, g %% 3, (g * 5) %% 7,"
        "  timestamptz '2026-01-01' + (g %% 9) * interval '1 day'"
        " FROM generate_series(1, 60) g",
        {"me": me, "other": other},
    )


def reference(sql: Any, visible: str, params: dict[str, Any], col: str, direction: str) -> list[str]:
    rows = sql(
        f"SELECT id::text AS id FROM interiors WHERE {visible} ORDER BY {col} {direction}, id {direction}",  # noqa: S608
        params,
    )
    return [r["id"] for r in rows]


async def walk(client: Any, query: str, headers: dict[str, str]) -> tuple[list[str], list[str], int]:
    """All ids by page=1..n and by following next_cursor; plus the reported total."""
    by_page: list[str] = []
    page = 1
    while True:
        r = await client.get(f"/api/interiors?{query}&limit={LIMIT}&page={page}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()["data"]
        by_page += [i["id"] for i in body["interiors"]]
        total = body["pagination"]["data_count"]
        if body["pagination"]["next"] is None:
            break
        page += 1
    by_cursor: list[str] = []
    cursor = ""
    while True:
        r = await client.get(f"/api/interiors?{query}&limit={LIMIT}{cursor}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()["data"]
        by_cursor += [i["id"] for i in body["interiors"]]
        assert body["pagination"]["data_count"] == total
        token = body["pagination"].get("next_cursor")
        if not token:
            break
        cursor = f"&cursor={token}"
    return by_page, by_cursor, total


_PEOPLE: dict[str, dict[str, Any]] = {}  # per module database: the accounts and rows are made once


@pytest.fixture
async def people(make_user: Any, sql: Any, database: str) -> dict[str, Any]:
    if database not in _PEOPLE:
        me, other, admin = await make_user(), await make_user(), await make_user("admin")
        seed(sql, me["id"], other["id"])
        _PEOPLE[database] = {"me": me, "other": other, "admin": admin}
    return _PEOPLE[database]


VIEWERS = {
    "anonymous": ("status = 1 AND NOT is_deleted", None),
    "author": ("NOT is_deleted AND (status = 1 OR author_id = %(me)s::uuid)", "me"),
    "admin": ("NOT is_deleted", "admin"),
}


@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("order_by", list(ORDERS))
async def test_merged_list_matches_the_reference_in_every_order(client, sql, people, viewer, order_by):
    visible, who = VIEWERS[viewer]
    headers = people[who].auth if who else {}
    params = {"me": people["me"]["id"]}
    own_unapproved = sql(
        "SELECT count(*) AS n FROM interiors WHERE author_id = %s AND status <> 1 AND NOT is_deleted",
        (people["me"]["id"],),
    )[0]["n"]
    assert own_unapproved >= 5  # the author's pending/rejected rows really take part in the merge
    for direction in ("desc", "asc"):
        expected = reference(sql, visible, params, ORDERS[order_by], direction)
        by_page, by_cursor, total = await walk(client, f"orderBy={order_by}&order={direction}", headers)
        assert by_page == expected, (viewer, order_by, direction, "page")
        assert by_cursor == expected, (viewer, order_by, direction, "cursor")
        assert total == len(expected)


@pytest.mark.parametrize(
    ("viewer", "status"), [("author", 0), ("author", 1), ("author", 2), ("admin", 0), ("admin", 2), ("anonymous", 0)]
)
async def test_status_filter_narrows_the_merged_list(client, sql, people, viewer, status):
    visible, who = VIEWERS[viewer]
    headers = people[who].auth if who else {}
    expected = reference(sql, f"{visible} AND status = {status}", {"me": people["me"]["id"]}, "likes_count", "desc")
    by_page, by_cursor, total = await walk(client, f"orderBy=likes&status={status}", headers)
    assert by_page == expected and by_cursor == expected and total == len(expected)
    if viewer == "author" and status != 1:
        assert expected and all(r["author_id"] == people["me"]["id"] for r in sql(
            "SELECT author_id::text FROM interiors WHERE id = ANY(%s::uuid[])", (expected,)))


async def test_filters_apply_to_every_branch(client, sql, people):
    me = people["me"]
    expected = reference(
        sql, "NOT is_deleted AND (status = 1 OR author_id = %(me)s::uuid) AND name ILIKE '%%1%%'",
        {"me": me["id"]}, "saves_count", "asc",
    )
    by_page, by_cursor, total = await walk(client, "orderBy=saves&order=asc&name=1", me.auth)
    assert by_page == expected and by_cursor == expected and total == len(expected)
    mine = reference(sql, "NOT is_deleted AND author_id = %(me)s::uuid", {"me": me["id"]}, "created_at", "desc")
    by_page, by_cursor, total = await walk(client, f"author={me['username']}", me.auth)
    assert by_page == mine and by_cursor == mine and total == len(mine)
