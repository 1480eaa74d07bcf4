"""Dictionary inputs: entry ids from paths, list filters from query strings, the category image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.common import path_int
from shared.domain.dictionaries import Dictionary
from shared.http.errors import ApiError, FieldError
from shared.http.forms import FileRule
from shared.http.ids import uuid_or_404

CATEGORY_TYPES = ("model", "interior")
CATEGORY_FILES: dict[str, FileRule] = {"image": FileRule(kind="image", preset="category")}


def entry_id(spec: Dictionary, raw: str) -> Any:
    """An int id for most dictionaries, a UUID for platforms and countries (404 when malformed)."""
    return path_int(raw) if spec.int_id else uuid_or_404(raw)


def image_rules(spec: Dictionary) -> dict[str, FileRule] | None:
    """Only categories carry an image; the others refuse multipart bodies."""
    return CATEGORY_FILES if spec.has_image else None


def list_params(spec: Dictionary, query: Mapping[str, str]) -> dict[str, str]:
    """The list's query string as a dict, with `type` and `parent_id` checked (400 naming the field)."""
    params = dict(query)
    if "type" in spec.filters and params.get("type") not in (None, ""):
        allowed = CATEGORY_TYPES if spec.key == "categories" else ("1", "2")
        if params["type"] not in allowed:
            raise ApiError("validation", errors=[FieldError("type", f"must be one of: {', '.join(allowed)}")])
    if params.get("parent_id") and not params["parent_id"].isdigit():
        raise ApiError("validation", errors=[FieldError("parent_id", "expected an integer")])
    return params


def category_type(value: str | None) -> str | None:
    """`?type=` of the main categories: model, interior or nothing."""
    category = value or None
    if category not in (None, *CATEGORY_TYPES):
        raise ApiError("validation", errors=[FieldError("type", "must be one of: model, interior")])
    return category
