"""The community world: minimal catalogue rows inserted directly (a model category, a brand with
its admin account, models), the interior dictionaries, and designers with interiors in each status.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account
from tests.support.files import png_bytes

PNG = png_bytes((200, 80, 40))


@pytest.fixture
def world(sql: Any) -> dict[str, Any]:
    """Dictionary rows and two models of one brand (created once per module, reused after)."""
    existing = sql("SELECT id FROM brands WHERE slug = 'community-brand'")
    if not existing:
        suffix = uuid.uuid4().hex[:6]
        sql("INSERT INTO categories (name, type) VALUES ('Living room', 'interior'), ('Sofas', 'model')")
        sql("INSERT INTO styles (name, type) VALUES ('Loft', 2), ('Modern', 1)")
        sql("INSERT INTO platforms (name, type) VALUES ('Corona', 2), ('3ds Max', 1)")
        sql("INSERT INTO brands (slug, name) VALUES ('community-brand', 'Community Brand'), ('other-brand', 'Other')")
        brand = sql("SELECT id FROM brands WHERE slug = 'community-brand'")[0]["id"]
        other = sql("SELECT id FROM brands WHERE slug = 'other-brand'")[0]["id"]
        cat = sql("SELECT id FROM categories WHERE name = 'Sofas'")[0]["id"]
        for slug, brand_id in ((f"sofa-{suffix}", brand), (f"chair-{suffix}", brand), (f"lamp-{suffix}", other)):
            sql(
                "INSERT INTO models (slug, name, brand_id, category_id) VALUES (%s, %s, %s, %s)",
                (slug, slug.split("-")[0].title(), brand_id, cat),
            )
            sql(
                "INSERT INTO model_images (model_id, image_src, is_main)"
                " SELECT id, %s, true FROM models WHERE slug = %s",
                (f"models/{slug}/cover.webp", slug),
            )
    one = lambda q: sql(q)[0]["id"]  # noqa: E731
    models = sql(
        "SELECT m.id, m.slug, b.slug AS brand FROM models m JOIN brands b ON b.id = m.brand_id ORDER BY m.slug"
    )
    return {
        "category_id": one("SELECT id FROM categories WHERE type = 'interior'"),
        "model_category_id": one("SELECT id FROM categories WHERE type = 'model'"),
        "style_id": one("SELECT id FROM styles WHERE type = 2"),
        "model_style_id": one("SELECT id FROM styles WHERE type = 1"),
        "platform_id": str(one("SELECT id FROM platforms WHERE type = 2")),
        "model_platform_id": str(one("SELECT id FROM platforms WHERE type = 1")),
        "brand_id": str(one("SELECT id FROM brands WHERE slug = 'community-brand'")),
        "other_brand_id": str(one("SELECT id FROM brands WHERE slug = 'other-brand'")),
        "models": [str(m["id"]) for m in models if m["brand"] == "community-brand"],
        "other_model": next(str(m["id"]) for m in models if m["brand"] == "other-brand"),
    }


@pytest.fixture
def make_brand_user(make_user: Any, sql: Any, world: dict[str, Any]) -> Any:
    async def create(brand_id: str | None = None) -> Account:
        account = await make_user("brand", full_name="Brand Admin")
        sql("UPDATE profiles SET brand_id = %s WHERE id = %s", (brand_id or world["brand_id"], account["id"]))
        account["brand_id"] = brand_id or world["brand_id"]
        return account

    return create


@pytest_asyncio.fixture(loop_scope="session")
async def brand_user(make_brand_user: Any) -> Account:
    return await make_brand_user()


def interior_form(world: dict[str, Any], name: str = "Sunny loft", images: int = 2, **fields: Any) -> dict[str, Any]:
    data = {
        "name": name, "description": "A bright room", "category_id": str(world["category_id"]),
        "style_id": str(world["style_id"]), "render_platform_id": world["platform_id"], **fields,
    }
    data = {k: v for k, v in data.items() if v is not None}
    files = [("cover", ("cover.png", PNG, "image/png"))]
    files += [("images", (f"img{i}.png", png_bytes((i * 40 % 255, 90, 90)), "image/png")) for i in range(images)]
    return {"data": data, "files": files}


@pytest.fixture
def make_interior(client: httpx.AsyncClient, sql: Any, world: dict[str, Any]) -> Any:
    """POST an interior as `author`, then set its status directly (1 approved by default)."""

    async def create(author: Account, *, status: int = 1, name: str = "Sunny loft", images: int = 2) -> dict[str, Any]:
        r = await client.post("/api/interiors", headers=author.auth, **interior_form(world, name, images))
        assert r.status_code == 201, r.text
        interior = r.json()["data"]["interior"]
        if status != 0:
            sql("UPDATE interiors SET status = %s WHERE id = %s", (status, interior["id"]))
            interior["status"] = status
        return interior

    return create
