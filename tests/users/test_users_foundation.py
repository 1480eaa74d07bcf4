"""Profiles, username checks, bans and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


async def test_own_profile_and_update(client, make_user):
    user = await make_user()
    r = await client.get("/api/users/profile", headers=user.auth)
    assert r.status_code == 200
    assert r.json()["data"]["user"]["email"] == user["email"]
    r = await client.put(
        "/api/users/profile", headers=user.auth, json={"full_name": "New Name Here", "telegram": "@new"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["user"]["full_name"] == "New Name Here"
    assert (await client.get("/api/users/profile")).status_code == 401


async def test_username_taken_is_conflict(client, make_user):
    a, b = await make_user(), await make_user()
    r = await client.put("/api/users/profile", headers=b.auth, json={"username": a["username"]})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "username"
    r = await client.put("/api/users/profile", headers=b.auth, json={"username": "no spaces allowed"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "username"


async def test_check_and_public_profile_hide_private_fields(client, make_user):
    user = await make_user()
    assert (await client.get(f"/api/users/check/{user['username']}")).json()["data"] == {"exists": True}
    assert (await client.get("/api/users/check/nobody_here")).json()["data"] == {"exists": False}
    r = await client.get(f"/api/users/{user['username']}")
    assert r.status_code == 200
    public = r.json()["data"]["user"]
    assert "email" not in public and "phone" not in public
    assert {"designs_count", "tags_count"} <= set(public)
    assert (await client.get("/api/users/nobody_here")).status_code == 404


async def test_banned_user_gets_403_banned_everywhere(client, make_user, admin):
    user = await make_user()
    ban = {"reason": "spam", "permanent": True}
    r = await client.post(f"/api/users/ban/{user['id']}", headers=admin.auth, json=ban)
    assert r.status_code == 200, r.text
    r = await client.get("/api/auth/verify", headers=user.auth)
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    assert (await client.post(f"/api/users/unban/{user['id']}", headers=admin.auth)).status_code == 200
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200


async def test_ban_until_is_enforced_until_it_passes(client, make_user, admin, sql):
    user = await make_user()
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await client.post(f"/api/users/ban/{user['id']}", headers=admin.auth, json={"until": until})
    assert r.status_code == 200, r.text
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 403
    sql("UPDATE bans SET until = now() - interval '1 second' WHERE user_id = %s", (user["id"],))
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200


async def test_ban_validation_and_permissions(client, make_user, admin):
    user = await make_user()
    r = await client.post(f"/api/users/ban/{user['id']}", headers=admin.auth, json={"reason": "x"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "until"
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = await client.post(f"/api/users/ban/{user['id']}", headers=admin.auth, json={"until": past})
    assert r.status_code == 400
    r = await client.post(f"/api/users/ban/{admin['id']}", headers=user.auth, json={"permanent": True})
    assert r.status_code == 403 and r.json()["reason"] == "access_denied"
    r = await client.post(f"/api/users/ban/{user['id']}", json={"permanent": True})
    assert r.status_code == 401
    r = await client.post("/api/users/ban/00000000-0000-0000-0000-000000000000", headers=admin.auth,
                          json={"permanent": True})
    assert r.status_code == 404


async def test_admin_sets_role(client, make_user, admin):
    user = await make_user()
    r = await client.put(f"/api/users/role/{user['id']}", headers=admin.auth, json={"role_id": 1})
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "admin"
    r = await client.put(f"/api/users/role/{user['id']}", headers=admin.auth, json={"role_id": 99})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "role_id"
    other = await make_user()
    r = await client.put(f"/api/users/role/{user['id']}", headers=other.auth, json={"role_id": 1})
    assert r.status_code == 403
