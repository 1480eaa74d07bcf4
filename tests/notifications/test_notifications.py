"""Notifications: created by actions, listed with unread_count, marked and deleted by their recipient only."""

from __future__ import annotations

import uuid

from shared.db import transaction
from shared.domain.notify import notify


async def _seed(client, make_user, make_interior, count=3):
    author = await make_user()
    interior = await make_interior(author, name="Notified room")
    fans = [await make_user() for _ in range(count)]
    for fan in fans:
        assert (await client.post(f"/api/interiors/lk/{interior['id']}", headers=fan.auth)).status_code == 200
    return author, fans


async def test_list_counts_and_mark_seen(client, make_user, make_interior):
    author, fans = await _seed(client, make_user, make_interior)
    r = await client.get("/api/notifications", headers=author.auth)
    body = r.json()["data"]
    assert body["unread_count"] == 3 and body["pagination"]["data_count"] == 3
    first = body["notifications"][0]
    assert first["type"] == "interior_like" and first["actor"]["id"] in {f["id"] for f in fans}
    assert first["interior"]["name"] == "Notified room" and first["seen"] is False
    ids = [n["id"] for n in body["notifications"]]
    assert (await client.put(f"/api/notifications/{ids[0]}", headers=author.auth)).status_code == 200
    r = await client.put("/api/notifications", headers=author.auth, json={"ids": ids[1:2]})
    assert r.status_code == 200 and r.json()["data"]["updated"] == 1
    counts = (await client.get("/api/notifications/counts", headers=author.auth)).json()["data"]["counts"]
    assert counts == {"all": 3, "unread": 1, "seen": 2}
    unseen = (await client.get("/api/notifications?seen=false", headers=author.auth)).json()["data"]
    assert [n["id"] for n in unseen["notifications"]] == ids[2:]
    assert (await client.put("/api/notifications/all", headers=author.auth)).json()["data"]["updated"] == 1
    assert (await client.get("/api/notifications", headers=author.auth)).json()["data"]["unread_count"] == 0


async def test_another_users_notification_is_not_found(client, make_user, make_interior):
    author, fans = await _seed(client, make_user, make_interior, count=1)
    listed = (await client.get("/api/notifications", headers=author.auth)).json()["data"]["notifications"]
    ids = [n["id"] for n in listed]
    stranger = fans[0]
    assert (await client.put(f"/api/notifications/{ids[0]}", headers=stranger.auth)).status_code == 404
    assert (await client.delete(f"/api/notifications/{ids[0]}", headers=stranger.auth)).status_code == 404
    assert (await client.put("/api/notifications", headers=stranger.auth, json={"ids": ids})).status_code == 404
    assert (await client.delete(f"/api/notifications?ids={ids[0]}", headers=stranger.auth)).status_code == 404
    assert (await client.put("/api/notifications/not-a-uuid", headers=stranger.auth)).status_code == 404
    r = await client.get("/api/notifications", headers=author.auth)
    assert r.json()["data"]["notifications"][0]["seen"] is False


async def test_delete_notifications(client, make_user, make_interior):
    author, _ = await _seed(client, make_user, make_interior, count=3)
    listed = (await client.get("/api/notifications", headers=author.auth)).json()["data"]["notifications"]
    ids = [n["id"] for n in listed]
    assert (await client.delete(f"/api/notifications/{ids[0]}", headers=author.auth)).status_code == 200
    r = await client.delete(f"/api/notifications?ids=[\"{ids[1]}\"]", headers=author.auth)
    assert r.status_code == 200 and r.json()["data"]["deleted"] == 1
    r = await client.request("DELETE", "/api/notifications", headers=author.auth, json={"ids": [ids[2]]})
    assert r.status_code == 200
    assert (await client.get("/api/notifications", headers=author.auth)).json()["data"]["notifications"] == []


async def test_validation_and_auth(client, make_user):
    user = await make_user()
    r = await client.put("/api/notifications", headers=user.auth, json={"ids": []})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "ids"
    r = await client.put("/api/notifications", headers=user.auth, json={"ids": ["bad"]})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "ids"
    r = await client.delete("/api/notifications", headers=user.auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "ids"
    for method, url in (("GET", "/api/notifications"), ("GET", "/api/notifications/counts"),
                        ("PUT", "/api/notifications/all"), ("DELETE", f"/api/notifications/{uuid.uuid4()}")):
        assert (await client.request(method, url)).status_code == 401


async def test_notify_seam_and_ban_insert(client, make_user, admin, world, sql):
    user = await make_user()
    async with transaction() as conn:
        await notify(conn, recipient_id=user["id"], actor_id=user["id"], type="download", model_id=world["models"][0])
        await notify(conn, recipient_id=user["id"], actor_id=admin["id"], type="download", model_id=world["models"][0])
    ban = {"reason": "spam", "permanent": False, "until": "2999-01-01T00:00:00Z"}
    r = await client.post(f"/api/users/ban/{user['id']}", headers=admin.auth, json=ban)
    assert r.status_code == 200, r.text
    rows = sql("SELECT type, text FROM notifications WHERE user_id = %s ORDER BY created_at", (user["id"],))
    assert [(r["type"], r["text"]) for r in rows] == [("download", None), ("ban", "spam")]
