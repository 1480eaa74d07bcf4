"""Who may write what: an authorisation matrix over every write route of the community groups, and
pending interiors staying invisible on every route that could reveal them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.models.queries.detail import model_extras
from tests.support.community_world import PNG

ROLES = ("anonymous", "other_designer", "author", "brand", "admin")


@pytest.fixture
async def cast(make_user, make_brand_user, admin) -> dict[str, Any]:
    return {
        "anonymous": None,
        "other_designer": await make_user(),
        "author": await make_user(full_name="Matrix Author"),
        "brand": await make_brand_user(),
        "admin": admin,
    }


async def _fresh(client, cast, make_interior, world) -> dict[str, Any]:
    """An approved interior by the author, with a pin and a comment by the author."""
    interior = await make_interior(cast["author"], name=f"Matrix {uuid.uuid4().hex[:6]}")
    r = await client.post("/api/tags", headers=cast["author"].auth, json={
        "interior_id": interior["id"], "interior_image_id": interior["images"][0]["id"],
        "model_id": world["models"][0], "x": 1, "y": 2})
    tag = r.json()["data"]["tag"]
    r = await client.post("/api/comments", headers=cast["author"].auth,
                          json={"entity_id": interior["id"], "text": "mine"})
    return {"interior": interior, "tag": tag, "comment": r.json()["data"]["comment"]}


# (name, request builder, expected status per role). Ownership-scoped routes answer 403 to a
# signed-in stranger when the thing is visible to them.
MATRIX: list[tuple[str, Any, dict[str, int]]] = [
    ("edit interior", lambda t, w: ("PUT", f"/api/interiors/{t['interior']['id']}", {"json": {"name": "Renamed"}}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("delete interior", lambda t, w: ("DELETE", f"/api/interiors/{t['interior']['id']}", {}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("moderate", lambda t, w: ("PUT", f"/api/interiors/status/{t['interior']['id']}", {"json": {"status": 2}}),
     {"anonymous": 401, "other_designer": 403, "author": 403, "brand": 403, "admin": 200}),
    ("add images", lambda t, w: ("POST", f"/api/interiors/images/{t['interior']['id']}",
                                 {"files": [("images", ("a.png", PNG, "image/png"))]}),
     {"anonymous": 401, "other_designer": 403, "author": 201, "brand": 403, "admin": 201}),
    ("delete image", lambda t, w: ("DELETE", f"/api/interiors/images/{t['interior']['images'][1]['id']}", {}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("like", lambda t, w: ("POST", f"/api/interiors/lk/{t['interior']['id']}", {}),
     {"anonymous": 401, "other_designer": 200, "author": 200, "brand": 200, "admin": 200}),
    ("pin", lambda t, w: ("POST", "/api/tags", {"json": {
        "interior_id": t["interior"]["id"], "interior_image_id": t["interior"]["images"][0]["id"],
        "model_id": w["models"][1], "x": 5, "y": 5}}),
     {"anonymous": 401, "other_designer": 403, "author": 201, "brand": 403, "admin": 201}),
    ("unpin", lambda t, w: ("DELETE", f"/api/tags/{t['tag']['id']}", {}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("edit comment", lambda t, w: ("PUT", f"/api/comments/{t['comment']['id']}", {"json": {"text": "x"}}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("delete comment", lambda t, w: ("DELETE", f"/api/comments/{t['comment']['id']}", {}),
     {"anonymous": 401, "other_designer": 403, "author": 200, "brand": 403, "admin": 200}),
    ("like comment", lambda t, w: ("POST", f"/api/comments/{t['comment']['id']}/like", {}),
     {"anonymous": 401, "other_designer": 200, "author": 200, "brand": 200, "admin": 200}),
    ("comment", lambda t, w: ("POST", "/api/comments", {"json": {"entity_id": t["interior"]["id"], "text": "hi"}}),
     {"anonymous": 401, "other_designer": 201, "author": 201, "brand": 201, "admin": 201}),
    ("save interior", lambda t, w: ("POST", "/api/saved/interiors", {"json": {"interior_id": t["interior"]["id"]}}),
     {"anonymous": 401, "other_designer": 200, "author": 200, "brand": 200, "admin": 200}),
    ("save model", lambda t, w: ("POST", "/api/saved/models", {"json": {"model_id": w["models"][0]}}),
     {"anonymous": 401, "other_designer": 200, "author": 200, "brand": 200, "admin": 200}),
    ("create project", lambda t, w: ("POST", "/api/projects", {"json": {"name": "P"}}),
     {"anonymous": 401, "other_designer": 201, "author": 201, "brand": 201, "admin": 201}),
    ("mark all seen", lambda t, w: ("PUT", "/api/notifications/all", {}),
     {"anonymous": 401, "other_designer": 200, "author": 200, "brand": 200, "admin": 200}),
]


@pytest.mark.parametrize("name, build, expected", MATRIX, ids=[m[0] for m in MATRIX])
async def test_write_route_authorisation(client, cast, make_interior, world, name, build, expected):
    for role in ROLES:
        things = await _fresh(client, cast, make_interior, world)
        method, url, kwargs = build(things, world)
        account = cast[role]
        headers = account.auth if account else {}
        r = await client.request(method, url, headers=headers, **kwargs)
        assert r.status_code == expected[role], (name, role, r.text)


async def test_create_interior_roles(client, cast, world):
    from tests.support.community_world import interior_form

    expected = {"anonymous": 401, "other_designer": 201, "author": 201, "brand": 403, "admin": 201}
    for role, status in expected.items():
        account = cast[role]
        r = await client.post("/api/interiors", headers=account.auth if account else {}, **interior_form(world))
        assert r.status_code == status, (role, r.text)


async def test_pending_interior_is_invisible_everywhere(client, cast, make_interior, world, sql):
    author, stranger, admin = cast["author"], cast["other_designer"], cast["admin"]
    model = world["other_model"]
    pending = await make_interior(author, status=0, name="Secret pending")
    image = pending["images"][0]["id"]
    r = await client.post("/api/tags", headers=author.auth, json={
        "interior_id": pending["id"], "interior_image_id": image, "model_id": model, "x": 3, "y": 4})
    assert r.status_code == 201
    # the author and admin see it
    for account in (author, admin):
        assert (await client.get(f"/api/tags/{pending['id']}", headers=account.auth)).status_code == 200
    # nobody else does, on any route
    for headers in ({}, stranger.auth, cast["brand"].auth):
        assert (await client.get(f"/api/interiors/{pending['slug']}", headers=headers)).status_code == 404
        assert (await client.get(f"/api/tags/{pending['id']}", headers=headers)).status_code == 404
        listed = (await client.get("/api/interiors?limit=100", headers=headers)).json()["data"]["interiors"]
        assert pending["id"] not in {i["id"] for i in listed}
        r = await client.get(f"/api/tags/model/{model}/interiors", headers=headers)
        assert pending["id"] not in {i["id"] for i in r.json()["data"]["interiors"]}
        assert (await client.get(f"/api/comments?entity_id={pending['id']}", headers=headers)).status_code == 404
    extras = await model_extras(model, stranger["id"])
    assert pending["id"] not in {i["id"] for i in extras["used_interiors"]}
    brand_notes = sql("SELECT count(*) AS n FROM notifications WHERE interior_id = %s AND type = 'tag'",
                      (pending["id"],))
    assert brand_notes[0]["n"] == 0
    counts = (await client.get("/api/interiors/counts")).json()["data"]["counts"]
    approved = sql("SELECT count(*) AS n FROM interiors WHERE status = 1 AND NOT is_deleted")[0]["n"]
    assert counts["all"] == approved
    # approval reveals it, and model_extras lists it
    await client.put(f"/api/interiors/status/{pending['id']}", headers=admin.auth, json={"status": 1})
    extras = await model_extras(model, stranger["id"])
    assert pending["id"] in {i["id"] for i in extras["used_interiors"]} and extras["is_saved"] is False
    await client.post("/api/saved/models", headers=stranger.auth, json={"model_id": model})
    assert (await model_extras(model, stranger["id"]))["is_saved"] is True
    r = await client.get(f"/api/tags/model/{model}/interiors")
    assert pending["id"] in {i["id"] for i in r.json()["data"]["interiors"]}


async def test_tag_rules(client, cast, make_interior, world):
    author = cast["author"]
    one = await make_interior(author, name="Tag rules one")
    two = await make_interior(author, name="Tag rules two")
    base = {"interior_id": one["id"], "interior_image_id": one["images"][0]["id"], "model_id": world["models"][0]}
    for body, field in (
        ({**base, "interior_image_id": two["images"][0]["id"], "x": 1, "y": 1}, "interior_image_id"),
        ({**base, "x": 101, "y": 1}, "x"),
        ({**base, "x": 1, "y": -0.5}, "y"),
        ({**base, "x": 1}, "y"),
        ({**base, "model_id": str(uuid.uuid4()), "x": 1, "y": 1}, "model_id"),
    ):
        r = await client.post("/api/tags", headers=author.auth, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    r = await client.post("/api/tags", headers=author.auth, json={**base, "x": 0, "y": 100})
    assert r.status_code == 201
    tag = r.json()["data"]["tag"]
    assert tag["model"]["brand"]["name"] == "Community Brand" and tag["x"] == 0 and tag["y"] == 100
    listed = (await client.get(f"/api/tags/{one['id']}")).json()["data"]["tags"]
    assert [t["id"] for t in listed] == [tag["id"]]
    assert (await client.get("/api/tags", headers=cast["admin"].auth)).status_code == 200
    r = await client.get("/api/tags?interior_name=Tag rules one", headers=cast["admin"].auth)
    assert [t["id"] for t in r.json()["data"]["tags"]] == [tag["id"]]
    assert (await client.get("/api/tags", headers=author.auth)).status_code == 403
    assert (await client.get("/api/tags")).status_code == 401
    assert (await client.delete(f"/api/tags/{uuid.uuid4()}", headers=author.auth)).status_code == 404
    assert (await client.get(f"/api/tags/model/{uuid.uuid4()}/interiors")).status_code == 404
