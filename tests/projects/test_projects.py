"""Projects: owner-only collections of models."""

from __future__ import annotations

import uuid


async def test_project_lifecycle(client, make_user, world):
    user = await make_user()
    r = await client.post("/api/projects", headers=user.auth, json={"name": "Kitchen"})
    assert r.status_code == 201
    project = r.json()["data"]["project"]
    pid = project["id"]
    for model in (world["models"][0], world["models"][0], world["models"][1]):
        r = await client.post(f"/api/projects/{pid}/model/{model}", headers=user.auth)
        assert r.status_code == 200
    got = (await client.get(f"/api/projects/{pid}", headers=user.auth)).json()["data"]["project"]
    assert got["models_count"] == 2 and {m["id"] for m in got["models"]} == set(world["models"][:2])
    r = await client.delete(f"/api/projects/{pid}/model/{world['models'][0]}", headers=user.auth)
    assert r.json()["data"]["project"]["models_count"] == 1
    r = await client.put(f"/api/projects/{pid}", headers=user.auth, json={"name": "Kitchen v2"})
    assert r.json()["data"]["project"]["name"] == "Kitchen v2"
    listed = (await client.get("/api/projects", headers=user.auth)).json()["data"]
    assert [p["id"] for p in listed["projects"]] == [pid]
    assert (await client.delete(f"/api/projects/{pid}?cascade=true", headers=user.auth)).status_code == 200
    assert (await client.get(f"/api/projects/{pid}", headers=user.auth)).status_code == 404


async def test_another_users_project_is_not_found(client, make_user, admin, world):
    owner = await make_user()
    other = await make_user()
    r = await client.post("/api/projects", headers=owner.auth, json={"name": "Private"})
    pid = r.json()["data"]["project"]["id"]
    model = world["models"][0]
    for method, url, body in (
        ("GET", f"/api/projects/{pid}", None),
        ("PUT", f"/api/projects/{pid}", {"name": "x"}),
        ("DELETE", f"/api/projects/{pid}", None),
        ("POST", f"/api/projects/{pid}/model/{model}", None),
        ("DELETE", f"/api/projects/{pid}/model/{model}", None),
    ):
        for account in (other, admin):
            r = await client.request(method, url, headers=account.auth, json=body)
            assert r.status_code == 404, (method, url, r.text)
        assert (await client.request(method, url, json=body)).status_code == 401
    assert (await client.get("/api/projects", headers=other.auth)).json()["data"]["projects"] == []


async def test_project_validation(client, make_user):
    user = await make_user()
    for body in ({}, {"name": ""}, {"name": "x" * 101}):
        r = await client.post("/api/projects", headers=user.auth, json=body)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"
    pid = (await client.post("/api/projects", headers=user.auth, json={"name": "Ok"})).json()["data"]["project"]["id"]
    r = await client.post(f"/api/projects/{pid}/model/{uuid.uuid4()}", headers=user.auth)
    assert r.status_code == 404
