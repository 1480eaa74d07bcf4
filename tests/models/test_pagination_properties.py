"""Property tests: pages never overlap or skip rows under any filter and order, and cursor paging
returns exactly the rows page paging does (hypothesis, few examples so the suite stays fast)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.models.queries.lists import ORDER_COLUMNS

FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "top": st.sampled_from(["true", "false"]),
        "availability": st.sampled_from(["1", "2", "3"]),
        "brand": st.sampled_from([0, 1]),
        "category": st.sampled_from([0, 1]),
        "color": st.sampled_from([0, 1]),
        "name": st.sampled_from(["sofa", "ch", "а"]),
    },
)


def seed_models(sql) -> dict:
    if sql("SELECT count(*) AS n FROM models")[0]["n"]:
        return _world(sql)
    rng = random.Random(7)
    brands = [sql("INSERT INTO brands (slug, name) VALUES (%s, %s) RETURNING id", (f"pb{i}", f"PB {i}"))[0]["id"]
              for i in range(2)]
    cats = [sql("INSERT INTO categories (name) VALUES (%s) RETURNING id", (f"PC {i}",))[0]["id"] for i in range(2)]
    colors = [sql("INSERT INTO colors (name, hex_value) VALUES (%s, '#123456') RETURNING id", (f"PCol {i}",))[0]["id"]
              for i in range(2)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    names = ["sofa", "chair", "Диван", "стул", "sofa bed", "Chester"]
    for i in range(45):
        availability = rng.choice([1, 1, 2, 3])
        created = base + timedelta(hours=rng.randint(0, 40))  # ties on purpose
        row = sql(
            "INSERT INTO models (slug, name, brand_id, category_id, availability, top, views_count, likes_count,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (f"pm-{i}", f"{rng.choice(names)} {i % 7}", rng.choice(brands), rng.choice(cats), availability,
             availability != 2 and rng.random() < 0.3, rng.randint(0, 5), rng.randint(0, 3), created),
        )[0]
        sql("INSERT INTO model_colors (model_id, color_id) VALUES (%s, %s)", (row["id"], rng.choice(colors)))
    sql("UPDATE models SET is_deleted = true WHERE slug IN ('pm-3', 'pm-9')")
    return _world(sql)


def _world(sql) -> dict:
    return {
        "brands": [str(r["id"]) for r in sql("SELECT id FROM brands WHERE slug LIKE 'pb%' ORDER BY slug")],
        "categories": [r["id"] for r in sql("SELECT id FROM categories WHERE name LIKE 'PC %' ORDER BY name")],
        "colors": [r["id"] for r in sql("SELECT id FROM colors WHERE name LIKE 'PCol %' ORDER BY name")],
    }


def _params(world: dict, filters: dict, order_by: str, order: str, limit: int) -> dict:
    params = {"orderBy": order_by, "order": order, "limit": str(limit)}
    for key, value in filters.items():
        if key == "brand":
            params["brand_id"] = world["brands"][value]
        elif key == "category":
            params["categories"] = f"[{world['categories'][value]}]"
        elif key == "color":
            params["colors"] = str(world["colors"][value])
        else:
            params[key] = value
    return params


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    filters=FILTERS, order_by=st.sampled_from(sorted(ORDER_COLUMNS)), order=st.sampled_from(["asc", "desc"]),
    limit=st.integers(min_value=1, max_value=9),
)
async def test_pages_partition_the_rows_and_cursors_agree(client, sql, filters, order_by, order, limit):
    world = seed_models(sql)
    params = _params(world, filters, order_by, order, limit)
    everything = (await client.get("/api/models", params={**params, "limit": "100"})).json()["data"]
    expected = [m["id"] for m in everything["models"]]
    assert everything["pagination"]["data_count"] == len(expected)
    availability = [m["availability"] == 2 for m in everything["models"]]
    assert availability == sorted(availability), "unavailable models must come last"

    by_page, page = [], 1
    while True:
        data = (await client.get("/api/models", params={**params, "page": str(page)})).json()["data"]
        by_page += [m["id"] for m in data["models"]]
        assert data["pagination"]["current"] == page - 1
        if data["pagination"]["next"] is None:
            break
        assert data["pagination"]["next"] == page
        page += 1
    assert by_page == expected

    by_cursor, cursor = [], None
    for _ in range(60):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        data = (await client.get("/api/models", params=query)).json()["data"]
        by_cursor += [m["id"] for m in data["models"]]
        cursor = data["pagination"].get("next_cursor")
        if not cursor:
            break
    assert by_cursor == expected
    assert len(set(by_cursor)) == len(by_cursor)


async def test_cursor_of_another_order_is_refused(client, sql):
    seed_models(sql)
    data = (await client.get("/api/models", params={"limit": 2})).json()["data"]
    cursor = data["pagination"]["next_cursor"]
    r = await client.get("/api/models", params={"limit": 2, "orderBy": "name", "cursor": cursor})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get("/api/models", params={"cursor": "garbage!"})
    assert r.status_code == 400


async def test_limit_is_clamped_and_bad_params_are_400(client, sql):
    seed_models(sql)
    r = await client.get("/api/models", params={"limit": 500})
    assert r.json()["data"]["pagination"]["limit"] == 100
    for params, field in [({"orderBy": "price"}, "orderBy"), ({"order": "up"}, "order"), ({"page": "0"}, "page"),
                          ({"styles": "[x]"}, "styles"), ({"availability": "9"}, "availability"),
                          ({"brand_id": "nope"}, "brand_id"), ({"top": "maybe"}, "top")]:
        r = await client.get("/api/models", params=params)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, (params, r.text)


async def test_deleted_models_only_for_admins(client, sql, admin, designer):
    seed_models(sql)
    assert (await client.get("/api/models?is_deleted=true")).status_code == 403
    assert (await client.get("/api/models?is_deleted=true", headers=designer.auth)).status_code == 403
    r = await client.get("/api/models?is_deleted=true", headers=admin.auth)
    assert {m["slug"] for m in r.json()["data"]["models"]} == {"pm-3", "pm-9"}
    counts = (await client.get("/api/models/counts", headers=admin.auth)).json()["data"]["counts"]
    assert counts["deleted"] == 2 and counts["all"] == 43
    assert "deleted" not in (await client.get("/api/models/counts")).json()["data"]["counts"]
    r = await client.get("/api/models/count", params={"availability": "2"})
    assert r.json()["data"]["count"] == counts["not_available"]
