"""Tag inputs: the pin body (x, y in percent of the image) and the admin list's search filters."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.datastructures import QueryParams

Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class TagBody(msgspec.Struct, forbid_unknown_fields=False):
    model_id: str
    interior_id: str
    interior_image_id: str
    x: Percent
    y: Percent


class TagFilters(msgspec.Struct, frozen=True):
    """Substrings to search for; empty means no filter."""

    user_name: str = ""
    model_name: str = ""
    interior_name: str = ""


def tag_filters(query: QueryParams) -> TagFilters:
    return TagFilters(
        user_name=(query.get("user_name") or "").strip(),
        model_name=(query.get("model_name") or "").strip(),
        interior_name=(query.get("interior_name") or "").strip(),
    )
