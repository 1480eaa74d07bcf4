"""Brands: list and detail, creation with the brand's admin account, edits by admin or own brand."""

from __future__ import annotations

from tests.support.files import png_bytes


async def _create(client, admin, **overrides):
    body = {"name": "Мебель Плюс", "username": "mebel_plus", "password": "brand-pass-123", "styles": [], **overrides}
    return await client.post("/api/brands", json=body, headers=admin.auth)


async def test_create_brand_with_admin_account_and_sign_in(client, admin, sql):
    style = sql("INSERT INTO styles (name) VALUES ('Classic') RETURNING id")[0]["id"]
    country = str(sql("INSERT INTO countries (name) VALUES ('Uzbekistan') RETURNING id")[0]["id"])
    r = await _create(client, admin, styles=[style], country_id=country, description="<b>Best</b><script>x()</script>")
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    brand, account = data["brand"], data["admin"]
    assert brand["slug"] == "mebel-plyus" and brand["styles"][0]["id"] == style
    assert brand["country"]["id"] == country and brand["description"] == "<b>Best</b>"
    assert account["email"] == "mebel_plus@brands.tridmo.local" and account["brand_id"] == brand["id"]
    r = await client.post("/api/auth/signin/brand", json={"username": "mebel_plus", "password": "brand-pass-123"})
    assert r.status_code == 200, r.text
    token = r.json()["data"]["token"]["accessToken"]
    r = await client.put(f"/api/brands/{brand['id']}", json={"phone": "+998 90"},
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["data"]["brand"]["phone"] == "+998 90"
    assert (await client.get(f"/api/brands/{brand['slug']}")).json()["data"]["brand"]["id"] == brand["id"]
    r = await _create(client, admin, username="other_user")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "name"
    r = await _create(client, admin, name="Another", username="mebel_plus")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "username"
    assert sql("SELECT count(*) AS n FROM brands WHERE name = 'Another'")[0]["n"] == 0


async def test_create_brand_multipart_with_logo(client, admin):
    r = await client.post(
        "/api/brands", data={"name": "Logo Brand", "username": "logo_brand", "password": "brand-pass-123",
                             "styles": "[]"},
        files={"image": ("logo.png", png_bytes(), "image/png")}, headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    brand = r.json()["data"]["brand"]
    assert brand["logo"].startswith("brands/") and brand["image"]["url"].endswith(brand["logo"])


async def test_brand_validation(client, admin):
    for body, field in [
        ({"username": "abc_brand", "password": "brand-pass-123"}, "name"),
        ({"name": "X", "password": "brand-pass-123"}, "username"),
        ({"name": "X", "username": "abc_brand", "password": "short"}, "password"),
        ({"name": "X", "username": "abc_brand", "password": "brand-pass-123", "site_link": "ftp://x"}, "site_link"),
        ({"name": "X", "username": "abc_brand", "password": "brand-pass-123", "styles": [999999]}, "styles"),
        ({"name": "X", "username": "abc_brand", "password": "brand-pass-123",
          "country_id": "00000000-0000-0000-0000-000000000000"}, "country_id"),
    ]:
        r = await client.post("/api/brands", json=body, headers=admin.auth)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["field"] == field


async def test_brand_auth_levels(client, world):
    alpha, beta = world["brands"]
    body = {"name": "Nope", "username": "nope_brand", "password": "brand-pass-123"}
    assert (await client.post("/api/brands", json=body)).status_code == 401
    assert (await client.post("/api/brands", json=body, headers=world["designer"].auth)).status_code == 403
    assert (await client.post("/api/brands", json=body, headers=alpha["account"].auth)).status_code == 403
    r = await client.put(f"/api/brands/{beta['id']}", json={"phone": "1"}, headers=alpha["account"].auth)
    assert r.status_code == 403
    r = await client.delete(f"/api/brands/{alpha['id']}", headers=alpha["account"].auth)
    assert r.status_code == 403
    assert (await client.get("/api/brands/no-such-brand")).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.put(f"/api/brands/{missing}", json={}, headers=world["admin"].auth)).status_code == 404


async def test_brand_list_filters_and_order(client, world):
    alpha, beta = world["brands"]
    r = await client.get("/api/brands", params={"name": alpha["name"], "orderBy": "models_count", "limit": 5})
    data = r.json()["data"]
    assert [x["name"] for x in data["brands"]] == [alpha["name"]]
    assert data["pagination"] == {"data_count": 1, "pages": 1, "current": 0, "next": None, "limit": 5}
    r = await client.get("/api/brands", params={"country_id": world["country_id"], "orderBy": "name", "order": "asc"})
    names = [x["name"] for x in r.json()["data"]["brands"]]
    assert names.index(alpha["name"]) < names.index(beta["name"])
    assert (await client.get("/api/brands?orderBy=phone")).status_code == 400


async def test_delete_brand_soft_deletes_models_and_removes_accounts(client, world, sql):
    beta = world["brands"][1]
    sql("INSERT INTO models (slug, name, category_id, brand_id) VALUES ('beta-m', 'M', %s, %s)",
        (world["category_id"], beta["id"]))
    assert sql("SELECT models_count FROM brands WHERE id = %s", (beta["id"],))[0]["models_count"] == 1
    r = await client.delete(f"/api/brands/{beta['id']}", headers=world["admin"].auth)
    assert r.status_code == 200, r.text
    assert sql("SELECT is_deleted FROM models WHERE slug = 'beta-m'")[0]["is_deleted"] is True
    assert sql("SELECT 1 FROM profiles WHERE id = %s", (beta["account"]["id"],)) == []
    assert (await client.get(f"/api/brands/{beta['id']}")).status_code == 404
