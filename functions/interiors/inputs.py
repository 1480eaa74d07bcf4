"""Interior inputs as plain validated values: create/edit fields, the moderation body, the list's query.

Create and edit come as streamed multipart forms (or JSON for edits without files). Images are stored
while the form streams; when the fields turn out invalid or the DB write fails, `form.cleanup()` removes
them, so a rejected request leaves no orphaned objects behind.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from starlette.datastructures import QueryParams

from shared.http.errors import ApiError, FieldError
from shared.http.forms import FileRule, StreamedForm
from shared.http.ids import field_uuid, query_uuid_list
from shared.http.validation import array_values, convert, query_int_list, query_list

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


class StatusBody(msgspec.Struct):
    status: Annotated[int, msgspec.Meta(ge=0, le=2)]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


CREATE_FILES = {
    "cover": FileRule(kind="image", preset="interior_cover", required=True),
    "images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY),
}
UPDATE_FILES = {
    "cover": FileRule(kind="image", preset="interior_cover"),
    "images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY),
}
GALLERY_FILES = {"images": FileRule(kind="image", preset="interior_image", max_count=MAX_GALLERY, required=True)}



def form_fields(form: StreamedForm, names: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if value is not None and value != "":
            data[name] = value
    return data


def create_body(form: StreamedForm) -> InteriorCreate:
    """The create fields of a parsed form; a gallery image is required besides the cover."""
    body = convert(form_fields(form, tuple(InteriorCreate.__struct_fields__)), InteriorCreate)
    if not form.filelist("images"):
        raise ApiError("validation", errors=[FieldError("images", "at least one image is required")])
    return body


def update_body(form: StreamedForm) -> InteriorUpdate:
    data = form_fields(form, ("name", "category_id", "style_id", "render_platform_id", "description"))
    removed = form.getlist("removed_images") + form.getlist("removed_images[]")
    data["removed_images"] = array_values("removed_images", removed)
    return convert(data, InteriorUpdate)


class ListFilters(msgspec.Struct, frozen=True):
    """GET /api/interiors filters, validated; empty means no filter."""

    status: int | None = None
    name: str = ""
    categories: list[int] = []
    styles: list[int] = []
    platforms: list[str] = []
    author: str = ""
    has_models_of_brand: str | None = None



def list_filters(query: QueryParams) -> ListFilters:
    """The list's filters, checked in the order the fields are listed (the first bad one is the 400)."""
    status = query.get("status")
    if status not in (None, "") and status not in ("0", "1", "2"):
        raise ApiError("validation", errors=[FieldError("status", "must be 0, 1 or 2")])
    name = (query.get("name") or "").strip()
    categories = query_int_list(query, "categories")
    styles = query_int_list(query, "styles")
    platforms = query_list(query, "platforms")
    author = (query.get("author") or "").strip()
    brand = (query.get("has_models_of_brand") or "").strip()
    return ListFilters(
        status=int(status) if status else None,
        name=name,
        categories=categories,
        styles=styles,
        platforms=query_uuid_list(platforms, "platforms") if platforms else [],
        author=author,
        has_models_of_brand=field_uuid(brand, "has_models_of_brand") if brand else None,
    )
