"""Statistics rollups: after every kind of write (single rows, bulk statements, COPY, deletes, model,
interior and profile changes) the daily rollups equal a recount from the raw tables.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from functions.statistics.rollups import cache, forget_checked_zones

ZONE = "Asia/Tashkent"

RECOUNT_MODELS = """
SELECT day, model_id, brand_id, category_id, sum(dl)::int AS downloads, sum(tg)::int AS tags FROM (
    SELECT (e.created_at AT TIME ZONE %(zone)s)::date AS day, m.id AS model_id, m.brand_id, m.category_id,
           1 AS dl, 0 AS tg
    FROM downloads e JOIN models m ON m.id = e.model_id WHERE NOT m.is_deleted
    UNION ALL
    SELECT (e.created_at AT TIME ZONE %(zone)s)::date, m.id, m.brand_id, m.category_id, 0, 1
    FROM interior_tags e JOIN models m ON m.id = e.model_id JOIN interiors i ON i.id = e.interior_id
    WHERE NOT m.is_deleted AND i.status = 1 AND NOT i.is_deleted
) x GROUP BY 1, 2, 3, 4 ORDER BY 1, 2"""
RECOUNT_SITE = """
SELECT day, sum(r)::int AS registrations, sum(i)::int AS interiors FROM (
    SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, 1 AS r, 0 AS i FROM profiles WHERE role_id = 3
    UNION ALL
    SELECT (created_at AT TIME ZONE %(zone)s)::date, 0, 1 FROM interiors WHERE status = 1 AND NOT is_deleted
) x GROUP BY 1 ORDER BY 1"""


def assert_rollups_match(sql, zone: str = ZONE) -> None:
    models = sql(RECOUNT_MODELS, {"zone": zone})
    assert sql("SELECT day, model_id, brand_id, category_id, downloads, tags FROM stats_daily_model"
               " ORDER BY 1, 2") == models
    pairs: dict[tuple, list[int]] = {}
    for r in models:
        sums = pairs.setdefault((r["day"], r["brand_id"], r["category_id"]), [0, 0])
        sums[0] += r["downloads"]
        sums[1] += r["tags"]
    stored = sql("SELECT day, brand_id, category_id, downloads, tags FROM stats_daily_brand_category")
    assert {(r["day"], r["brand_id"], r["category_id"]): [r["downloads"], r["tags"]] for r in stored} == pairs
    assert len(stored) == len(pairs)
    days: dict = {}
    for r in models:
        sums = days.setdefault(r["day"], [0, 0])
        sums[0] += r["downloads"]
        sums[1] += r["tags"]
    site = {r["day"]: [r["registrations"], r["interiors"], 0, 0] for r in sql(RECOUNT_SITE, {"zone": zone})}
    for day, (dl, tg) in days.items():
        site.setdefault(day, [0, 0, 0, 0])[2:] = [dl, tg]
    stored = sql("SELECT day, registrations, interiors, downloads, tags FROM stats_daily_site")
    assert {r["day"]: [r["registrations"], r["interiors"], r["downloads"], r["tags"]] for r in stored} == site


@pytest.fixture(autouse=True)
def no_cache():
    cache.clear()
    cache._ttl = 0
    yield
    cache.clear()


def new_model(sql, world, brand_id=None) -> str:
    slug = f"rollup-{uuid.uuid4().hex[:10]}"
    return str(sql("INSERT INTO models (slug, name, brand_id, category_id) VALUES (%s, 'Rollup', %s, %s)"
                   " RETURNING id", (slug, brand_id or world["brand_id"], world["model_category_id"]))[0]["id"])


def pin(sql, interior, model, created_at=None) -> None:
    sql("INSERT INTO interior_tags (interior_id, interior_image_id, model_id, x, y, created_at)"
        " VALUES (%s, %s, %s, 10, 10, coalesce(%s, now()))",
        (interior["id"], interior["images"][0]["id"], model, created_at))


async def test_downloads_single_bulk_copy_and_deletes(sql, world, make_user, database):
    sofa, chair = world["models"][:2]
    lamp = world["other_model"]
    user = await make_user()
    sql("INSERT INTO downloads (user_id, model_id) VALUES (%s, %s)", (user["id"], sofa))
    # one statement, many days and models (NULL users are not unique)
    sql("""INSERT INTO downloads (user_id, model_id, created_at)
           SELECT NULL, (ARRAY[%s, %s, %s]::uuid[])[1 + i %% 3], now() - i * interval '5 hours'
           FROM generate_series(1, 3000) i""", (sofa, chair, lamp))
    assert_rollups_match(sql)
    # COPY fires the statement triggers once per COPY
    with psycopg.connect(database, autocommit=True) as conn, conn.cursor().copy(
        "COPY downloads (user_id, model_id, created_at) FROM STDIN"
    ) as copy:
        start = datetime.now(UTC)
        for i in range(2000):
            copy.write_row((None, (sofa, chair, lamp)[i % 3], start - timedelta(hours=7 * i, minutes=i)))
    assert_rollups_match(sql)
    sql("DELETE FROM downloads WHERE id % 4 = 0")
    sql("DELETE FROM downloads WHERE id = (SELECT max(id) FROM downloads)")
    # a moved event (nothing in the API does it, the trigger still follows)
    sql("UPDATE downloads SET created_at = created_at - interval '3 days', model_id = %s"
        " WHERE id IN (SELECT id FROM downloads ORDER BY id LIMIT 50)", (lamp,))
    assert_rollups_match(sql)
    # bucketed by the business day: 20:30 UTC is the next day in Tashkent
    sql("INSERT INTO downloads (user_id, model_id, created_at) VALUES (NULL, %s, '2025-03-01 20:30:00+00')", (sofa,))
    assert sql("SELECT downloads FROM stats_daily_model WHERE day = '2025-03-02' AND model_id = %s", (sofa,)) == [
        {"downloads": 1}]


async def test_tags_follow_interior_status_and_deletes(sql, world, make_user, make_interior):
    sofa, chair = world["models"][:2]
    designer = await make_user()
    approved = await make_interior(designer, status=1, name="Rollup approved")
    pending = await make_interior(designer, status=0, name="Rollup pending")
    doomed = await make_interior(designer, status=1, name="Rollup doomed")
    for interior in (approved, pending, doomed):
        pin(sql, interior, sofa)
        pin(sql, interior, chair, datetime.now(UTC) - timedelta(days=40))
    sql("""INSERT INTO interior_tags (interior_id, interior_image_id, model_id, x, y, created_at)
           SELECT %s, %s, %s, 1, 1, now() - i * interval '11 hours' FROM generate_series(1, 500) i""",
        (approved["id"], approved["images"][1]["id"], chair))
    assert_rollups_match(sql)
    sql("UPDATE interiors SET status = 1 WHERE id = %s", (pending["id"],))  # approved: its pins count now
    assert_rollups_match(sql)
    sql("UPDATE interiors SET status = 2 WHERE id = %s", (approved["id"],))  # rejected: out again
    assert_rollups_match(sql)
    sql("UPDATE interiors SET status = 1, created_at = created_at - interval '2 days' WHERE id = %s",
        (approved["id"],))
    sql("UPDATE interior_tags SET created_at = created_at - interval '1 day' WHERE id IN"
        " (SELECT id FROM interior_tags WHERE interior_id = %s LIMIT 5)", (approved["id"],))
    assert_rollups_match(sql)
    sql("UPDATE interiors SET is_deleted = true, deleted_at = now() WHERE id = %s", (pending["id"],))
    sql("DELETE FROM interior_tags WHERE id IN (SELECT id FROM interior_tags WHERE interior_id = %s LIMIT 100)",
        (approved["id"],))
    assert_rollups_match(sql)
    sql("DELETE FROM interiors WHERE id = %s", (doomed["id"],))  # hard delete: pins cascade
    assert_rollups_match(sql)


async def test_model_changes_move_their_counts(sql, world, make_user, make_interior):
    designer = await make_user()
    interior = await make_interior(designer, status=1, name="Rollup models")
    model = new_model(sql, world)
    gone = new_model(sql, world)
    for m in (model, gone):
        sql("""INSERT INTO downloads (user_id, model_id, created_at)
               SELECT NULL, %s, now() - i * interval '13 hours' FROM generate_series(1, 200) i""", (m,))
        pin(sql, interior, m)
    assert_rollups_match(sql)
    sql("UPDATE models SET brand_id = %s WHERE id = %s", (world["other_brand_id"], model))
    assert_rollups_match(sql)
    other_category = sql("INSERT INTO categories (name, type) VALUES (%s, 'model') RETURNING id",
                         (f"Rollup {uuid.uuid4().hex[:6]}",))[0]["id"]
    sql("UPDATE models SET category_id = %s WHERE id = %s", (other_category, model))
    assert_rollups_match(sql)
    sql("UPDATE models SET brand_id = NULL WHERE id = %s", (model,))
    assert_rollups_match(sql)
    sql("UPDATE models SET is_deleted = true, deleted_at = now() WHERE id = %s", (model,))
    assert sql("SELECT count(*) AS n FROM stats_daily_model WHERE model_id = %s", (model,))[0]["n"] == 0
    sql("INSERT INTO downloads (user_id, model_id) VALUES (NULL, %s)", (model,))  # a deleted model's: not counted
    assert_rollups_match(sql)
    sql("UPDATE models SET is_deleted = false, deleted_at = NULL, brand_id = %s WHERE id = %s",
        (world["brand_id"], model))
    assert_rollups_match(sql)
    sql("DELETE FROM models WHERE id = %s", (gone,))  # hard delete: events cascade
    assert sql("SELECT count(*) AS n FROM stats_daily_model WHERE model_id = %s", (gone,))[0]["n"] == 0
    assert_rollups_match(sql)


async def test_registrations_and_interiors_follow_profiles(sql, world, make_user, make_interior):
    designer = await make_user()
    other = await make_user()
    await make_interior(designer, status=1, name="Rollup site")
    assert_rollups_match(sql)
    sql("UPDATE profiles SET created_at = created_at - interval '45 days' WHERE id = %s", (other["id"],))
    sql("UPDATE profiles SET role_id = 1 WHERE id = %s", (designer["id"],))
    assert_rollups_match(sql)
    sql("DELETE FROM profiles WHERE id = %s", (other["id"],))
    sql("DELETE FROM profiles WHERE id = %s", (designer["id"],))  # its interiors are soft-deleted
    assert_rollups_match(sql)


async def test_rebuild_for_another_zone_and_api_restores_the_configured_one(client, admin, sql, world):
    sql("SELECT stats_rebuild('UTC')")
    assert sql("SELECT zone FROM stats_settings") == [{"zone": "UTC"}]
    assert_rollups_match(sql, "UTC")
    forget_checked_zones()
    r = await client.get("/api/statistics/downloads/chart?period=week", headers=admin.auth)
    assert r.status_code == 200, r.text
    assert sql("SELECT zone FROM stats_settings") == [{"zone": ZONE}]
    assert_rollups_match(sql)


async def test_answers_equal_a_raw_recount(client, admin, make_brand_user, sql, world):
    own = await make_brand_user(world["brand_id"])
    raw = sql("""SELECT m.id, count(*) AS n FROM downloads e JOIN models m ON m.id = e.model_id
                 WHERE NOT m.is_deleted AND m.brand_id = %s
                   AND (e.created_at AT TIME ZONE %s)::date > (now() AT TIME ZONE %s)::date - 365
                 GROUP BY 1 ORDER BY 2 DESC, 1""", (world["brand_id"], ZONE, ZONE))
    assert raw
    data = (await client.get("/api/statistics/models?period=year&limit=100", headers=own.auth)).json()["data"]
    assert [(m["id"], m["downloads_count"]) for m in data["top_list"]] == [(str(r["id"]), r["n"]) for r in raw]
    assert data["count"] == sum(r["n"] for r in raw)
    chart = (await client.get("/api/statistics/downloads/chart?period=year", headers=own.auth)).json()["data"]
    assert len(chart["chart_data"]["daily_downloads"]) == 365 and chart["count"] == data["count"]
    brands = (await client.get("/api/statistics/brands?period=year&limit=100", headers=admin.auth)).json()["data"]
    by_brand = {b["id"]: b["downloads_count"] for b in brands["top_list"]}
    assert by_brand[world["brand_id"]] == data["count"]
