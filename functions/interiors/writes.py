"""Interior writes inside the caller's transaction: rows, slugs, references, images and the cover rule.

Each takes a connection and plain values (a parsed body, a `StreamedForm` whose files are already
stored); a failure raises `ApiError` and the caller's transaction rolls back, and the caller removes
the stored files. Image objects that a write drops are returned, to be deleted after the commit.
"""

from __future__ import annotations

import secrets
from typing import Any

from psycopg import AsyncConnection, errors

from functions.interiors import queries
from functions.interiors.inputs import MAX_GALLERY, InteriorCreate, InteriorUpdate
from shared.auth.guard import CurrentUser
from shared.db import fetch_all, fetch_one, fetch_val
from shared.domain.text import slugify
from shared.http.errors import ApiError, FieldError
from shared.http.forms import StreamedForm
from shared.http.ids import as_uuid
from shared.storage import delete_image, get_storage


async def check_references(
    conn: AsyncConnection[Any],
    *,
    category_id: int | None,
    style_id: int | None,
    render_platform_id: str | None,
) -> None:
    """Each reference must exist and be of the interior kind; 400 naming the field otherwise."""
    errors: list[FieldError] = []
    if category_id is not None:
        row = await fetch_one(queries.CATEGORY_TYPE, (category_id,), conn)
        if row is None or row["type"] != "interior":
            errors.append(FieldError("category_id", "must be an interior category"))
    if style_id is not None:
        row = await fetch_one(queries.STYLE_TYPE, (style_id,), conn)
        if row is None or row["type"] != 2:
            errors.append(FieldError("style_id", "must be an interior style"))
    if render_platform_id is not None:
        platform = as_uuid(render_platform_id)
        row = await fetch_one(queries.PLATFORM_TYPE, (platform,), conn) if platform else None
        if row is None or row["type"] != 2:
            errors.append(FieldError("render_platform_id", "must be a render platform"))
    if errors:
        raise ApiError("validation", errors=errors)


async def unique_slug(conn: AsyncConnection[Any], name: str, exclude: str | None = None) -> str:
    base = slugify(name, max_length=120)
    slug = base
    for _ in range(5):
        taken = await fetch_one(queries.SLUG_TAKEN, (slug, exclude), conn)
        if taken is None:
            return slug
        slug = f"{base}-{secrets.token_hex(3)}"
    return f"{base}-{secrets.token_hex(8)}"


async def insert_interior(conn: AsyncConnection[Any], body: InteriorCreate, user: CurrentUser) -> str:
    """The new interior's id; a slug taken by a concurrent insert is retried with a fresh one."""
    for _ in range(3):
        slug = await unique_slug(conn, body.name)
        try:
            async with conn.transaction():
                row = await fetch_one(
                    queries.INSERT_INTERIOR,
                    (slug, body.name, body.description, user.id, body.category_id, body.style_id,
                     as_uuid(body.render_platform_id)),
                    conn,
                )
            assert row is not None
            return str(row["id"])
        except errors.UniqueViolation:
            continue
    raise ApiError("conflict", errors=[FieldError("name", "could not find a free slug")])


async def update_fields(
    conn: AsyncConnection[Any], interior_id: str, current: dict[str, Any], body: InteriorUpdate
) -> None:
    """Write the fields the edit carries; a new name gets a new slug."""
    sets: dict[str, Any] = {}
    for name in ("name", "description", "category_id", "style_id"):
        value = getattr(body, name)
        if value is not None:
            sets[name] = value
    if body.render_platform_id is not None:
        sets["render_platform_id"] = as_uuid(body.render_platform_id)
    if body.name is not None and body.name != current["name"]:
        sets["slug"] = await unique_slug(conn, body.name, exclude=interior_id)
    if sets:
        await conn.execute(queries.update_interior_sql(sets), {**sets, "id": interior_id})


async def insert_images(
    conn: AsyncConnection[Any], interior_id: str, form: StreamedForm, *, start: int, cover: bool
) -> None:
    rows: list[tuple[str, str, bool, int]] = []
    if cover and form.file("cover") is not None:
        rows.append((interior_id, form.file("cover").key, True, 0))  # type: ignore[union-attr]
    for offset, stored in enumerate(form.filelist("images")):
        rows.append((interior_id, stored.key, False, start + offset))
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(queries.INSERT_IMAGE, rows)


async def next_image_position(conn: AsyncConnection[Any], interior_id: str) -> int:
    return await fetch_val(queries.NEXT_IMAGE_POSITION, (interior_id,), conn)


async def remove_images(conn: AsyncConnection[Any], interior_id: str, ids: list[str]) -> list[str]:
    """Delete these images of the interior; the keys of their objects. 400 if one is not its image."""
    if not ids:
        return []
    parsed = [as_uuid(v) for v in ids]
    if any(v is None for v in parsed):
        raise ApiError("validation", errors=[FieldError("removed_images", "must be image ids")])
    rows = await fetch_all(queries.DELETE_IMAGES, (interior_id, parsed), conn)
    if len(rows) != len(set(parsed)):
        raise ApiError("validation", errors=[FieldError("removed_images", "not images of this interior")])
    return [r["image_src"] for r in rows]


async def apply_form_images(conn: AsyncConnection[Any], interior_id: str, form: StreamedForm) -> list[str]:
    """An edit's new cover (replacing the old one, whose keys are returned) and gallery images."""
    replaced: list[str] = []
    if form.file("cover") is not None:
        old = await fetch_all(queries.DELETE_COVER, (interior_id,), conn)
        replaced = [r["image_src"] for r in old]
    start = await next_image_position(conn, interior_id)
    await insert_images(conn, interior_id, form, start=start, cover=True)
    await check_gallery_size(conn, interior_id)
    return replaced


async def check_gallery_size(conn: AsyncConnection[Any], interior_id: str) -> None:
    gallery = await fetch_val(queries.GALLERY_SIZE, (interior_id,), conn)
    if gallery > MAX_GALLERY:
        raise ApiError("validation", errors=[FieldError("images", f"at most {MAX_GALLERY} images per interior")])


async def ensure_cover(conn: AsyncConnection[Any], interior_id: str) -> None:
    """Keep exactly one cover while any image remains; an interior never loses its last image."""
    images = await fetch_all(queries.IMAGES_COVER_FIRST, (interior_id,), conn)
    if not images:
        raise ApiError("validation", errors=[FieldError("removed_images", "an interior keeps at least one image")])
    if not images[0]["is_main"]:
        await conn.execute(queries.MAKE_COVER, (images[0]["id"],))


async def delete_image_quietly(key: str) -> None:
    """After commit, best effort: what fails here the storage sweep finds as an orphan."""
    await delete_image(get_storage(), key)
