"""Model writes: create, edit, archive replacement, gallery images, materials and colours, soft delete.

Objects first, rows second: files are stored (under fresh keys) while the form streams in, then every
row is written in one transaction; if that fails the new objects are deleted. Replaced objects are
deleted only after the commit, and only when no other row still points at them. The statements are
in queries/writes.py; this module decides their order and what a database error means to the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
from psycopg import AsyncConnection, errors

from functions.models.access import check_owner, editable_model
from functions.models.inputs import MAX_GALLERY, UNSET, ModelEdit, ModelIn
from functions.models.queries import writes as q
from functions.models.queries.detail import model_detail
from shared.auth.guard import CurrentUser
from shared.db import transaction
from shared.domain.common import api_error_from_db
from shared.domain.text import clean_description, slugify
from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid
from shared.storage import delete_image, get_storage
from shared.storage.uploads import claim_upload as claim_direct_upload

log = logging.getLogger("tridmo.models")
MODEL_COLUMNS = (
    "name", "description", "brand_id", "category_id", "style_id", "model_platform_id", "render_platform_id",
    "availability", "top", "furniture_cost", "length", "width", "height",
)
SLUG_LENGTH = 140


def _db_error(exc: Exception) -> ApiError:
    name = getattr(getattr(exc, "diag", None), "constraint_name", "") or ""
    if isinstance(exc, errors.ForeignKeyViolation):
        if "material" in name:
            return ApiError("validation", errors=[FieldError("materials", "unknown reference")])
        if "color" in name:
            return ApiError("validation", errors=[FieldError("colors", "unknown reference")])
    return api_error_from_db(exc, columns=MODEL_COLUMNS) or ApiError("internal")


_DB_ERRORS = (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation)


# The archive: streamed with the form, or a completed direct upload (`/api/uploads`) -------------
@dataclass(frozen=True)
class AttachedUpload:
    key: str
    size: int
    filename: str
    ext: str


async def claim_upload(conn: Any, upload_id: str, user_id: str) -> AttachedUpload:
    """The uploads group owns the table and the rules (`shared.storage.uploads.claim_upload`: the
    caller's own, completed, unexpired upload of kind `model_archive`, marked attached in the caller's
    transaction); this only turns what it returns into the model's file columns."""
    if as_uuid(upload_id) is None:
        raise ApiError("validation", errors=[FieldError("upload_id", "no completed upload with this id")])
    claimed = await claim_direct_upload(upload_id, owner_id=user_id, kind="model_archive", conn=conn)
    return AttachedUpload(claimed.key, int(claimed.size or 0), (claimed.filename or "model")[:255],
                          (claimed.file_type or "")[:10])


async def _archive(conn: Any, form: Any, upload_id: str | None, user: CurrentUser) -> AttachedUpload | None:
    stored = form.file("file") if form is not None else None
    if stored is not None and upload_id:
        raise ApiError("validation", errors=[FieldError("upload_id", "give a file or an upload_id, not both")])
    if stored is not None:
        return AttachedUpload(stored.key, stored.size, stored.filename or f"model.{stored.ext}", stored.ext)
    if upload_id:
        return await claim_upload(conn, upload_id, user.id)
    return None


async def _add_images(conn: Any, model_id: str, cover: Any, images: list[Any]) -> None:
    if cover is not None:
        await q.insert_cover(conn, model_id, cover.key)
    if images:
        count, last = await q.gallery_size(conn, model_id)
        if count + len(images) > MAX_GALLERY:
            raise ApiError("validation", errors=[FieldError("images", f"at most {MAX_GALLERY} gallery images")])
        await q.insert_gallery(conn, model_id, last, [i.key for i in images])


# Unique ASCII slugs from (often Cyrillic) names --------------------------------------------------
async def free_slug(conn: AsyncConnection[Any], name: str, max_length: int = SLUG_LENGTH) -> str:
    """`divan-chester`, or `divan-chester-2`, `-3`, ... (one indexed query; callers retry on a race)."""
    base = slugify(name, max_length - 8)
    taken = await q.taken_slugs(conn, base)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def _insert_with_slug(conn: Any, values: dict[str, Any]) -> str:
    """Insert under the first free slug; a concurrent insert that took it means another try (5 at most)."""
    for attempt in range(5):
        slug = await free_slug(conn, values["name"])
        try:
            async with conn.transaction():
                return await q.insert_model(conn, {"slug": slug, **values})
        except errors.UniqueViolation as exc:
            if "slug" not in (exc.diag.constraint_name or "") or attempt == 4:
                raise
    raise AssertionError("unreachable")


# Writes --------------------------------------------------------------------------------------------
async def create_model(user: CurrentUser, body: ModelIn, form: Any) -> dict[str, Any]:
    brand_id = str(body.brand_id) if body.brand_id else None
    if not user.is_admin:
        if not user.brand_id or (brand_id and brand_id != user.brand_id):
            raise ApiError("access_denied")
        brand_id = user.brand_id
    values = {
        "name": body.name.strip(), "description": clean_description(body.description), "brand_id": brand_id,
        "category_id": body.category_id, "style_id": body.style_id, "model_platform_id": body.model_platform_id,
        "render_platform_id": body.render_platform_id, "availability": body.availability,
        "top": body.top and body.availability != 2, "furniture_cost": body.furniture_cost,
        "length": body.length, "width": body.width, "height": body.height,
    }
    try:
        async with transaction() as conn:
            archive = await _archive(conn, form, body.upload_id, user)
            if archive is None:
                raise ApiError("validation", errors=[FieldError("file", "field_required")])
            values.update(file_key=archive.key, file_name=archive.filename, file_size=archive.size,
                          file_ext=archive.ext)
            model_id = await _insert_with_slug(conn, values)
            await _add_images(conn, model_id, form.file("cover"), form.filelist("images"))
            await q.set_links(conn, model_id, "materials", body.materials, replace=False)
            await q.set_links(conn, model_id, "colors", body.colors, replace=False)
            return await model_detail(model_id, conn=conn)
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def update_model(user: CurrentUser, model_id: str, body: ModelEdit, form: Any) -> tuple[dict, list[str]]:
    """Returns the model and the image keys it no longer uses (deleted after the commit)."""
    fields = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not UNSET}
    removed = [r for r in (as_uuid(i) for i in fields.pop("removed_images", [])) if r]
    materials = fields.pop("materials", None)
    colors = fields.pop("colors", None)
    if "description" in fields:
        fields["description"] = clean_description(fields["description"])
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    if "brand_id" in fields:
        fields["brand_id"] = str(fields["brand_id"]) if fields["brand_id"] else None
        if not user.is_admin and fields["brand_id"] != user.brand_id:
            raise ApiError("access_denied")
    dropped: list[str] = []
    try:
        async with transaction() as conn:
            current = await editable_model(user, model_id, conn, lock=True)
            availability = fields.get("availability", current["availability"])
            if availability == 2:
                fields["top"] = False
            if fields:
                await q.update_model_row(conn, model_id, fields)
            if removed:
                dropped += await q.delete_gallery_images(conn, model_id, removed)
            cover = form.file("cover") if form is not None else None
            if cover is not None:
                dropped += await q.delete_cover(conn, model_id)
            await _add_images(conn, model_id, cover, form.filelist("images") if form is not None else [])
            if materials is not None:
                await q.set_links(conn, model_id, "materials", materials, replace=True)
            if colors is not None:
                await q.set_links(conn, model_id, "colors", colors, replace=True)
            return await model_detail(model_id, conn=conn), dropped
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def replace_file(user: CurrentUser, model_id: str, form: Any, upload_id: str | None) -> tuple[dict, str | None]:
    async with transaction() as conn:
        current = await editable_model(user, model_id, conn, lock=True)
        archive = await _archive(conn, form, upload_id, user)
        if archive is None:
            raise ApiError("validation", errors=[FieldError("file", "field_required")])
        await q.set_archive(conn, model_id, archive.key, archive.filename, archive.size, archive.ext)
        model = await model_detail(model_id, conn=conn)
    old = current["file_key"] if current["file_key"] != archive.key else None
    return model, old


async def add_images(user: CurrentUser, model_id: str, form: Any) -> dict[str, Any]:
    images = form.filelist("images") if form is not None else []
    if not images:
        raise ApiError("validation", errors=[FieldError("images", "field_required")])
    async with transaction() as conn:
        await editable_model(user, model_id, conn, lock=True)
        await _add_images(conn, model_id, None, images)
        return await model_detail(model_id, conn=conn)


async def remove_image(user: CurrentUser, image_id: str) -> str:
    async with transaction() as conn:
        image = await q.locked_image(conn, image_id)
        if image is None:
            raise ApiError("not_found")
        check_owner(user, image["brand_id"])
        if image["is_main"]:
            raise ApiError("validation", errors=[FieldError("image_id", "the cover is replaced, not removed")])
        await q.delete_image_row(conn, image_id)
    return image["image_src"]


async def add_links(user: CurrentUser, model_id: str, kind: str, ids: list[int]) -> dict[str, Any]:
    if not ids:
        raise ApiError("validation", errors=[FieldError(kind, "field_required")])
    try:
        async with transaction() as conn:
            await editable_model(user, model_id, conn, lock=True)
            await q.set_links(conn, model_id, kind, ids, replace=False)
            await q.touch_model(conn, model_id)
            return await model_detail(model_id, conn=conn)
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def remove_link(user: CurrentUser, model_id: str, kind: str, link_id: int) -> None:
    async with transaction() as conn:
        await editable_model(user, model_id, conn, lock=True)
        if not await q.delete_link(conn, model_id, kind, link_id):
            raise ApiError("not_found")


async def soft_delete(user: CurrentUser, model_id: str) -> None:
    async with transaction() as conn:
        await editable_model(user, model_id, conn, lock=True)
        await q.soft_delete_model(conn, model_id)


# After the commit ----------------------------------------------------------------------------------
async def delete_unused_images(keys: list[str]) -> None:
    """After the commit: remove image objects (all derivatives) no row refers to any more."""
    if not keys:
        return
    in_use = await q.images_in_use(keys)
    for key in keys:
        if key in in_use:
            continue
        try:
            await delete_image(get_storage(), key)
        except Exception:
            log.warning("could not delete an image after commit", extra={"key": key})


async def delete_unused_file(key: str | None) -> None:
    if not key:
        return
    if await q.archive_in_use(key):
        return
    try:
        await get_storage().delete("files", key)
        await q.forget_attached_upload(key)
    except Exception:
        log.warning("could not delete an archive after commit", extra={"key": key})
