"""`seed_demo()`: a small, idempotent demo world with the three demo accounts (used by `make run`)."""

from __future__ import annotations

from typing import Any

from shared.auth.bootstrap import ensure_account
from shared.db import execute, fetch_one

DEMO_PASSWORD = "tridmo-demo-2026"  # noqa: S105 - documented demo credential, local only
DEMO_BRAND_SLUG = "tridmo-demo"
DEMO_MODELS = 24


async def _demo_brand(logo: str | None) -> str:
    row = await fetch_one("SELECT id FROM brands WHERE slug = %s", (DEMO_BRAND_SLUG,))
    if row is None:
        row = await fetch_one(
            "INSERT INTO brands (slug, name, description, site_link, logo, country_id)"
            " VALUES (%s, 'Tridmo Demo', 'Демонстрационный бренд', 'https://tridmo.local', %s,"
            " (SELECT id FROM countries ORDER BY name LIMIT 1))"
            " ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
            (DEMO_BRAND_SLUG, logo),
        )
    return str(row["id"])


async def seed_demo() -> dict[str, Any]:
    from scripts.seed.bulk import seed_models
    from scripts.seed.dictionaries import ensure_dictionaries

    await ensure_dictionaries()
    await seed_models(DEMO_MODELS, progress=False, brands_count=3)
    logo = await fetch_one("SELECT logo FROM brands WHERE slug LIKE 'seed-brand-%%' LIMIT 1")
    brand_id = await _demo_brand(logo["logo"] if logo else None)
    await execute(
        "UPDATE models SET brand_id = %s WHERE slug LIKE 'seed-%%' AND id IN"
        " (SELECT id FROM models WHERE slug LIKE 'seed-%%' ORDER BY slug LIMIT 8) AND brand_id IS DISTINCT FROM %s",
        (brand_id, brand_id),
    )
    logins = []
    for email, name, role in (
        ("admin@tridmo.local", "Demo Administrator", "admin"),
        ("brand@tridmo.local", "Demo Brand Manager", "brand"),
        ("designer@tridmo.local", "Demo Designer", "designer"),
    ):
        user_id = await ensure_account(email, DEMO_PASSWORD, name, role, brand_id=brand_id if role == "brand" else None)
        if role == "brand":
            await execute("UPDATE profiles SET brand_id = %s WHERE id = %s", (brand_id, user_id))
        logins.append({"email": email, "password": DEMO_PASSWORD, "role": role})
    return {"brand_id": brand_id, "logins": logins}
