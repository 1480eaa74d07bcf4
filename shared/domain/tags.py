"""Model pins on interior images: the rows a tag list shows, shared by the interiors and tags groups."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from shared.db import fetch_all
from shared.domain.media import image_object

_TAGS_OF_INTERIOR = """
SELECT t.id, t.x, t.y, t.interior_image_id, t.created_at,
       m.id AS m_id, m.name AS m_name, m.slug AS m_slug, mc.image_src AS m_cover,
       b.id AS b_id, b.name AS b_name, b.slug AS b_slug
FROM interior_tags t
JOIN models m ON m.id = t.model_id AND NOT m.is_deleted
LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main
LEFT JOIN brands b ON b.id = m.brand_id
WHERE t.interior_id = %s
ORDER BY t.created_at, t.id
"""


def tag_object(row: dict[str, Any]) -> dict[str, Any]:
    brand = {"id": str(row["b_id"]), "name": row["b_name"], "slug": row["b_slug"]} if row.get("b_id") else None
    cover = image_object(row.get("m_cover"))
    return {
        "id": str(row["id"]),
        "x": float(row["x"]),
        "y": float(row["y"]),
        "interior_image_id": str(row["interior_image_id"]),
        "model": {
            "id": str(row["m_id"]),
            "name": row["m_name"],
            "slug": row["m_slug"],
            "cover": [cover] if cover else [],
            "brand": brand,
        },
        "created_at": row["created_at"],
    }


async def tags_of_interior(interior_id: str, conn: AsyncConnection[Any] | None = None) -> list[dict[str, Any]]:
    return [tag_object(r) for r in await fetch_all(_TAGS_OF_INTERIOR, (interior_id,), conn)]
