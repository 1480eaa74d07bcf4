"""Dictionaries: public reads, admin-only writes, 409 for taken names and entries in use."""

from __future__ import annotations

import pytest

from tests.support.files import png_bytes


async def test_color_crud_roundtrip(client, admin):
    r = await client.post("/api/colors", json={"name": "Red", "hex_value": "#ff0000"}, headers=admin.auth)
    assert r.status_code == 201, r.text
    color = r.json()["data"]
    assert color["name"] == "Red" and isinstance(color["id"], int)
    r = await client.get("/api/colors/", params={"keyword": "re"})
    assert [c["name"] for c in r.json()["data"]] == ["Red"]
    r = await client.put(f"/api/colors/{color['id']}", json={"hex_value": "#00ff00"}, headers=admin.auth)
    assert r.status_code == 200 and r.json()["data"]["hex_value"] == "#00ff00"
    r = await client.get(f"/api/colors/{color['id']}")
    assert r.json()["data"]["hex_value"] == "#00ff00"
    r = await client.delete(f"/api/colors/{color['id']}", headers=admin.auth)
    assert r.status_code == 200
    assert (await client.get(f"/api/colors/{color['id']}")).status_code == 404


@pytest.mark.parametrize(
    "prefix, body, field",
    [
        ("colors", {"name": "X", "hex_value": "red"}, "hex_value"),
        ("colors", {"hex_value": "#ffffff"}, "name"),
        ("materials", {"name": ""}, "name"),
        ("styles", {"name": "Loft", "type": 3}, "type"),
        ("platforms", {"name": "3ds Max"}, "type"),
        ("countries", {"name": "x" * 101}, "name"),
        ("categories", {"name": "Sofas", "type": "garden"}, "type"),
    ],
)
async def test_dictionary_validation_names_the_field(client, admin, prefix, body, field):
    r = await client.post(f"/api/{prefix}", json=body, headers=admin.auth)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_taken_name_is_conflict(client, admin):
    assert (await client.post("/api/materials", json={"name": "Oak"}, headers=admin.auth)).status_code == 201
    r = await client.post("/api/materials", json={"name": "OAK"}, headers=admin.auth)
    assert r.status_code == 409 and r.json()["reason"] == "conflict"


async def test_writes_need_admin(client, designer):
    assert (await client.post("/api/styles", json={"name": "Loft"})).status_code == 401
    assert (await client.post("/api/styles", json={"name": "Loft"}, headers=designer.auth)).status_code == 403


async def test_missing_ids_are_404(client, admin):
    assert (await client.get("/api/colors/999999")).status_code == 404
    assert (await client.get("/api/countries/not-a-uuid")).status_code == 404
    assert (await client.get("/api/countries/00000000-0000-0000-0000-000000000000")).status_code == 404
    r = await client.put("/api/materials/999999", json={"name": "Z"}, headers=admin.auth)
    assert r.status_code == 404
    missing = "/api/platforms/00000000-0000-0000-0000-000000000000"
    assert (await client.delete(missing, headers=admin.auth)).status_code == 404


async def test_platforms_by_type(client, admin):
    await client.post("/api/platforms", json={"name": "3ds Max", "type": 1}, headers=admin.auth)
    await client.post("/api/platforms", json={"name": "Corona", "type": 2}, headers=admin.auth)
    assert [p["name"] for p in (await client.get("/api/platforms/model")).json()["data"]] == ["3ds Max"]
    assert [p["name"] for p in (await client.get("/api/platforms/render")).json()["data"]] == ["Corona"]


async def test_categories_tree_image_and_cascade(client, admin):
    r = await client.post(
        "/api/categories", data={"name": "Мебель"}, files={"image": ("c.png", png_bytes(), "image/png")},
        headers=admin.auth,
    )
    assert r.status_code == 201, r.text
    parent = r.json()["data"]
    assert parent["image_src"].startswith("categories/") and parent["image"]["url"].endswith(parent["image_src"])
    r = await client.post("/api/categories", json={"name": "Стулья", "parent_id": parent["id"]}, headers=admin.auth)
    child = r.json()["data"]
    r = await client.post("/api/categories", json={"name": "Deep", "parent_id": child["id"]}, headers=admin.auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "parent_id"
    r = await client.get("/api/categories/main", params={"models_count": "true"})
    main = [c for c in r.json()["data"] if c["id"] == parent["id"]][0]
    assert [c["name"] for c in main["children"]] == ["Стулья"] and main["models_count"] == 0
    r = await client.delete(f"/api/categories/{parent['id']}?cascade=true", headers=admin.auth)
    assert r.status_code == 200
    assert (await client.get(f"/api/categories/{child['id']}")).status_code == 404


async def test_category_delete_detaches_children(client, admin):
    parent = (await client.post("/api/categories", json={"name": "Lamps"}, headers=admin.auth)).json()["data"]
    child = (await client.post("/api/categories", json={"name": "Floor", "parent_id": parent["id"]},
                               headers=admin.auth)).json()["data"]
    assert (await client.delete(f"/api/categories/{parent['id']}", headers=admin.auth)).status_code == 200
    assert (await client.get(f"/api/categories/{child['id']}")).json()["data"]["parent_id"] is None


async def test_entry_in_use_cannot_be_deleted(client, admin, sql):
    style = (await client.post("/api/styles", json={"name": "Used"}, headers=admin.auth)).json()["data"]
    category = sql("INSERT INTO categories (name) VALUES ('Tables') RETURNING id")[0]["id"]
    sql("INSERT INTO models (slug, name, category_id, style_id) VALUES ('t1', 'T1', %s, %s)", (category, style["id"]))
    r = await client.delete(f"/api/styles/{style['id']}", headers=admin.auth)
    assert r.status_code == 409


async def test_countries_carry_counts(client, admin):
    r = await client.post("/api/countries", json={"name": "Italy"}, headers=admin.auth)
    assert r.status_code == 201
    rows = (await client.get("/api/countries?name=ital")).json()["data"]
    assert rows[0]["brands_count"] == 0 and rows[0]["models_count"] == 0
