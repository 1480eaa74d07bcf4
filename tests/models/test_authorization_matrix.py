"""Every write route of the catalogue groups, called by anonymous, a designer, another brand, the owning
brand and an admin: each gets exactly the answer its role and ownership allow."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.files import png_bytes, zip_bytes

ACTORS = ("anonymous", "designer", "other_brand", "own_brand", "admin")
ADMIN_ONLY = {"anonymous": 401, "designer": 403, "other_brand": 403, "own_brand": 403, "admin": "ok"}
OWNER = {"anonymous": 401, "designer": 403, "other_brand": 403, "own_brand": "ok", "admin": "ok"}
ANY_USER = {"anonymous": 401, "designer": "ok", "other_brand": "ok", "own_brand": "ok", "admin": "ok"}
BRAND_OR_ADMIN = {"anonymous": 401, "designer": 403, "other_brand": "ok", "own_brand": "ok", "admin": "ok"}
DICTIONARY_BODIES = {
    "colors": lambda: {"name": f"c-{uuid.uuid4().hex[:8]}", "hex_value": "#abcdef"},
    "materials": lambda: {"name": f"m-{uuid.uuid4().hex[:8]}"},
    "styles": lambda: {"name": f"s-{uuid.uuid4().hex[:8]}"},
    "platforms": lambda: {"name": f"p-{uuid.uuid4().hex[:8]}", "type": 1},
    "countries": lambda: {"name": f"k-{uuid.uuid4().hex[:8]}"},
    "categories": lambda: {"name": f"g-{uuid.uuid4().hex[:8]}"},
}
INSERT_DICTIONARY = {
    "colors": "INSERT INTO colors (name, hex_value) VALUES (%s, '#000000') RETURNING id",
    "materials": "INSERT INTO materials (name) VALUES (%s) RETURNING id",
    "styles": "INSERT INTO styles (name) VALUES (%s) RETURNING id",
    "platforms": "INSERT INTO platforms (name, type) VALUES (%s, 1) RETURNING id",
    "countries": "INSERT INTO countries (name) VALUES (%s) RETURNING id",
    "categories": "INSERT INTO categories (name) VALUES (%s) RETURNING id",
}


class World:
    def __init__(self, sql: Any, world: dict[str, Any]) -> None:
        self.sql, self.w = sql, world
        self.own, self.other = world["brands"]

    def entry(self, prefix: str) -> str:
        return str(self.sql(INSERT_DICTIONARY[prefix], (f"x-{uuid.uuid4().hex[:10]}",))[0]["id"])

    def model(self) -> str:
        mid = self.sql(
            "INSERT INTO models (slug, name, category_id, brand_id, file_key, file_name) VALUES (%s, 'M', %s, %s,"
            " 'models/x.zip', 'x.zip') RETURNING id",
            (f"mx-{uuid.uuid4().hex[:10]}", self.w["category_id"], self.own["id"]),
        )[0]["id"]
        self.sql("INSERT INTO model_images (model_id, image_src, is_main) VALUES (%s, 'models/a/cover.webp', true)",
                 (mid,))
        return str(mid)

    def image(self) -> str:
        mid = self.model()
        sql = "INSERT INTO model_images (model_id, image_src, position) VALUES (%s, 'models/b/l.webp', 1) RETURNING id"
        return str(self.sql(sql, (mid,))[0]["id"])

    def linked(self, table: str, column: str, value: int) -> str:
        mid = self.model()
        self.sql(f"INSERT INTO {table} (model_id, {column}) VALUES (%s, %s)", (mid, value))
        return mid

    def user(self) -> str:
        uid = str(uuid.uuid4())
        self.sql("INSERT INTO profiles (id, username, email, full_name) VALUES (%s, %s, %s, 'Some One')",
                 (uid, f"u{uid[:8]}", f"{uid[:8]}@example.com"))
        return uid


def _form_model(w: World) -> dict[str, Any]:
    return {
        "data": {"name": "Matrix", "category_id": str(w.w["category_id"]), "brand_id": w.own["id"]},
        "files": [("cover", ("c.png", png_bytes(), "image/png")), ("file", ("a.zip", zip_bytes(), "application/zip"))],
    }


Case = tuple[str, Callable[[World], tuple[str, str, dict[str, Any]]], dict[str, Any]]
CASES: list[Case] = []
for _prefix in DICTIONARY_BODIES:
    CASES += [
        (f"POST {_prefix}", lambda w, p=_prefix: ("POST", f"/api/{p}", {"json": DICTIONARY_BODIES[p]()}), ADMIN_ONLY),
        (f"PUT {_prefix}", lambda w, p=_prefix: ("PUT", f"/api/{p}/{w.entry(p)}", {"json": DICTIONARY_BODIES[p]()}),
         ADMIN_ONLY),
        (f"DELETE {_prefix}", lambda w, p=_prefix: ("DELETE", f"/api/{p}/{w.entry(p)}", {}), ADMIN_ONLY),
    ]
CASES += [
    ("POST brands", lambda w: ("POST", "/api/brands", {"json": {
        "name": f"B {uuid.uuid4().hex[:8]}", "username": f"b_{uuid.uuid4().hex[:8]}", "password": "brand-pass-1"}}),
     ADMIN_ONLY),
    ("PUT brands", lambda w: ("PUT", f"/api/brands/{w.own['id']}", {"json": {"phone": "1"}}), OWNER),
    ("DELETE brands", lambda w: ("DELETE", "/api/brands/" + str(w.sql(
        "INSERT INTO brands (slug, name) VALUES (%s, 'Gone') RETURNING id", (f"gone-{uuid.uuid4().hex[:8]}",)
    )[0]["id"]), {}), ADMIN_ONLY),
    ("POST models", lambda w: ("POST", "/api/models", _form_model(w)), OWNER),
    ("PUT models", lambda w: ("PUT", f"/api/models/{w.model()}", {"json": {"name": "Renamed"}}), OWNER),
    ("PUT models/file", lambda w: ("PUT", f"/api/models/file/{w.model()}",
                                   {"files": {"file": ("n.zip", zip_bytes(), "application/zip")}}), OWNER),
    ("POST models/images", lambda w: ("POST", f"/api/models/images/{w.model()}",
                                      {"files": {"images": ("i.png", png_bytes(), "image/png")}}), OWNER),
    ("DELETE models/images", lambda w: ("DELETE", f"/api/models/images/{w.image()}", {}), OWNER),
    ("POST models/materials", lambda w: ("POST", f"/api/models/materials/{w.model()}",
                                         {"json": {"materials": [w.w["material_id"]]}}), OWNER),
    ("POST models/colors", lambda w: ("POST", f"/api/models/colors/{w.model()}",
                                      {"json": {"colors": [w.w["color_id"]]}}), OWNER),
    ("DELETE models/materials", lambda w: (
        "DELETE", f"/api/models/materials/{w.w['material_id']}/"
        f"{w.linked('model_materials', 'material_id', w.w['material_id'])}", {}), OWNER),
    ("DELETE models/colors", lambda w: (
        "DELETE", f"/api/models/colors/{w.w['color_id']}/{w.linked('model_colors', 'color_id', w.w['color_id'])}",
        {}), OWNER),
    ("DELETE models", lambda w: ("DELETE", f"/api/models/{w.model()}", {}), OWNER),
    ("POST models/download", lambda w: ("POST", f"/api/models/download/{w.model()}", {}), ANY_USER),
    ("PUT users/profile/:id", lambda w: ("PUT", f"/api/users/profile/{w.user()}", {"json": {"address": "x"}}),
     ADMIN_ONLY),
    ("PUT users/pwd/:id", lambda w: ("PUT", f"/api/users/pwd/{w.user()}", {"json": {"password": "long-enough-2"}}),
     ADMIN_ONLY),
    ("DELETE users/:id", lambda w: ("DELETE", f"/api/users/{w.user()}", {}), ADMIN_ONLY),
    ("GET users", lambda w: ("GET", "/api/users", {}), BRAND_OR_ADMIN),
    ("GET downloads", lambda w: ("GET", "/api/downloads", {}), BRAND_OR_ADMIN),
]


@pytest.mark.parametrize("name, prepare, expected", CASES, ids=[c[0] for c in CASES])
async def test_write_route_authorisation(client, sql, world, name, prepare, expected):
    w = World(sql, world)
    headers = {
        "anonymous": {}, "designer": world["designer"].auth, "other_brand": w.other["account"].auth,
        "own_brand": w.own["account"].auth, "admin": world["admin"].auth,
    }
    for actor in ACTORS:
        method, url, kwargs = prepare(w)
        r = await client.request(method, url, headers=headers[actor], **kwargs)
        want = expected[actor]
        if want == "ok":
            assert r.status_code < 300, (name, actor, r.status_code, r.text)
        else:
            assert r.status_code == want, (name, actor, r.status_code, r.text)
