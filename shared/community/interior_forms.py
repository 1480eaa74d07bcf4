"""Interior create/edit input: streamed multipart forms (or JSON for edits without files), validated.

Images are stored while the form streams; when the fields turn out invalid or the DB write fails,
`form.cleanup()` removes them, so a rejected request leaves no orphaned objects behind.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from psycopg import AsyncConnection
from starlette.requests import Request

from shared.db import fetch_one
from shared.http.errors import ApiError, FieldError
from shared.http.forms import FileRule, StreamedForm, parse_streamed_form
from shared.http.ids import as_uuid
from shared.http.validation import convert, parse_body

MAX_GALLERY = 30
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10000)]


class InteriorCreate(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    category_id: int
    style_id: int
    render_platform_id: str
    description: Description | None = None


class InteriorUpdate(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | None = None
    category_id: int | None = None
    style_id: int | None = None
    render_platform_id: str | None = None
    description: Description | None = None
    removed_images: list[str] = []


CREATE_FILES = {
    "cover": FileRule(kind="image", preset="interior_cover", required=True),
    "images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY),
}
UPDATE_FILES = {
    "cover": FileRule(kind="image", preset="interior_cover"),
    "images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY),
}
GALLERY_FILES = {"images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY, required=True)}


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def form_list(values: list[str]) -> list[str]:
    """A form array: repeated fields, or one JSON array string (`["a","b"]`)."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        if value.startswith("["):
            try:
                decoded = msgspec.json.decode(value)
            except msgspec.DecodeError:
                raise ApiError("validation", errors=[FieldError("removed_images", "malformed array")]) from None
            if not isinstance(decoded, list):
                raise ApiError("validation", errors=[FieldError("removed_images", "malformed array")])
            out.extend(str(v) for v in decoded if v)
        elif value:
            out.extend(part for part in value.split(",") if part)
    return out


def form_fields(form: StreamedForm, names: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if value is not None and value != "":
            data[name] = value
    return data


async def read_create(request: Request) -> tuple[InteriorCreate, StreamedForm]:
    if not is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    form = await parse_streamed_form(request, CREATE_FILES)
    try:
        body = convert(form_fields(form, tuple(InteriorCreate.__struct_fields__)), InteriorCreate)
        if not form.filelist("images"):
            raise ApiError("validation", errors=[FieldError("images", "at least one image is required")])
    except BaseException:
        await form.cleanup()
        raise
    return body, form


async def read_update(request: Request) -> tuple[InteriorUpdate, StreamedForm | None]:
    if not is_multipart(request):
        return await parse_body(request, InteriorUpdate), None
    form = await parse_streamed_form(request, UPDATE_FILES)
    try:
        data = form_fields(form, ("name", "category_id", "style_id", "render_platform_id", "description"))
        data["removed_images"] = form_list(form.getlist("removed_images") + form.getlist("removed_images[]"))
        body = convert(data, InteriorUpdate)
    except BaseException:
        await form.cleanup()
        raise
    return body, form


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
        row = await fetch_one("SELECT type FROM categories WHERE id = %s", (category_id,), conn)
        if row is None or row["type"] != "interior":
            errors.append(FieldError("category_id", "must be an interior category"))
    if style_id is not None:
        row = await fetch_one("SELECT type FROM styles WHERE id = %s", (style_id,), conn)
        if row is None or row["type"] != 2:
            errors.append(FieldError("style_id", "must be an interior style"))
    if render_platform_id is not None:
        platform = as_uuid(render_platform_id)
        row = await fetch_one("SELECT type FROM platforms WHERE id = %s", (platform,), conn) if platform else None
        if row is None or row["type"] != 2:
            errors.append(FieldError("render_platform_id", "must be a render platform"))
    if errors:
        raise ApiError("validation", errors=errors)
