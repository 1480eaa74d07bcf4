"""What a model page adds from the community side (the catalogue's GET /api/models/:identifier merges it)."""

from __future__ import annotations

from typing import Any

from shared.db import connection, fetch_all, fetch_one
from shared.domain.media import image_object
from shared.http.ids import as_uuid

USED_INTERIORS_LIMIT = 24

_USED_INTERIORS = """
SELECT i.id, i.slug, i.name, cov.image_src AS cover_src
FROM interiors i
LEFT JOIN interior_images cov ON cov.interior_id = i.id AND cov.is_main
WHERE i.id IN (SELECT t.interior_id FROM interior_tags t WHERE t.model_id = %s)
  AND i.status = 1 AND NOT i.is_deleted
ORDER BY i.created_at DESC, i.id DESC
LIMIT %s
"""


async def model_extras(model_id: str, viewer_id: str | None) -> dict[str, Any]:
    """`{"used_interiors": [approved, live interiors pinning the model], "is_saved": bool}`."""
    model_uuid = as_uuid(model_id)
    if model_uuid is None:
        return {"used_interiors": [], "is_saved": False}
    async with connection() as conn:
        rows = await fetch_all(_USED_INTERIORS, (model_uuid, USED_INTERIORS_LIMIT), conn)
        is_saved = False
        viewer = as_uuid(viewer_id) if viewer_id else None
        if viewer is not None:
            saved = "SELECT 1 FROM saved_models WHERE user_id = %s AND model_id = %s"
            is_saved = await fetch_one(saved, (viewer, model_uuid), conn) is not None
    used = [
        {"id": str(r["id"]), "slug": r["slug"], "name": r["name"], "cover": image_object(r["cover_src"])}
        for r in rows
    ]
    return {"used_interiors": used, "is_saved": is_saved}
