"""Dictionaries every seeded world needs; inserted idempotently, returned as id lists."""

from __future__ import annotations

from typing import Any

from shared.db import fetch_all, transaction

COUNTRIES = ("Узбекистан", "Italy", "Germany", "Turkey", "China", "Poland")
COLORS = (("Белый", "#ffffff"), ("Чёрный", "#000000"), ("Серый", "#808080"), ("Бежевый", "#f5f5dc"),
          ("Коричневый", "#8b4513"), ("Синий", "#1e3a8a"), ("Зелёный", "#2e7d32"))
MATERIALS = ("Дерево", "Металл", "Стекло", "Ткань", "Кожа", "Мрамор", "Пластик")
STYLES = ("Современный", "Классика", "Лофт", "Скандинавский", "Минимализм", "Неоклассика")
PLATFORMS = (("3ds Max", 1), ("Blender", 1), ("SketchUp", 1), ("Corona", 2), ("V-Ray", 2))
CATEGORIES = {
    "Мебель": ("Диваны", "Кресла", "Стулья", "Столы", "Шкафы", "Кровати"),
    "Освещение": ("Люстры", "Торшеры", "Бра"),
    "Декор": ("Вазы", "Зеркала", "Ковры"),
}


async def ensure_dictionaries() -> dict[str, list[Any]]:
    async with transaction() as conn:
        for name in COUNTRIES:
            await conn.execute("INSERT INTO countries (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))
        for name, hex_value in COLORS:
            await conn.execute("INSERT INTO colors (name, hex_value) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                               (name, hex_value))
        for name in MATERIALS:
            await conn.execute("INSERT INTO materials (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))
        for name in STYLES:
            await conn.execute("INSERT INTO styles (name, type) VALUES (%s, 1) ON CONFLICT DO NOTHING", (name,))
            await conn.execute("INSERT INTO styles (name, type) VALUES (%s, 2) ON CONFLICT DO NOTHING", (name,))
        for name, kind in PLATFORMS:
            await conn.execute("INSERT INTO platforms (name, type) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                               (name, kind))
        for parent, children in CATEGORIES.items():
            await conn.execute(
                "INSERT INTO categories (name) VALUES (%s) ON CONFLICT DO NOTHING", (parent,)
            )
            for child in children:
                await conn.execute(
                    "INSERT INTO categories (name, parent_id)"
                    " SELECT %s, id FROM categories WHERE lower(name) = lower(%s) AND parent_id IS NULL"
                    " AND type = 'model' ON CONFLICT DO NOTHING", (child, parent),
                )
    out: dict[str, list[Any]] = {}
    for key, sql in (
        ("countries", "SELECT id FROM countries ORDER BY name"),
        ("colors", "SELECT id FROM colors ORDER BY id"),
        ("materials", "SELECT id FROM materials ORDER BY id"),
        ("styles", "SELECT id FROM styles WHERE type = 1 ORDER BY id"),
        ("model_platforms", "SELECT id FROM platforms WHERE type = 1 ORDER BY name"),
        ("render_platforms", "SELECT id FROM platforms WHERE type = 2 ORDER BY name"),
        ("categories", "SELECT id FROM categories WHERE parent_id IS NOT NULL AND type = 'model' ORDER BY id"),
    ):
        out[key] = [r["id"] for r in await fetch_all(sql)]
    return out
