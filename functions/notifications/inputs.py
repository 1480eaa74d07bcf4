"""Notification inputs: the ids to mark or delete, from a JSON body or the query string."""

from __future__ import annotations

import msgspec

from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid


class IdsBody(msgspec.Struct, forbid_unknown_fields=False):
    ids: list[str]


def notification_ids(values: list[str], field: str = "ids") -> list[str]:
    """At least one id, each a UUID; 400 naming the field otherwise."""
    if not values:
        raise ApiError("validation", errors=[FieldError(field, "field_required")])
    return [field_uuid(v, field) for v in values]
