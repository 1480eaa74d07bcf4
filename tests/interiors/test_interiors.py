"""Interiors: create, moderation visibility, edits, images, likes, views, counts."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.community_world import PNG, interior_form


async def test_designer_creates_pending_interior_with_cover_first(client, designer, world):
    r = await client.post("/api/interiors", headers=designer.auth, **interior_form(world, "Светлый лофт", images=3))
    assert r.status_code == 201, r.text
    interior = r.json()["data"]["interior"]
    assert interior["status"] == 0 and interior["slug"].startswith("svetlyy-loft")
    assert len(interior["images"]) == 4 and interior["images"][0]["is_main"] is True
    assert interior["cover"][0]["image_src"].startswith("interiors/")
    assert interior["author"]["id"] == designer["id"]
    assert interior["counters"] == {"views": 0, "likes": 0, "saves": 0}


@pytest.mark.parametrize(
    "override, field",
    [
        ({"name": None}, "name"),
        ({"category_id": "abc"}, "category_id"),
        ({"style_id": None}, "style_id"),
        ({"render_platform_id": "not-a-uuid"}, "render_platform_id"),
    ],
)
async def test_create_validation_names_the_field(client, designer, world, override, field):
    form = interior_form(world, **override) if "name" not in override else interior_form(world, name="")
    if "name" in override:
        form["data"].pop("name")
    r = await client.post("/api/interiors", headers=designer.auth, **form)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_create_requires_cover_and_an_image(client, designer, world):
    form = interior_form(world, images=0)
    r = await client.post("/api/interiors", headers=designer.auth, **form)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "images"
    form = interior_form(world)
    form["files"] = [f for f in form["files"] if f[0] != "cover"]
    r = await client.post("/api/interiors", headers=designer.auth, **form)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cover"


async def test_create_refuses_a_model_category(client, designer, world):
    form = interior_form(world, category_id=str(world["model_category_id"]))
    r = await client.post("/api/interiors", headers=designer.auth, **form)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "category_id"


async def test_create_auth(client, brand_user, world):
    r = await client.post("/api/interiors", **interior_form(world))
    assert r.status_code == 401
    r = await client.post("/api/interiors", headers=brand_user.auth, **interior_form(world))
    assert r.status_code == 403


async def test_pending_interior_is_visible_to_author_and_admin_only(client, make_user, admin, make_interior):
    author = await make_user()
    other = await make_user()
    pending = await make_interior(author, status=0, name="Hidden room")
    approved = await make_interior(author, status=1, name="Open room")
    for ident in (pending["id"], pending["slug"]):
        assert (await client.get(f"/api/interiors/{ident}")).status_code == 404
        assert (await client.get(f"/api/interiors/{ident}", headers=other.auth)).status_code == 404
        assert (await client.get(f"/api/interiors/{ident}", headers=author.auth)).status_code == 200
        assert (await client.get(f"/api/interiors/{ident}", headers=admin.auth)).status_code == 200
    public_ids = {i["id"] for i in (await client.get("/api/interiors?limit=100")).json()["data"]["interiors"]}
    assert approved["id"] in public_ids and pending["id"] not in public_ids
    r = await client.get("/api/interiors?limit=100", headers=other.auth)
    other_ids = {i["id"] for i in r.json()["data"]["interiors"]}
    assert pending["id"] not in other_ids
    # a status filter cannot widen what a non-admin sees
    r = await client.get("/api/interiors?status=0&limit=100", headers=other.auth)
    assert pending["id"] not in {i["id"] for i in r.json()["data"]["interiors"]}
    r = await client.get("/api/interiors?status=0&limit=100", headers=admin.auth)
    assert pending["id"] in {i["id"] for i in r.json()["data"]["interiors"]}
    mine = (await client.get("/api/myinteriors", headers=author.auth)).json()["data"]["interiors"]
    assert {pending["id"], approved["id"]} <= {i["id"] for i in mine}
    also = (await client.get("/api/interiors/myinteriors", headers=author.auth)).json()["data"]["interiors"]
    assert {i["id"] for i in also} == {i["id"] for i in mine}
    assert (await client.get("/api/myinteriors")).status_code == 401


async def test_counts_hide_pending_from_the_public(client, admin, designer, make_interior, sql):
    await make_interior(designer, status=0, name="Counted pending")
    approved = sql("SELECT count(*) AS n FROM interiors WHERE status = 1 AND NOT is_deleted")[0]["n"]
    pending = sql("SELECT count(*) AS n FROM interiors WHERE status = 0 AND NOT is_deleted")[0]["n"]
    public = (await client.get("/api/interiors/counts")).json()["data"]["counts"]
    assert public == {"all": approved, "approved": approved}
    counts = (await client.get("/api/interiors/counts", headers=admin.auth)).json()["data"]["counts"]
    assert counts["pending"] == pending and counts["approved"] == approved


async def test_list_filters_order_and_pagination(client, make_user, make_interior, world, sql):
    author = await make_user(full_name="Filter Author")
    made = [await make_interior(author, name=f"Filter room {i}") for i in range(3)]
    sql("UPDATE interiors SET views_count = 100 WHERE id = %s", (made[1]["id"],))
    r = await client.get(f"/api/interiors?author={author['username']}&orderBy=views&limit=2")
    body = r.json()["data"]
    assert [i["id"] for i in body["interiors"]][0] == made[1]["id"]
    assert body["pagination"]["data_count"] == 3 and body["pagination"]["next"] == 1
    cursor = body["pagination"]["next_cursor"]
    r = await client.get(f"/api/interiors?author={author['username']}&orderBy=views&limit=2&cursor={cursor}")
    rest = r.json()["data"]["interiors"]
    assert len(rest) == 1 and rest[0]["id"] not in {i["id"] for i in body["interiors"]}
    query = f"name=filter room&categories=[{world['category_id']}]&styles={world['style_id']}"
    r = await client.get(f"/api/interiors?{query}")
    assert r.json()["data"]["pagination"]["data_count"] == 3
    r = await client.get(f"/api/interiors?platforms={world['platform_id']}&author={author['username']}")
    assert r.json()["data"]["pagination"]["data_count"] == 3
    assert (await client.get("/api/interiors?orderBy=nope")).json()["errors"][0]["field"] == "orderBy"
    assert (await client.get("/api/interiors?platforms=xyz")).json()["errors"][0]["field"] == "platforms"
    assert (await client.get("/api/interiors?status=7")).json()["errors"][0]["field"] == "status"


async def test_has_models_of_brand_filter(client, make_user, make_interior, world):
    author = await make_user()
    tagged = await make_interior(author, name="Tagged by brand")
    await make_interior(author, name="Untagged room")
    r = await client.post(
        "/api/tags", headers=author.auth,
        json={"interior_id": tagged["id"], "interior_image_id": tagged["images"][0]["id"],
              "model_id": world["models"][0], "x": 10, "y": 20},
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/interiors?has_models_of_brand={world['brand_id']}&author={author['username']}")
    assert [i["id"] for i in r.json()["data"]["interiors"]] == [tagged["id"]]


async def test_views_count_once_per_user_and_per_visitor(client, designer, make_user, make_interior, sql):
    interior = await make_interior(designer, name="Viewed room")
    viewer = await make_user()
    for _ in range(3):
        assert (await client.get(f"/api/interiors/{interior['id']}", headers=viewer.auth)).status_code == 200
    for agent in ("agent-a", "agent-a", "agent-b"):
        await client.get(f"/api/interiors/{interior['slug']}", headers={"User-Agent": agent})
    # a visitor cannot fake another ip: the test client's peer is not a trusted proxy
    spoofed = {"User-Agent": "agent-a", "X-Forwarded-For": "1.2.3.4"}
    await client.get(f"/api/interiors/{interior['slug']}", headers=spoofed)
    await asyncio.sleep(0.05)
    row = sql("SELECT views_count FROM interiors WHERE id = %s", (interior["id"],))[0]
    assert row["views_count"] == 3
    assert sql("SELECT count(*) AS n FROM interior_views WHERE interior_id = %s", (interior["id"],))[0]["n"] == 3


async def test_edit_interior_fields_and_images(client, designer, make_interior, world):
    interior = await make_interior(designer, name="Editable", images=2)
    gallery = [i for i in interior["images"] if not i["is_main"]]
    r = await client.put(
        f"/api/interiors/{interior['id']}", headers=designer.auth,
        json={"name": "Edited room", "removed_images": [gallery[0]["id"]]},
    )
    assert r.status_code == 200, r.text
    edited = r.json()["data"]["interior"]
    assert edited["name"] == "Edited room" and edited["slug"].startswith("edited-room")
    assert len(edited["images"]) == 2
    r = await client.put(
        f"/api/interiors/{interior['id']}", headers=designer.auth,
        data={"removed_images": f'["{edited["images"][0]["id"]}"]'}, files=[("images", ("x.png", PNG, "image/png"))],
    )
    assert r.status_code == 200, r.text
    images = r.json()["data"]["interior"]["images"]
    assert len(images) == 2 and images[0]["is_main"] and sum(i["is_main"] for i in images) == 1
    r = await client.put(f"/api/interiors/{interior['id']}", headers=designer.auth, json={"style_id": 999999})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "style_id"
    r = await client.put(
        f"/api/interiors/{interior['id']}", headers=designer.auth,
        json={"removed_images": [i["id"] for i in images]},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "removed_images"


async def test_add_and_delete_gallery_images(client, designer, make_interior):
    interior = await make_interior(designer, name="Gallery", images=1)
    r = await client.post(
        f"/api/interiors/images/{interior['id']}", headers=designer.auth,
        files=[("images", ("a.png", PNG, "image/png")), ("images", ("b.png", PNG, "image/png"))],
    )
    assert r.status_code == 201, r.text
    images = r.json()["data"]["interior"]["images"]
    assert len(images) == 4
    cover = images[0]
    r = await client.delete(f"/api/interiors/images/{cover['id']}", headers=designer.auth)
    assert r.status_code == 200
    images = r.json()["data"]["interior"]["images"]
    assert len(images) == 3 and images[0]["is_main"]
    assert (await client.delete(f"/api/interiors/images/{cover['id']}", headers=designer.auth)).status_code == 404


async def test_moderation_notifies_the_author(client, admin, designer, make_interior, sql):
    interior = await make_interior(designer, status=0, name="Moderated")
    r = await client.put(f"/api/interiors/status/{interior['id']}", headers=admin.auth, json={"status": 1})
    assert r.status_code == 200 and r.json()["data"]["interior"]["status"] == 1
    assert (await client.get(f"/api/interiors/{interior['id']}")).status_code == 200
    r = await client.put(
        f"/api/interiors/status/{interior['id']}", headers=admin.auth, json={"status": 2, "reason": "blurry"}
    )
    rows = sql("SELECT type FROM notifications WHERE user_id = %s ORDER BY created_at", (designer["id"],))
    types = [n["type"] for n in rows]
    assert types[-2:] == ["interior_approved", "interior_rejected"]
    r = await client.put(f"/api/interiors/status/{interior['id']}", headers=admin.auth, json={"status": 5})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"
    r = await client.put(f"/api/interiors/status/{interior['id']}", headers=designer.auth, json={"status": 1})
    assert r.status_code == 403


async def test_author_counters_follow_approval_and_deletion(client, admin, make_user, make_interior, sql):
    author = await make_user()
    interior = await make_interior(author, status=0, name="Counter room")
    count = lambda: sql("SELECT designs_count FROM profiles WHERE id = %s", (author["id"],))[0]["designs_count"]  # noqa: E731
    assert count() == 0
    await client.put(f"/api/interiors/status/{interior['id']}", headers=admin.auth, json={"status": 1})
    assert count() == 1
    r = await client.delete(f"/api/interiors/{interior['id']}?cascade=true", headers=author.auth)
    assert r.status_code == 200
    assert count() == 0
    assert (await client.get(f"/api/interiors/{interior['id']}", headers=author.auth)).status_code == 404


async def test_concurrent_likes_keep_the_counter_equal_to_rows(client, designer, make_user, make_interior, sql):
    interior = await make_interior(designer, name="Popular room")
    fans = [await make_user() for _ in range(4)]
    url = f"/api/interiors/lk/{interior['id']}"
    calls = []
    for i in range(24):
        fan = fans[i % 4]
        calls.append(client.post(url, headers=fan.auth) if i % 3 else client.delete(url, headers=fan.auth))
    results = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    row = sql(
        "SELECT likes_count, (SELECT count(*) FROM interior_likes WHERE interior_id = i.id) AS n FROM interiors i"
        " WHERE id = %s", (interior["id"],),
    )[0]
    assert row["likes_count"] == row["n"]
    # idempotent: liking twice is one like, one notification
    await client.delete(url, headers=fans[0].auth)
    await client.post(url, headers=fans[0].auth)
    r = await client.post(url, headers=fans[0].auth)
    assert r.json()["data"]["is_liked"] is True
    detail = (await client.get(f"/api/interiors/{interior['id']}", headers=fans[0].auth)).json()["data"]["interior"]
    assert detail["is_liked"] is True


async def test_account_deletion_soft_deletes_interiors(client, make_user, make_interior, sql):
    author = await make_user()
    interior = await make_interior(author, name="Orphaned room")
    sql("DELETE FROM profiles WHERE id = %s", (author["id"],))
    row = sql("SELECT is_deleted, author_id FROM interiors WHERE id = %s", (interior["id"],))[0]
    assert row == {"is_deleted": True, "author_id": None}
    assert (await client.get(f"/api/interiors/{interior['id']}")).status_code == 404
