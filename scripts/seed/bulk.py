"""Bulk models for demos and benchmarks: brands with logos, then N models with COPY in chunks.

Every model gets a cover and one gallery image and an archive, all pointing at one stored set of
objects (see assets.py); counters, dates, availability and dimensions are varied so every list
filter and order has something to do. Deterministic for a given N (seeded RNG), resumable (it only
adds the models that are missing from the `seed-` range).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.seed.assets import SeedAssets, store_assets
from scripts.seed.dictionaries import ensure_dictionaries
from shared.db import connection, fetch_all, fetch_val, transaction
from shared.domain.text import slugify

ADJECTIVES = ("Мягкий", "Классический", "Лофт", "Nordic", "Modern", "Велюровый", "Дубовый", "Compact", "Royal")
NOUNS = ("диван", "кресло", "стул", "стол", "шкаф", "комод", "торшер", "люстра", "зеркало", "кровать")
CHUNK = 5000
MODEL_COLUMNS = (
    "id", "slug", "name", "description", "brand_id", "category_id", "style_id", "model_platform_id",
    "render_platform_id", "availability", "top", "furniture_cost", "length", "width", "height", "file_key",
    "file_name", "file_size", "file_ext", "views_count", "likes_count", "saves_count", "downloads_count",
    "created_at", "updated_at",
)


async def ensure_brands(count: int, assets: SeedAssets, countries: list[Any], styles: list[int]) -> list[str]:
    existing = await fetch_all("SELECT id FROM brands WHERE slug LIKE 'seed-brand-%%' ORDER BY slug")
    have = len(existing)
    if have < count:
        async with transaction() as conn:
            for i in range(have, count):
                row = await (await conn.execute(
                    "INSERT INTO brands (slug, name, description, country_id, logo, site_link)"
                    " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    (f"seed-brand-{i:04d}", f"Seed Brand {i:04d}", "Мебельная фабрика", countries[i % len(countries)],
                     assets.logo, f"https://brand{i}.example.com"),
                )).fetchone()
                await conn.execute("INSERT INTO brand_styles (brand_id, style_id) VALUES (%s, %s)",
                                   (row["id"], styles[i % len(styles)]))
        existing = await fetch_all("SELECT id FROM brands WHERE slug LIKE 'seed-brand-%%' ORDER BY slug")
    return [str(r["id"]) for r in existing]


def _model_row(i: int, rng: random.Random, dicts: dict[str, list[Any]], brands: list[str], assets: SeedAssets,
               now: datetime) -> tuple:
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {i}"
    availability = rng.choices((1, 2, 3), weights=(80, 10, 10))[0]
    top = availability != 2 and rng.random() < 0.05
    created = now - timedelta(seconds=rng.randint(0, 730 * 86400), microseconds=rng.randint(0, 999_999))
    return (
        uuid.UUID(int=rng.getrandbits(128), version=4), f"seed-{i}-{slugify(name, 60)}", name,
        "Seeded model for demos and benchmarks.", rng.choice(brands), rng.choice(dicts["categories"]),
        rng.choice(dicts["styles"]), rng.choice(dicts["model_platforms"]), rng.choice(dicts["render_platforms"]),
        availability, top, round(rng.uniform(50, 5000), 2), rng.randint(30, 300), rng.randint(30, 200),
        rng.randint(30, 250), assets.archive_key, "model.zip", assets.archive_size, "zip",
        int(rng.paretovariate(1.2) * 10), rng.randint(0, 500), rng.randint(0, 300), rng.randint(0, 200),
        created, created,
    )


async def seed_models(n: int, *, progress: bool = True, brands_count: int | None = None) -> dict[str, int]:
    """Make sure models seed-0 .. seed-(n-1) exist; returns how many were added."""
    from tqdm import tqdm

    dicts = await ensure_dictionaries()
    existing = await fetch_val("SELECT count(*) FROM models WHERE slug LIKE 'seed-%%'") or 0
    if existing >= n:
        return {"models": 0, "existing": existing}
    assets = await store_assets()
    brands = await ensure_brands(brands_count or max(3, min(200, n // 500)), assets, dicts["countries"],
                                 dicts["styles"])
    rng = random.Random(20261125)
    now = datetime.now(UTC)
    rows = [_model_row(i, rng, dicts, brands, assets, now) for i in range(n)][existing:]
    bar = tqdm(total=len(rows), desc="models", unit="model", disable=not progress)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        async with connection() as conn, conn.transaction():
            async with conn.cursor().copy(f"COPY models ({', '.join(MODEL_COLUMNS)}) FROM STDIN") as copy:
                for row in chunk:
                    await copy.write_row(row)
            async with conn.cursor().copy(
                "COPY model_images (model_id, image_src, is_main, position) FROM STDIN"
            ) as copy:
                for row in chunk:
                    await copy.write_row((row[0], assets.cover, True, 0))
                    await copy.write_row((row[0], assets.gallery, False, 1))
            async with conn.cursor().copy("COPY model_materials (model_id, material_id) FROM STDIN") as copy:
                for k, row in enumerate(chunk):
                    await copy.write_row((row[0], dicts["materials"][(start + k) % len(dicts["materials"])]))
            async with conn.cursor().copy("COPY model_colors (model_id, color_id) FROM STDIN") as copy:
                for k, row in enumerate(chunk):
                    await copy.write_row((row[0], dicts["colors"][(start + k) % len(dicts["colors"])]))
        bar.update(len(chunk))
    bar.close()
    async with connection() as conn:
        await conn.execute("VACUUM ANALYZE models")
        await conn.execute("VACUUM ANALYZE model_images")
        await conn.execute("VACUUM ANALYZE model_colors")
        await conn.execute("VACUUM ANALYZE model_materials")
    return {"models": len(rows), "existing": existing}
