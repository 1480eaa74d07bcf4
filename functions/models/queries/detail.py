"""`GET /api/models/:identifier`: the full model in one statement, the community extras (interiors
that pin the model, whether the viewer saved it) and the view it counts."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from shared.db import connection, fetch_all, fetch_one
from shared.domain.common import image_prefix
from shared.domain.media import image_object
from shared.http.errors import ApiError
from shared.http.ids import as_uuid

log = logging.getLogger("tridmo.models")
USED_INTERIORS_LIMIT = 24

DETAIL_SQL = """
SELECT m.is_deleted, m.brand_id, json_build_object(
    'id', m.id, 'slug', m.slug, 'name', m.name, 'description', m.description,
    'availability', m.availability, 'top', m.top, 'furniture_cost', m.furniture_cost,
    'length', m.length, 'width', m.width, 'height', m.height,
    'brand', CASE WHEN b.id IS NULL THEN NULL ELSE json_build_object(
        'id', b.id, 'name', b.name, 'slug', b.slug, 'site_link', b.site_link, 'logo', b.logo,
        'country', CASE WHEN co.id IS NULL THEN NULL ELSE json_build_object('id', co.id, 'name', co.name) END) END,
    'category', CASE WHEN c.id IS NULL THEN NULL ELSE json_build_object('id', c.id, 'name', c.name,
        'parent', CASE WHEN cp.id IS NULL THEN NULL ELSE json_build_object('id', cp.id, 'name', cp.name) END) END,
    'style', CASE WHEN s.id IS NULL THEN NULL ELSE json_build_object('id', s.id, 'name', s.name) END,
    'model_platform', CASE WHEN mp.id IS NULL THEN NULL ELSE json_build_object('id', mp.id, 'name', mp.name) END,
    'render_platform', CASE WHEN rp.id IS NULL THEN NULL ELSE json_build_object('id', rp.id, 'name', rp.name) END,
    'materials', coalesce((SELECT json_agg(json_build_object('id', x.id, 'name', x.name) ORDER BY x.name)
                           FROM model_materials mm JOIN materials x ON x.id = mm.material_id
                           WHERE mm.model_id = m.id), '[]'::json),
    'colors', coalesce((SELECT json_agg(json_build_object('id', x.id, 'name', x.name, 'hex_value', x.hex_value)
                                        ORDER BY x.name)
                        FROM model_colors mc JOIN colors x ON x.id = mc.color_id
                        WHERE mc.model_id = m.id), '[]'::json),
    'images', coalesce((SELECT json_agg(json_build_object('id', i.id, 'image_src', i.image_src,
                                                          'url', %(img)s || i.image_src, 'is_main', i.is_main)
                                        ORDER BY i.is_main DESC, i.position, i.created_at)
                        FROM model_images i WHERE i.model_id = m.id), '[]'::json),
    'cover', coalesce((SELECT json_agg(json_build_object('image_src', i.image_src, 'url', %(img)s || i.image_src))
                       FROM model_images i WHERE i.model_id = m.id AND i.is_main), '[]'::json),
    'file', CASE WHEN m.file_key IS NULL THEN NULL
                 ELSE json_build_object('name', m.file_name, 'size', m.file_size, 'ext', m.file_ext) END,
    'counters', json_build_object('views', m.views_count, 'likes', m.likes_count, 'saves', m.saves_count,
                                  'downloads', m.downloads_count),
    'views_count', m.views_count, 'likes_count', m.likes_count, 'saves_count', m.saves_count,
    'downloads_count', m.downloads_count, 'is_deleted', m.is_deleted,
    'created_at', iso_utc(m.created_at), 'updated_at', iso_utc(m.updated_at)
)::text AS j
FROM models m
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN countries co ON co.id = b.country_id
LEFT JOIN categories c ON c.id = m.category_id
LEFT JOIN categories cp ON cp.id = c.parent_id
LEFT JOIN styles s ON s.id = m.style_id
LEFT JOIN platforms mp ON mp.id = m.model_platform_id
LEFT JOIN platforms rp ON rp.id = m.render_platform_id
"""


async def model_detail(identifier: str, *, include_deleted: bool = False, conn: Any = None) -> dict[str, Any]:
    model_id = as_uuid(identifier)
    where = "WHERE m.id = %(id)s" if model_id else "WHERE m.slug = %(slug)s"
    row = await fetch_one(DETAIL_SQL + where, {"img": image_prefix(), "id": model_id, "slug": identifier}, conn)
    if row is None or (row["is_deleted"] and not include_deleted):
        raise ApiError("not_found")
    return msgspec.json.decode(row["j"])


USED_INTERIORS_SQL = """
SELECT i.id, i.slug, i.name, cov.image_src AS cover_src
FROM interiors i
LEFT JOIN interior_images cov ON cov.interior_id = i.id AND cov.is_main
WHERE i.id IN (SELECT t.interior_id FROM interior_tags t WHERE t.model_id = %s)
  AND i.status = 1 AND NOT i.is_deleted
ORDER BY i.created_at DESC, i.id DESC
LIMIT %s
"""
SAVED_SQL = "SELECT 1 FROM saved_models WHERE user_id = %s AND model_id = %s"


async def model_extras(model_id: str, viewer_id: str | None) -> dict[str, Any]:
    """`{"used_interiors": [approved, live interiors pinning the model], "is_saved": bool}`."""
    model_uuid = as_uuid(model_id)
    if model_uuid is None:
        return {"used_interiors": [], "is_saved": False}
    async with connection() as conn:
        rows = await fetch_all(USED_INTERIORS_SQL, (model_uuid, USED_INTERIORS_LIMIT), conn)
        is_saved = False
        viewer = as_uuid(viewer_id) if viewer_id else None
        if viewer is not None:
            is_saved = await fetch_one(SAVED_SQL, (viewer, model_uuid), conn) is not None
    used = [
        {"id": str(r["id"]), "slug": r["slug"], "name": r["name"], "cover": image_object(r["cover_src"])}
        for r in rows
    ]
    return {"used_interiors": used, "is_saved": is_saved}


async def with_extras(model: dict[str, Any], viewer_id: str | None) -> dict[str, Any]:
    model.update(await model_extras(model["id"], viewer_id))
    return model


async def count_view(model_id: str, viewer_id: str | None) -> None:
    """Runs after the response is sent: append the view, then fold pending views if nobody else is."""
    try:
        async with connection() as conn:
            await conn.execute(
                "INSERT INTO model_view_events (model_id, viewer_id) VALUES (%s, %s)", (model_id, viewer_id)
            )
            await conn.execute("SELECT fold_model_views()")
    except Exception:  # a lost view must never surface as an error
        log.warning("could not count a model view", exc_info=True)
