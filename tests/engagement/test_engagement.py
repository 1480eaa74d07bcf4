"""Saved models and interiors, comments with one level of replies, comment likes."""

from __future__ import annotations

import asyncio


async def test_saving_models_is_idempotent_and_counted(client, make_user, world, sql):
    user = await make_user()
    model = world["models"][0]
    for _ in range(2):
        r = await client.post("/api/saved/models", headers=user.auth, json={"model_id": model})
        assert r.status_code == 200 and r.json()["data"]["is_saved"] is True
    listed = (await client.get("/api/saved/models", headers=user.auth)).json()["data"]
    assert [m["id"] for m in listed["models"]] == [model] and listed["pagination"]["data_count"] == 1
    assert listed["models"][0]["brand"]["slug"] == "community-brand"
    row = sql("SELECT saves_count, (SELECT count(*) FROM saved_models WHERE model_id = m.id) AS n FROM models m"
              " WHERE id = %s", (model,))[0]
    assert row["saves_count"] == row["n"] >= 1
    r = await client.delete(f"/api/saved/models/{model}", headers=user.auth)
    assert r.status_code == 200 and r.json()["data"]["is_saved"] is False
    assert (await client.delete(f"/api/saved/models/{model}", headers=user.auth)).status_code == 200
    assert (await client.get("/api/saved/models", headers=user.auth)).json()["data"]["models"] == []


async def test_saved_models_validation_and_auth(client, make_user):
    user = await make_user()
    r = await client.post("/api/saved/models", headers=user.auth, json={})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "model_id"
    r = await client.post("/api/saved/models", headers=user.auth, json={"model_id": "nope"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "model_id"
    missing = {"model_id": "00000000-0000-0000-0000-000000000000"}
    r = await client.post("/api/saved/models", headers=user.auth, json=missing)
    assert r.status_code == 404
    assert (await client.get("/api/saved/models")).status_code == 401
    assert (await client.post("/api/saved/interiors", json={"interior_id": "x"})).status_code == 401


async def test_concurrent_saves_keep_counter(client, make_user, world, sql):
    users = [await make_user() for _ in range(3)]
    model = world["models"][1]
    calls = [
        client.post("/api/saved/models", headers=u.auth, json={"model_id": model}) if i % 2 == 0
        else client.delete(f"/api/saved/models/{model}", headers=u.auth)
        for i, u in enumerate(users * 6)
    ]
    assert all(r.status_code == 200 for r in await asyncio.gather(*calls))
    row = sql("SELECT saves_count, (SELECT count(*) FROM saved_models WHERE model_id = m.id) AS n FROM models m"
              " WHERE id = %s", (model,))[0]
    assert row["saves_count"] == row["n"]


async def test_saved_interiors_respect_visibility(client, make_user, make_interior, sql):
    author = await make_user()
    fan = await make_user()
    approved = await make_interior(author, name="Saved room")
    pending = await make_interior(author, status=0, name="Unsaveable room")
    r = await client.post("/api/saved/interiors", headers=fan.auth, json={"interior_id": approved["id"]})
    assert r.status_code == 200 and r.json()["data"]["saves_count"] == 1
    r = await client.post("/api/saved/interiors", headers=fan.auth, json={"interior_id": pending["id"]})
    assert r.status_code == 404
    listed = (await client.get("/api/saved/interiors", headers=fan.auth)).json()["data"]["interiors"]
    assert [i["id"] for i in listed] == [approved["id"]]
    # an interior sent back to moderation disappears from the fan's list
    sql("UPDATE interiors SET status = 0 WHERE id = %s", (approved["id"],))
    assert (await client.get("/api/saved/interiors", headers=fan.auth)).json()["data"]["interiors"] == []
    sql("UPDATE interiors SET status = 1 WHERE id = %s", (approved["id"],))
    detail = (await client.get(f"/api/interiors/{approved['id']}", headers=fan.auth)).json()["data"]["interior"]
    assert detail["is_saved"] is True
    assert (await client.delete(f"/api/saved/interiors/{approved['id']}", headers=fan.auth)).status_code == 200
    assert (await client.delete("/api/saved/interiors/nope", headers=fan.auth)).status_code == 404


async def test_comment_thread_one_level_with_notifications(client, make_user, make_interior, sql):
    author = await make_user()
    alice = await make_user(full_name="Alice Commenter")
    bob = await make_user(full_name="Bob Commenter")
    interior = await make_interior(author, name="Discussed room")
    r = await client.post(
        "/api/comments", headers=alice.auth,
        json={"entity_id": interior["id"], "entity_source": "interiors", "text": "  Nice <b>room</b> & light  "},
    )
    assert r.status_code == 201, r.text
    top = r.json()["data"]["comment"]
    assert top["text"] == "Nice room & light" and top["user"]["full_name"] == "Alice Commenter"
    r = await client.post("/api/comments", headers=bob.auth,
                          json={"entity_id": interior["id"], "parent_id": top["id"], "text": "Agreed"})
    reply = r.json()["data"]["comment"]
    assert reply["parent_id"] == top["id"]
    # a reply to a reply joins the thread's root
    r = await client.post("/api/comments", headers=alice.auth,
                          json={"entity_id": interior["id"], "parent_id": reply["id"], "text": "<script>x</script>ok"})
    assert r.status_code == 201 and r.json()["data"]["comment"]["parent_id"] == top["id"]
    assert r.json()["data"]["comment"]["text"] == "ok"
    listed = (await client.get(f"/api/comments?entity_id={interior['id']}")).json()["data"]
    assert len(listed["comments"]) == 1 and len(listed["comments"][0]["replies"]) == 2
    kinds = lambda uid: sorted(n["type"] for n in sql("SELECT type FROM notifications WHERE user_id = %s", (uid,)))  # noqa: E731
    assert kinds(author["id"]).count("comment") == 3
    assert kinds(alice["id"]) == ["reply"] and kinds(bob["id"]) == ["reply"]


async def test_comment_validation(client, make_user, make_interior, world):
    user = await make_user()
    interior = await make_interior(user, name="Validated comments")
    base = {"entity_id": interior["id"]}
    for body, field in (
        ({**base, "text": ""}, "text"),
        ({**base, "text": "<b></b>"}, "text"),
        ({**base, "text": "x" * 2049}, "text"),
        ({"text": "hi"}, "entity_id"),
        ({**base, "text": "hi", "entity_source": "cars"}, "entity_source"),
        ({**base, "text": "hi", "parent_id": "00000000-0000-0000-0000-000000000000"}, "parent_id"),
    ):
        r = await client.post("/api/comments", headers=user.auth, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert (await client.post("/api/comments", json={**base, "text": "hi"})).status_code == 401
    r = await client.get("/api/comments")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "entity_id"


async def test_comments_on_models_notify_the_brand(client, make_user, make_brand_user, world, sql):
    brand = await make_brand_user()
    user = await make_user()
    r = await client.post("/api/comments", headers=user.auth, json={"entity_id": world["models"][0], "text": "Love it"})
    assert r.status_code == 201
    rows = sql("SELECT type, model_id FROM notifications WHERE user_id = %s", (brand["id"],))
    assert rows and rows[-1]["type"] == "comment" and str(rows[-1]["model_id"]) == world["models"][0]
    r = await client.get(f"/api/comments?entity_id={world['models'][0]}&entity_source=models")
    assert r.status_code == 200 and r.json()["data"]["pagination"]["data_count"] >= 1


async def test_comments_on_pending_interiors_are_hidden(client, make_user, admin, make_interior):
    author = await make_user()
    other = await make_user()
    pending = await make_interior(author, status=0, name="Pending discussion")
    r = await client.post("/api/comments", headers=author.auth, json={"entity_id": pending["id"], "text": "note"})
    assert r.status_code == 201
    comment = r.json()["data"]["comment"]
    assert (await client.get(f"/api/comments?entity_id={pending['id']}")).status_code == 404
    assert (await client.get(f"/api/comments?entity_id={pending['id']}", headers=other.auth)).status_code == 404
    assert (await client.get(f"/api/comments?entity_id={pending['id']}", headers=admin.auth)).status_code == 200
    r = await client.post("/api/comments", headers=other.auth, json={"entity_id": pending["id"], "text": "hi"})
    assert r.status_code == 404
    assert (await client.post(f"/api/comments/{comment['id']}/like", headers=other.auth)).status_code == 404


async def test_comment_edit_delete_and_likes(client, make_user, admin, make_interior, sql):
    author = await make_user()
    writer = await make_user()
    other = await make_user()
    interior = await make_interior(author, name="Edited comments")
    r = await client.post("/api/comments", headers=writer.auth, json={"entity_id": interior["id"], "text": "first"})
    comment = r.json()["data"]["comment"]
    url = f"/api/comments/{comment['id']}"
    assert (await client.put(url, headers=other.auth, json={"text": "hijack"})).status_code == 403
    assert (await client.put(url, json={"text": "anon"})).status_code == 401
    r = await client.put(url, headers=writer.auth, json={"text": "edited"})
    assert r.status_code == 200 and r.json()["data"]["comment"]["text"] == "edited"
    r = await client.put(url, headers=writer.auth, json={"text": ""})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "text"
    assert (await client.put(url, headers=admin.auth, json={"text": "moderated"})).status_code == 200
    likes = await asyncio.gather(*[client.post(f"{url}/like", headers=u.auth) for u in (author, other, other, admin)])
    assert all(r.status_code == 200 for r in likes)
    row = sql("SELECT likes_count FROM comments WHERE id = %s", (comment["id"],))[0]
    assert row["likes_count"] == 3
    assert sql("SELECT count(*) AS n FROM notifications WHERE user_id = %s AND type = 'comment_like'",
               (writer["id"],))[0]["n"] == 3
    r = await client.delete(f"{url}/like", headers=other.auth)
    assert r.json()["data"]["likes_count"] == 2
    assert (await client.delete(url, headers=other.auth)).status_code == 403
    assert (await client.delete(url, headers=writer.auth)).status_code == 200
    assert (await client.delete(url, headers=writer.auth)).status_code == 404
    assert (await client.post(f"{url}/like", headers=other.auth)).status_code == 404
