"""What model requests carry: the list's query-string filters as plain values, and the write bodies.

The list readers take `request.query_params` (a QueryParams), not the Request, and use shared.http's
query helpers, so a bad value is the same 400 naming the field as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import msgspec
from starlette.datastructures import QueryParams

from shared.http.errors import ApiError, FieldError
from shared.http.forms import FileRule
from shared.http.ids import as_uuid, field_uuid
from shared.http.validation import query_bool, query_int, query_int_list, query_list

MAX_GALLERY = 20
MAX_NAME_FILTER = 200
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10000)]
Availability = Annotated[int, msgspec.Meta(ge=1, le=3)]
Cost = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
Size = Annotated[float, msgspec.Meta(ge=0, le=1e8)]
UNSET: Any = msgspec.UNSET
Unset = msgspec.UnsetType
ARRAYS = ("materials", "colors", "removed_images")
LINK_ARRAYS = ("materials", "colors")


# List filters --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListFilter:
    """`GET /api/models` (and `/count`) filters, parsed; None or empty means "not filtered"."""

    deleted: bool | None = None
    name: str = ""
    top: bool | None = None
    brand_id: str | None = None
    country_id: str | None = None
    availability: int | None = None
    categories: list[int] = field(default_factory=list)
    styles: list[int] = field(default_factory=list)
    colors: list[int] = field(default_factory=list)
    materials: list[int] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)



def _uuid(query: QueryParams, name: str) -> str | None:
    value = query.get(name)
    return field_uuid(value, name) if value else None


def _uuids(query: QueryParams, name: str) -> list[str]:
    parsed = [as_uuid(v) for v in query_list(query, name)]
    if any(p is None for p in parsed):
        raise ApiError("validation", errors=[FieldError(name, "expected UUIDs")])
    return parsed  # type: ignore[return-value]


def list_filters(query: QueryParams, *, is_admin: bool = False, with_deleted_flag: bool = True) -> ListFilter:
    """Checked in the order the contract reports them: only admins list deleted models (403 first)."""
    deleted = query_bool(query, "is_deleted") if with_deleted_flag else None
    if deleted and not is_admin:
        raise ApiError("access_denied")
    name = (query.get("name") or "").strip()
    if len(name) > MAX_NAME_FILTER:
        raise ApiError("validation", errors=[FieldError("name", "at most 200 characters")])
    top = query_bool(query, "top")
    brand_id = _uuid(query, "brand_id")
    country_id = _uuid(query, "country_id")
    availability = query_int(query, "availability")
    if availability is not None and availability not in (1, 2, 3):
        raise ApiError("validation", errors=[FieldError("availability", "must be 1, 2 or 3")])
    return ListFilter(
        deleted=deleted, name=name, top=top, brand_id=brand_id, country_id=country_id, availability=availability,
        categories=query_int_list(query, "categories"), styles=query_int_list(query, "styles"),
        colors=query_int_list(query, "colors"), materials=query_int_list(query, "materials"),
        exclude=_uuids(query, "exclude_models"),
    )


def cart_ids(query: QueryParams) -> list[str]:
    """`GET /api/models/cart?in=...`: the ids, in the order given."""
    return [field_uuid(v, "in") for v in query_list(query, "in")]


# Write bodies --------------------------------------------------------------------------------------
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


class LinksIn(msgspec.Struct, forbid_unknown_fields=False):
    materials: list[int] = []
    colors: list[int] = []
    material_id: int | None = None
    color_id: int | None = None


def file_rules(*, cover_required: bool, archive: bool = True) -> dict[str, FileRule]:
    """What a model form may stream to storage: cover, gallery images and (on create) the archive."""
    rules = {
        "cover": FileRule(kind="image", preset="model_cover", required=cover_required),
        "images": FileRule(kind="image", preset="model_image", max_count=MAX_GALLERY),
    }
    if archive:
        rules["file"] = FileRule(kind="model_archive", prefix="models")
    return rules
