"""Users: designers (rated), the admin/brand user list, admin info, downloads, profile, password, delete."""

from __future__ import annotations

from tests.support.catalogue_world import create_model


async def test_designers_are_public_and_rated(client, make_user, sql):
    a = await make_user("designer", full_name="Rated Designer A")
    b = await make_user("designer", full_name="Rated Designer B")
    sql("UPDATE profiles SET designs_count = 1, tags_count = 3 WHERE id = %s", (a["id"],))
    sql("UPDATE profiles SET designs_count = 5, tags_count = 0 WHERE id = %s", (b["id"],))
    r = await client.get("/api/users/designers", params={"orderBy": "rating", "full_name": "rated designer"})
    assert r.status_code == 200, r.text
    rows = r.json()["data"]["designers"]
    assert [(x["username"], x["rating"]) for x in rows] == [(b["username"], 25), (a["username"], 20)]
    assert "email" not in rows[0]
    assert (await client.get("/api/users/designers?orderBy=email")).status_code == 400


async def test_user_list_for_admin_and_brand(client, world):
    alpha, beta = world["brands"]
    designer = world["designer"]
    model = (await create_model(client, alpha["account"], world, name="Listed")).json()["data"]["model"]
    await client.post(f"/api/models/download/{model['id']}", headers=designer.auth)
    r = await client.get("/api/users", params={"key": designer["email"]}, headers=world["admin"].auth)
    assert r.status_code == 200
    row = r.json()["data"]["users"][0]
    assert row["id"] == designer["id"] and row["downloads_count"] == 1 and row["is_banned"] is False
    r = await client.get("/api/users", params={"downloaded_model": model["id"]}, headers=alpha["account"].auth)
    assert [u["id"] for u in r.json()["data"]["users"]] == [designer["id"]]
    r = await client.get("/api/users", headers=beta["account"].auth)
    assert r.json()["data"]["users"] == []
    r = await client.get("/api/users", params={"downloaded_model": model["id"]}, headers=beta["account"].auth)
    assert r.status_code == 403
    assert (await client.get("/api/users")).status_code == 401
    assert (await client.get("/api/users", headers=designer.auth)).status_code == 403
    assert (await client.get("/api/users?role_id=x", headers=world["admin"].auth)).status_code == 400

    r = await client.get(f"/api/users/{designer['username']}/info", headers=world["admin"].auth)
    assert r.status_code == 200 and r.json()["data"]["user"]["email"] == designer["email"]
    assert r.json()["data"]["user"]["downloads_count"] == 1
    r = await client.get(f"/api/users/{designer['username']}/downloads", headers=world["admin"].auth)
    assert r.json()["data"]["downloads"][0]["model"]["id"] == model["id"]
    assert (await client.get(f"/api/users/{designer['username']}/info", headers=designer.auth)).status_code == 403
    assert (await client.get("/api/users/nobody-here/info", headers=world["admin"].auth)).status_code == 404


async def test_admin_edits_password_and_deletes(client, admin, make_user):
    target = await make_user("designer", full_name="Target Person")
    r = await client.put(f"/api/users/profile/{target['id']}", json={"company_name": "ACME"}, headers=admin.auth)
    assert r.status_code == 200 and r.json()["data"]["user"]["company_name"] == "ACME"
    r = await client.put(f"/api/users/profile/{target['id']}", json={"full_name": "abc"}, headers=admin.auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "full_name"
    r = await client.put(f"/api/users/pwd/{target['id']}", json={"password": "short"}, headers=admin.auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "password"
    r = await client.put(f"/api/users/pwd/{target['id']}", json={"password": "brand-new-pass"}, headers=admin.auth)
    assert r.status_code == 200
    r = await client.post("/api/auth/signin", json={"email": target["email"], "password": "brand-new-pass"})
    assert r.status_code == 200
    assert r.json()["data"]["token"]["accessToken"]  # the old sessions were revoked with the password change
    other = await make_user("designer", full_name="Other Person")
    assert (await client.delete(f"/api/users/{target['id']}", headers=other.auth)).status_code == 403
    assert (await client.delete(f"/api/users/{target['id']}", headers=admin.auth)).status_code == 200
    assert (await client.delete(f"/api/users/{target['id']}", headers=admin.auth)).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.put(f"/api/users/pwd/{missing}", json={"password": "long-enough-1"},
                             headers=admin.auth)).status_code == 404


async def test_downloads_list_scoped_to_brand(client, world):
    alpha, beta = world["brands"]
    model = (await create_model(client, alpha["account"], world, name="Scoped")).json()["data"]["model"]
    await client.post(f"/api/models/download/{model['id']}", headers=world["designer"].auth)
    r = await client.get("/api/downloads", params={"model_id": model["id"]}, headers=alpha["account"].auth)
    assert r.status_code == 200 and len(r.json()["data"]["downloads"]) == 1
    r = await client.get("/api/downloads", params={"model_id": model["id"]}, headers=beta["account"].auth)
    assert r.json()["data"]["downloads"] == []
    r = await client.get("/api/downloads", params={"brand_id": alpha["id"]}, headers=beta["account"].auth)
    assert r.status_code == 403
    r = await client.get("/api/downloads", params={"from": "yesterday"}, headers=world["admin"].auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "from"
    assert (await client.get("/api/downloads")).status_code == 401
    assert (await client.get("/api/downloads", headers=world["designer"].auth)).status_code == 403
