"""Statistics: business time zone buckets, brand scoping, approved interiors only, series shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from functions.statistics.rollups import cache


@pytest.fixture(autouse=True)
def no_cache():
    cache.clear()
    cache._ttl = 0
    yield
    cache.clear()


def local_today():
    return datetime.now(ZoneInfo("Asia/Tashkent")).date()


async def test_main_is_public_and_counts_approved_interiors_only(client, designer, make_interior, sql, world):
    await make_interior(designer, status=0, name="Stat pending")
    await make_interior(designer, status=1, name="Stat approved")
    data = (await client.get("/api/statistics/main")).json()["data"]
    expected = sql("SELECT count(*) AS n FROM interiors WHERE status = 1 AND NOT is_deleted")[0]["n"]
    assert data["interiors_count"] == expected
    assert data["models_count"] == sql("SELECT count(*) AS n FROM models WHERE NOT is_deleted")[0]["n"]
    assert data["brands_count"] >= 2 and data["designers_count"] >= 1


async def test_registrations_series_in_business_time_zone(client, admin, make_user, sql):
    user = await make_user()
    today = local_today()
    # 20:30 UTC on the previous UTC day is 01:30 today in Tashkent (+05:00)
    midnight = datetime(today.year, today.month, today.day, tzinfo=ZoneInfo("Asia/Tashkent"))
    moment = midnight + timedelta(hours=1, minutes=30)
    sql("UPDATE profiles SET created_at = %s WHERE id = %s", (moment.astimezone(UTC), user["id"]))
    r = await client.get(f"/api/statistics/registrations?month={today.month}&year={today.year}", headers=admin.auth)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    daily = data["chart_data"]["daily_registers"]
    monthly = data["chart_data"]["monthly_registers"]
    assert len(monthly) == 12 and [m["month"] for m in monthly] == list(range(1, 13))
    assert daily[0]["date"].endswith("-01") and daily[today.day - 1]["date"] == today.isoformat()
    assert daily[today.day - 1]["count"] >= 1
    assert data["count"] == sum(d["count"] for d in daily)
    assert monthly[today.month - 1]["count"] == data["count"]


async def test_interiors_series_ignore_pending(client, admin, designer, make_interior):
    today = local_today()
    before = (await client.get("/api/statistics/interiors", headers=admin.auth)).json()["data"]["count"]
    await make_interior(designer, status=0, name="Series pending")
    await make_interior(designer, status=2, name="Series rejected")
    mid = (await client.get("/api/statistics/interiors", headers=admin.auth)).json()["data"]
    assert mid["count"] == before and mid["month"] == today.month
    await make_interior(designer, status=1, name="Series approved")
    after = (await client.get("/api/statistics/interiors", headers=admin.auth)).json()["data"]
    assert after["count"] == before + 1
    assert "daily_interiors" in after["chart_data"] and "monthly_interiors" in after["chart_data"]


async def test_statistics_validation_and_auth(client, admin, designer, brand_user):
    for url, field in (
        ("/api/statistics/registrations?month=13", "month"),
        ("/api/statistics/interiors?year=abc", "year"),
        ("/api/statistics/models?topic=views", "topic"),
        ("/api/statistics/models?period=decade", "period"),
        ("/api/statistics/brands?limit=0", "limit"),
        ("/api/statistics/tags/chart?period=all", "period"),
        ("/api/statistics/models?brand_id=nope", "brand_id"),
    ):
        r = await client.get(url, headers=admin.auth)
        assert r.status_code == 400, url
        assert r.json()["errors"][0]["field"] == field
    for url in ("/api/statistics/registrations", "/api/statistics/interiors"):
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=designer.auth)).status_code == 403
        assert (await client.get(url, headers=brand_user.auth)).status_code == 403
    for url in ("/api/statistics/models", "/api/statistics/brands", "/api/statistics/categories",
                "/api/statistics/downloads/chart", "/api/statistics/tags/chart"):
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=designer.auth)).status_code == 403
        assert (await client.get(url, headers=brand_user.auth)).status_code == 200


async def test_top_lists_and_charts_are_scoped_and_count_approved_tags(
    client, admin, make_user, make_brand_user, make_interior, world, sql
):
    own = await make_brand_user(world["brand_id"])
    other = await make_brand_user(world["other_brand_id"])
    designer = await make_user()
    sofa, chair = world["models"][:2]
    lamp = world["other_model"]
    downloaders = [await make_user() for _ in range(3)]
    for user in downloaders:
        sql("INSERT INTO downloads (user_id, model_id) VALUES (%s, %s)", (user["id"], sofa))
    sql("INSERT INTO downloads (user_id, model_id) VALUES (%s, %s)", (downloaders[0]["id"], chair))
    sql("INSERT INTO downloads (user_id, model_id) VALUES (%s, %s)", (downloaders[0]["id"], lamp))
    sql("INSERT INTO downloads (user_id, model_id, created_at) VALUES (%s, %s, now() - interval '400 days')",
        (downloaders[1]["id"], lamp))
    approved = await make_interior(designer, status=1, name="Stat tags approved")
    pending = await make_interior(designer, status=0, name="Stat tags pending")
    for interior in (approved, pending):
        for model in (chair, chair, lamp):
            r = await client.post("/api/tags", headers=designer.auth, json={
                "interior_id": interior["id"], "interior_image_id": interior["images"][0]["id"],
                "model_id": model, "x": 50, "y": 50})
            assert r.status_code == 201

    r = await client.get("/api/statistics/models?topic=downloads&period=week&limit=5", headers=admin.auth)
    data = r.json()["data"]
    by_id = {m["id"]: m for m in data["top_list"]}
    assert data["top_list"][0]["id"] == sofa and by_id[sofa]["downloads_count"] == 3
    assert by_id[chair]["tags_count"] == 2  # the pending interior's pins are not counted
    assert data["count"] == 5
    fields = {"name", "slug", "downloads_count", "tags_count", "models_count", "category_name"}
    assert set(data["top_list"][0]) >= fields
    assert data["top_list"][0]["category_name"] == "Sofas"

    r = await client.get("/api/statistics/models?topic=tags&period=year", headers=admin.auth)
    assert r.json()["data"]["count"] == 3 and r.json()["data"]["top_list"][0]["id"] == chair

    r = await client.get("/api/statistics/models?period=year", headers=own.auth)
    ids = {m["id"] for m in r.json()["data"]["top_list"]}
    assert ids == {sofa, chair} and r.json()["data"]["count"] == 4
    # a brand account cannot widen its scope
    r = await client.get(f"/api/statistics/models?period=year&brand_id={world['other_brand_id']}", headers=own.auth)
    assert {m["id"] for m in r.json()["data"]["top_list"]} == {sofa, chair}
    r = await client.get("/api/statistics/models?period=year", headers=other.auth)
    assert {m["id"] for m in r.json()["data"]["top_list"]} == {lamp} and r.json()["data"]["count"] == 1

    brands = (await client.get("/api/statistics/brands?period=month", headers=admin.auth)).json()["data"]
    assert brands["top_list"][0]["slug"] == "community-brand" and brands["top_list"][0]["downloads_count"] == 4
    cats = (await client.get("/api/statistics/categories?topic=tags", headers=admin.auth)).json()["data"]
    assert cats["top_list"][0]["name"] == "Sofas" and cats["top_list"][0]["tags_count"] == 3

    chart = (await client.get("/api/statistics/downloads/chart?period=week", headers=admin.auth)).json()["data"]
    series = chart["chart_data"]["daily_downloads"]
    assert len(series) == 7 and series[-1]["date"] == local_today().isoformat() and series[-1]["count"] == 5
    chart = (await client.get("/api/statistics/tags/chart?period=day", headers=own.auth)).json()["data"]
    assert chart["chart_data"]["daily_tags"] == [{"date": local_today().isoformat(), "count": 2}]
