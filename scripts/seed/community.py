"""Community demo data: designers, interiors with images and model pins, likes, comments, downloads.

`python -m scripts.seed.community --designers 200 --interiors 20000` (after `python -m scripts.seed`,
which makes the models). Rows go in by COPY in chunks and every interior points at one stored set of
images, so 20,000 interiors take seconds; counters (likes, designs, tags) are kept by the triggers,
which run once per COPY statement. Deterministic for given sizes; resumable (only what is missing
from the `seed-` ranges is added).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.db import connection, fetch_all, fetch_val, transaction

INTERIOR_CATEGORIES = ("Гостиная", "Спальня", "Кухня", "Ванная", "Детская", "Офис")
ROOMS = ("гостиная", "спальня", "кухня", "студия", "лофт", "кабинет", "терраса")
MOODS = ("Светлая", "Уютная", "Тёмная", "Scandi", "Modern", "Классическая", "Минималистичная")
COMMENTS = ("Отличная работа!", "Какой диван использовали?", "Очень уютно", "Great lighting", "Красиво 👍")
CHUNK = 5000


def _png(color: tuple[int, int, int], size: tuple[int, int] = (960, 640)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle((size[0] // 5, size[1] // 3, size[0] // 2, size[1] - 40), fill=(235, 225, 210))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _images() -> tuple[str, str]:
    from shared.storage import get_storage, store_image

    storage = get_storage()
    cover = await store_image(storage, _png((180, 160, 140)), "interior_cover")
    gallery = await store_image(storage, _png((120, 140, 160)), "interior_image")
    return cover.key, gallery.key


async def _dictionaries() -> dict[str, list[Any]]:
    try:
        from scripts.seed.dictionaries import ensure_dictionaries

        await ensure_dictionaries()
    except ModuleNotFoundError:  # the catalogue seed is not installed: interior rows still work
        pass
    async with transaction() as conn:
        for name in INTERIOR_CATEGORIES:
            await conn.execute(
                "INSERT INTO categories (name, type) VALUES (%s, 'interior') ON CONFLICT DO NOTHING", (name,)
            )
        await conn.execute("INSERT INTO styles (name, type) VALUES ('Современный', 2) ON CONFLICT DO NOTHING")
        await conn.execute("INSERT INTO platforms (name, type) VALUES ('Corona', 2) ON CONFLICT DO NOTHING")
    return {
        "categories": [r["id"] for r in await fetch_all("SELECT id FROM categories WHERE type = 'interior'")],
        "styles": [r["id"] for r in await fetch_all("SELECT id FROM styles WHERE type = 2")],
        "platforms": [r["id"] for r in await fetch_all("SELECT id FROM platforms WHERE type = 2")],
    }


async def _designers(count: int, rng: random.Random, now: datetime) -> list[uuid.UUID]:
    have = await fetch_val("SELECT count(*) FROM profiles WHERE username LIKE 'seed-designer-%%'") or 0
    if have < count:
        async with connection() as conn, conn.transaction(), conn.cursor().copy(
            "COPY profiles (id, username, email, full_name, role_id, is_verified, created_at) FROM STDIN"
        ) as copy:
            for i in range(have, count):
                created = now - timedelta(seconds=rng.randint(0, 730 * 86400))
                await copy.write_row((uuid.uuid4(), f"seed-designer-{i:05d}", f"seed-designer-{i:05d}@tridmo.local",
                                      f"Seed Designer {i:05d}", 3, True, created))
    rows = await fetch_all("SELECT id FROM profiles WHERE username LIKE 'seed-designer-%%' ORDER BY username")
    return [r["id"] for r in rows[:count]]


async def seed_community(designers: int = 20, interiors: int = 100, progress: bool = True) -> None:
    """Make sure seed-interior-0 .. (interiors-1) exist, with their images, pins, likes and comments."""
    from tqdm import tqdm

    rng = random.Random(20261126)
    now = datetime.now(UTC)
    dicts = await _dictionaries()
    authors = await _designers(max(designers, 1), rng, now)
    existing = await fetch_val("SELECT count(*) FROM interiors WHERE slug LIKE 'seed-interior-%%'") or 0
    models = [r["id"] for r in await fetch_all(
        "SELECT id FROM models WHERE NOT is_deleted ORDER BY id LIMIT 5000"
    )]
    if existing < interiors:
        cover, gallery = await _images()
        bar = tqdm(total=interiors - existing, desc="interiors", unit="interior", disable=not progress)
        for start in range(existing, interiors, CHUNK):
            stop = min(start + CHUNK, interiors)
            await _chunk(range(start, stop), rng, now, dicts, authors, models, cover, gallery)
            bar.update(stop - start)
        bar.close()
    if models:
        await _downloads(authors, models, rng, now, count=min(interiors * 5, len(authors) * len(models) // 2))
    async with connection() as conn:
        for table in ("profiles", "interiors", "interior_images", "interior_tags", "interior_likes", "comments",
                      "downloads"):
            await conn.execute(f"VACUUM ANALYZE {table}")


async def _chunk(
    numbers: range, rng: random.Random, now: datetime, dicts: dict[str, list[Any]], authors: list[uuid.UUID],
    models: list[uuid.UUID], cover: str, gallery: str,
) -> None:
    interiors, images, tags, likes, comments = [], [], [], [], []
    for i in numbers:
        interior_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        created = now - timedelta(seconds=rng.randint(0, 730 * 86400), microseconds=rng.randint(0, 999_999))
        status = rng.choices((1, 0, 2), weights=(90, 7, 3))[0]
        name = f"{rng.choice(MOODS)} {rng.choice(ROOMS)} {i}"
        interiors.append((
            interior_id, f"seed-interior-{i}", name, "Seeded interior for demos and benchmarks.",
            rng.choice(authors), rng.choice(dicts["categories"]), rng.choice(dicts["styles"]),
            rng.choice(dicts["platforms"]), status, int(rng.paretovariate(1.3) * 20), created, created,
        ))
        image_ids = [uuid.uuid4() for _ in range(3)]
        for position, image_id in enumerate(image_ids):
            images.append((image_id, interior_id, cover if position == 0 else gallery, position == 0, position))
        for _ in range(rng.randint(0, 5) if models else 0):
            tagged = created + timedelta(minutes=rng.randint(1, 600))
            tags.append((uuid.uuid4(), interior_id, rng.choice(image_ids), rng.choice(models),
                         round(rng.uniform(0, 100), 3), round(rng.uniform(0, 100), 3), min(tagged, now)))
        for fan in rng.sample(authors, k=min(len(authors), rng.randint(0, 6))):
            likes.append((interior_id, fan, created))
        if rng.random() < 0.3:
            comments.append((interior_id, rng.choice(authors), rng.choice(COMMENTS), created))
    async with connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL statement_timeout = 0")
        cur = conn.cursor()
        async with cur.copy(
            "COPY interiors (id, slug, name, description, author_id, category_id, style_id, render_platform_id,"
            " status, views_count, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in interiors:
                await copy.write_row(row)
        async with cur.copy("COPY interior_images (id, interior_id, image_src, is_main, position) FROM STDIN") as copy:
            for row in images:
                await copy.write_row(row)
        async with cur.copy(
            "COPY interior_tags (id, interior_id, interior_image_id, model_id, x, y, created_at) FROM STDIN"
        ) as copy:
            for row in tags:
                await copy.write_row(row)
        async with cur.copy("COPY interior_likes (interior_id, user_id, created_at) FROM STDIN") as copy:
            for row in likes:
                await copy.write_row(row)
        async with cur.copy("COPY comments (interior_id, user_id, text, created_at) FROM STDIN") as copy:
            for row in comments:
                await copy.write_row(row)


async def _downloads(
    users: list[uuid.UUID], models: list[uuid.UUID], rng: random.Random, now: datetime, count: int
) -> None:
    """First downloads by seeded designers over the last year (statistics need events to count)."""
    have = await fetch_val(
        "SELECT count(*) FROM downloads d JOIN profiles p ON p.id = d.user_id WHERE p.username LIKE 'seed-designer-%%'"
    ) or 0
    if have >= count:
        return
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    while len(pairs) < count - have:
        pairs.add((rng.choice(users), rng.choice(models)))
    rows = [(u, m, now - timedelta(seconds=rng.randint(0, 365 * 86400))) for u, m in sorted(pairs)]
    # downloads has a row-level counter trigger (catalogue): modest statements, no statement timeout
    for start in range(0, len(rows), CHUNK):
        async with connection() as conn, conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = 0")
            await conn.execute(
                "CREATE TEMP TABLE seed_downloads (user_id uuid, model_id uuid, created_at timestamptz) ON COMMIT DROP"
            )
            async with conn.cursor().copy("COPY seed_downloads FROM STDIN") as copy:
                for row in rows[start:start + CHUNK]:
                    await copy.write_row(row)
            await conn.execute(
                "INSERT INTO downloads (user_id, model_id, created_at) SELECT user_id, model_id, created_at"
                " FROM seed_downloads ON CONFLICT DO NOTHING"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed community data (designers, interiors, pins, likes)")
    parser.add_argument("--designers", type=int, default=20)
    parser.add_argument("--interiors", type=int, default=100)
    args = parser.parse_args()

    from shared.config import get_settings
    from shared.db.pool import close_pools, database_url
    from shared.migrate import apply_migrations

    apply_migrations(database_url(get_settings()))

    async def run() -> None:
        try:
            await seed_community(args.designers, args.interiors)
        finally:
            await close_pools()

    asyncio.run(run())


if __name__ == "__main__":
    main()
