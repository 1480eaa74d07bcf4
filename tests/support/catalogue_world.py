"""The catalogue world, for the models, brands, catalog, users and downloads tests: dictionaries,
two brands with their admin accounts, a designer and an admin, and `create_model`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import pytest_asyncio

from tests.support.accounts import Account
from tests.support.files import png_bytes, zip_bytes


@pytest.fixture
def png() -> bytes:
    return png_bytes()


@pytest_asyncio.fixture(loop_scope="session")
async def world(client: Any, sql: Any, make_user: Any) -> dict[str, Any]:
    """Dictionaries, two brands, each with a brand admin account, and an admin, by direct SQL."""
    country = sql("INSERT INTO countries (name) VALUES ('Uzbekistan') ON CONFLICT DO NOTHING RETURNING id")
    country_id = str(country[0]["id"]) if country else str(sql("SELECT id FROM countries LIMIT 1")[0]["id"])
    parent = sql("INSERT INTO categories (name) VALUES ('Furniture ' || gen_random_uuid()) RETURNING id")[0]["id"]
    child = sql("INSERT INTO categories (name, parent_id) VALUES ('Chairs', %s) RETURNING id", (parent,))[0]["id"]
    style = sql("INSERT INTO styles (name) VALUES ('Modern ' || gen_random_uuid()) RETURNING id")[0]["id"]
    color = sql("INSERT INTO colors (name, hex_value) VALUES ('Red ' || gen_random_uuid(), '#ff0000') RETURNING id")
    material = sql("INSERT INTO materials (name) VALUES ('Oak ' || gen_random_uuid()) RETURNING id")[0]["id"]
    brands = []
    tag = uuid.uuid4().hex[:8]
    for label in ("Alpha", "Beta"):
        slug = f"{label.lower()}-{tag}"
        row = sql(
            "INSERT INTO brands (slug, name, country_id) VALUES (%s, %s, %s) RETURNING id",
            (slug, f"{label} Brand {tag}", country_id),
        )[0]
        account: Account = await make_user("brand", full_name=f"{label} Admin")
        sql("UPDATE profiles SET brand_id = %s WHERE id = %s", (row["id"], account["id"]))
        brands.append({"id": str(row["id"]), "slug": slug, "name": f"{label} Brand {tag}", "account": account})
    return {
        "country_id": country_id, "parent_id": parent, "category_id": child, "style_id": style,
        "color_id": color[0]["id"], "material_id": material, "brands": brands,
        "admin": await make_user("admin", full_name="Admin Person"),
        "designer": await make_user("designer", full_name="Designer Person"),
    }


async def create_model(client: Any, account: Account, world: dict[str, Any], **fields: Any) -> Any:
    data = {
        "name": fields.pop("name", "Chester Sofa"), "category_id": str(world["category_id"]),
        "style_id": str(world["style_id"]), "materials": f"[{world['material_id']}]",
        "colors": str(world["color_id"]), **{k: str(v) for k, v in fields.items()},
    }
    files = [
        ("cover", ("cover.png", png_bytes(), "image/png")),
        ("file", ("chair.zip", zip_bytes(), "application/zip")),
    ]
    return await client.post("/api/models", data=data, files=files, headers=account.auth)
