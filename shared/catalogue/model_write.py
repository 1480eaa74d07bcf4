"""Model writes: create, edit, archive replacement, gallery images, materials and colours, soft delete.

Objects first, rows second: files are stored (under fresh keys) while the form streams in, then every
row is written in one transaction; if that fails the new objects are deleted. Replaced objects are
deleted only after the commit, and only when no other row still points at them.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

import msgspec
from psycopg import errors

from shared.auth.guard import CurrentUser
from shared.catalogue.access import check_owner, editable_model
from shared.catalogue.model_detail import model_detail
from shared.catalogue.slugs import free_slug
from shared.catalogue.uploads import AttachedUpload, claim_upload
from shared.db import execute, fetch_all, fetch_one, transaction
from shared.domain.common import api_error_from_db
from shared.domain.text import clean_description
from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid

log = logging.getLogger("tridmo.models")
MAX_GALLERY = 20
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10000)]
Availability = Annotated[int, msgspec.Meta(ge=1, le=3)]
Cost = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
Size = Annotated[float, msgspec.Meta(ge=0, le=1e8)]
UNSET: Any = msgspec.UNSET
Unset = msgspec.UnsetType
ARRAYS = ("materials", "colors", "removed_images")
MODEL_COLUMNS = (
    "name", "description", "brand_id", "category_id", "style_id", "model_platform_id", "render_platform_id",
    "availability", "top", "furniture_cost", "length", "width", "height",
)


class ModelIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    category_id: int
    description: Description | None = None
    brand_id: UUID | None = None
    style_id: int | None = None
    model_platform_id: UUID | None = None
    render_platform_id: UUID | None = None
    materials: list[int] = []
    colors: list[int] = []
    availability: Availability = 1
    top: bool = False
    furniture_cost: Cost | None = None
    length: Size | None = None
    width: Size | None = None
    height: Size | None = None
    upload_id: str | None = None


class ModelEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET
    category_id: int | Unset = UNSET
    description: Description | None | Unset = UNSET
    brand_id: UUID | None | Unset = UNSET
    style_id: int | None | Unset = UNSET
    model_platform_id: UUID | None | Unset = UNSET
    render_platform_id: UUID | None | Unset = UNSET
    materials: list[int] | Unset = UNSET
    colors: list[int] | Unset = UNSET
    availability: Availability | Unset = UNSET
    top: bool | Unset = UNSET
    furniture_cost: Cost | None | Unset = UNSET
    length: Size | None | Unset = UNSET
    width: Size | None | Unset = UNSET
    height: Size | None | Unset = UNSET
    removed_images: list[str] = []


class FileIn(msgspec.Struct, forbid_unknown_fields=False):
    upload_id: str | None = None


def file_rules(*, cover_required: bool, archive: bool = True) -> dict[str, Any]:
    from shared.http.forms import FileRule

    rules = {
        "cover": FileRule(kind="image", preset="model_cover", required=cover_required),
        "images": FileRule(kind="image", preset="model_image", max_count=MAX_GALLERY),
    }
    if archive:
        rules["file"] = FileRule(kind="model_archive", prefix="models")
    return rules


def _db_error(exc: Exception) -> ApiError:
    name = getattr(getattr(exc, "diag", None), "constraint_name", "") or ""
    if isinstance(exc, errors.ForeignKeyViolation):
        if "material" in name:
            return ApiError("validation", errors=[FieldError("materials", "unknown reference")])
        if "color" in name:
            return ApiError("validation", errors=[FieldError("colors", "unknown reference")])
    return api_error_from_db(exc, columns=MODEL_COLUMNS) or ApiError("internal")


_DB_ERRORS = (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation)


async def _archive(conn: Any, form: Any, upload_id: str | None, user: CurrentUser) -> AttachedUpload | None:
    stored = form.file("file") if form is not None else None
    if stored is not None and upload_id:
        raise ApiError("validation", errors=[FieldError("upload_id", "give a file or an upload_id, not both")])
    if stored is not None:
        return AttachedUpload(stored.key, stored.size, stored.filename or f"model.{stored.ext}", stored.ext)
    if upload_id:
        return await claim_upload(conn, upload_id, user.id)
    return None


async def _set_links(conn: Any, model_id: str, table: str, column: str, ids: list[int], replace: bool) -> None:
    if replace:
        await conn.execute(f"DELETE FROM {table} WHERE model_id = %s", (model_id,))  # noqa: S608
    if ids:
        await conn.execute(
            f"INSERT INTO {table} (model_id, {column}) SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING",  # noqa: S608
            (model_id, sorted(set(ids))),
        )


async def _add_images(conn: Any, model_id: str, cover: Any, images: list[Any]) -> None:
    if cover is not None:
        await conn.execute(
            "INSERT INTO model_images (model_id, image_src, is_main, position) VALUES (%s, %s, true, 0)",
            (model_id, cover.key),
        )
    if images:
        row = await fetch_one(
            "SELECT count(*) AS n, coalesce(max(position), 0) AS last FROM model_images"
            " WHERE model_id = %s AND NOT is_main", (model_id,), conn,
        )
        if row["n"] + len(images) > MAX_GALLERY:
            raise ApiError("validation", errors=[FieldError("images", f"at most {MAX_GALLERY} gallery images")])
        await conn.execute(
            "INSERT INTO model_images (model_id, image_src, position)"
            " SELECT %s, src, %s + ord FROM unnest(%s::text[]) WITH ORDINALITY AS x (src, ord)",
            (model_id, row["last"], [i.key for i in images]),
        )


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
            await _set_links(conn, model_id, "model_materials", "material_id", body.materials, False)
            await _set_links(conn, model_id, "model_colors", "color_id", body.colors, False)
            return await model_detail(model_id, conn=conn)
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def _insert_with_slug(conn: Any, values: dict[str, Any]) -> str:
    columns = ", ".join(["slug", *values])
    placeholders = ", ".join(["%(slug)s", *(f"%({c})s" for c in values)])
    for attempt in range(5):
        slug = await free_slug(conn, "models", values["name"], 140)
        try:
            async with conn.transaction():
                row = await fetch_one(
                    f"INSERT INTO models ({columns}) VALUES ({placeholders}) RETURNING id",  # noqa: S608
                    {**values, "slug": slug}, conn,
                )
            return str(row["id"])
        except errors.UniqueViolation as exc:
            if "slug" not in (exc.diag.constraint_name or "") or attempt == 4:
                raise
    raise AssertionError("unreachable")


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
                sets = ", ".join(f"{k} = %({k})s" for k in fields)
                await conn.execute(
                    f"UPDATE models SET {sets}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
                    {**fields, "id": model_id},
                )
            if removed:
                rows = await fetch_all(
                    "DELETE FROM model_images WHERE model_id = %s AND id = ANY(%s::uuid[]) AND NOT is_main"
                    " RETURNING image_src", (model_id, removed), conn,
                )
                dropped += [r["image_src"] for r in rows]
            cover = form.file("cover") if form is not None else None
            if cover is not None:
                rows = await fetch_all(
                    "DELETE FROM model_images WHERE model_id = %s AND is_main RETURNING image_src", (model_id,), conn
                )
                dropped += [r["image_src"] for r in rows]
            await _add_images(conn, model_id, cover, form.filelist("images") if form is not None else [])
            if materials is not None:
                await _set_links(conn, model_id, "model_materials", "material_id", materials, True)
            if colors is not None:
                await _set_links(conn, model_id, "model_colors", "color_id", colors, True)
            return await model_detail(model_id, conn=conn), dropped
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def replace_file(user: CurrentUser, model_id: str, form: Any, upload_id: str | None) -> tuple[dict, str | None]:
    async with transaction() as conn:
        current = await editable_model(user, model_id, conn, lock=True)
        archive = await _archive(conn, form, upload_id, user)
        if archive is None:
            raise ApiError("validation", errors=[FieldError("file", "field_required")])
        await conn.execute(
            "UPDATE models SET file_key = %s, file_name = %s, file_size = %s, file_ext = %s, updated_at = now()"
            " WHERE id = %s", (archive.key, archive.filename, archive.size, archive.ext, model_id),
        )
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
        image = await fetch_one(
            "SELECT i.id, i.image_src, i.is_main, m.brand_id FROM model_images i JOIN models m ON m.id = i.model_id"
            " WHERE i.id = %s AND NOT m.is_deleted FOR UPDATE OF i", (image_id,), conn,
        )
        if image is None:
            raise ApiError("not_found")
        check_owner(user, image["brand_id"])
        if image["is_main"]:
            raise ApiError("validation", errors=[FieldError("image_id", "the cover is replaced, not removed")])
        await conn.execute("DELETE FROM model_images WHERE id = %s", (image_id,))
    return image["image_src"]


LINKS = {"materials": ("model_materials", "material_id"), "colors": ("model_colors", "color_id")}


async def add_links(user: CurrentUser, model_id: str, kind: str, ids: list[int]) -> dict[str, Any]:
    table, column = LINKS[kind]
    if not ids:
        raise ApiError("validation", errors=[FieldError(kind, "field_required")])
    try:
        async with transaction() as conn:
            await editable_model(user, model_id, conn, lock=True)
            await _set_links(conn, model_id, table, column, ids, False)
            await conn.execute("UPDATE models SET updated_at = now() WHERE id = %s", (model_id,))
            return await model_detail(model_id, conn=conn)
    except _DB_ERRORS as exc:
        raise _db_error(exc) from None


async def remove_link(user: CurrentUser, model_id: str, kind: str, link_id: int) -> None:
    table, column = LINKS[kind]
    async with transaction() as conn:
        await editable_model(user, model_id, conn, lock=True)
        row = await fetch_one(
            f"DELETE FROM {table} WHERE model_id = %s AND {column} = %s RETURNING model_id",  # noqa: S608
            (model_id, link_id), conn,
        )
        if row is None:
            raise ApiError("not_found")


async def soft_delete(user: CurrentUser, model_id: str) -> None:
    async with transaction() as conn:
        await editable_model(user, model_id, conn, lock=True)
        await conn.execute(
            "UPDATE models SET is_deleted = true, deleted_at = now(), top = false, updated_at = now() WHERE id = %s",
            (model_id,),
        )


async def delete_unused_images(keys: list[str]) -> None:
    """After the commit: remove image objects (all derivatives) no row refers to any more."""
    if not keys:
        return
    from shared.storage import delete_image, get_storage

    used = await fetch_all("SELECT DISTINCT image_src FROM model_images WHERE image_src = ANY(%s)", (keys,))
    in_use = {r["image_src"] for r in used}
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
    if await fetch_one("SELECT 1 FROM models WHERE file_key = %s LIMIT 1", (key,)):
        return
    from shared.storage import get_storage

    try:
        await get_storage().delete("files", key)
        await execute("DELETE FROM uploads WHERE object_key = %s AND status = 'attached'", (key,))
    except Exception:
        log.warning("could not delete an archive after commit", extra={"key": key})
